/*
 * corewire_engine.h: what a host provides to corewire (C++ -> called by Rust).
 *
 * corewire is a Rust library that serves Redis and PostgreSQL clients and
 * executes their requests in a storage engine owned by the host. This header
 * is the engine side of the boundary. Its twin, corewire.h, is what corewire
 * exports to the host.
 *
 * Two levels:
 *
 *  1. The seed ABI: four functions (three here, rust_init in corewire.h) that
 *     every host defines. A host with only these serves GET and SET. Their
 *     signatures are frozen so that hosts written for the seed keep linking.
 *
 *  2. The rich ABI: a table of function pointers (cw_engine_ops) that a host
 *     hands to corewire_main()/corewire_start(). It adds deletes, counters,
 *     atomic multi-key batches and interactive transactions, tells a missing
 *     key apart from an empty value, and allocates nothing per GET: values
 *     are handed to a sink callback that copies them into corewire's buffer.
 *
 * Rules for every function here:
 *   - Keys and values cross as pointer + length and are binary safe. A
 *     pointer may be NULL when its length is 0.
 *   - No C++ exception escapes: implementations catch everything and return
 *     CW_INTERNAL. (Rust likewise never unwinds into the host.)
 *   - Pointers passed in are only borrowed for the duration of the call.
 */
#ifndef COREWIRE_ENGINE_H
#define COREWIRE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* 1. Seed ABI (unchanged from the seed README).                            */
/* ------------------------------------------------------------------------ */

/* Called once on each worker thread as it starts, before any request.
 * thread_id is 0..n_threads-1. */
void cpp_worker_thread_init(size_t thread_id);

/* op 1 = GET, 2 = SET. Returns true on success.
 * GET hit:  true, *out_ptr = malloc'd copy of the value, *out_len = length.
 * GET miss: true with *out_ptr = NULL (or false). corewire answers nil.
 *           (The seed cannot tell a miss from an empty value unless the host
 *           returns a non-NULL pointer for an empty value; corewire's own
 *           adapter does.)
 * SET:      true when stored; out_ptr/out_len are untouched.
 * corewire releases every non-NULL *out_ptr with cpp_free_buf. */
bool cpp_execute_request_sync(uint32_t op, const uint8_t* key_ptr,
                              size_t key_len, const uint8_t* val_ptr,
                              size_t val_len, uint8_t** out_ptr,
                              size_t* out_len);

/* Frees a buffer returned through cpp_execute_request_sync. */
void cpp_free_buf(uint8_t* ptr, size_t len);

#define CW_SEED_OP_GET 1u
#define CW_SEED_OP_SET 2u

/* ------------------------------------------------------------------------ */
/* 2. Rich ABI.                                                             */
/* ------------------------------------------------------------------------ */

/* Bumped when cw_engine_ops changes incompatibly. */
#define CW_ENGINE_ABI_VERSION 1u

/* Result of every rich-ABI call. Values are stable: they cross the FFI. */
typedef int32_t cw_status;
#define CW_OK 0             /* done */
#define CW_NOT_FOUND 1      /* key missing (where that is not a plain result) */
#define CW_CONFLICT 2       /* optimistic validation failed; nothing written */
#define CW_NOT_INTEGER 3    /* value is not a base-10 signed 64-bit integer */
#define CW_OVERFLOW 4       /* increment would overflow int64 */
#define CW_CONDITION_FAILED 5 /* NX/XX condition not met; nothing written */
#define CW_INVALID_ARGUMENT 6 /* bad call: NULL handle, too many keys, ... */
#define CW_NO_MEMORY 7      /* allocation failed; nothing written */
#define CW_INTERNAL 8       /* an exception or broken invariant, caught */

/* Borrowed bytes. */
typedef struct cw_slice {
  const uint8_t* ptr;
  size_t len;
} cw_slice;

/* Receives one value. value_ptr == NULL means "no such key" (an empty value
 * is a non-NULL pointer with value_len 0). The bytes are only valid during
 * the call: copy them. A sink must not call back into the engine. */
typedef void (*cw_value_sink)(void* sink_ctx, const uint8_t* value_ptr,
                              size_t value_len);

/* Opaque per-worker state: epoch slot, scratch, TID clock. Used only by the
 * thread that opened it. */
typedef struct cw_worker cw_worker;

/* Opaque interactive transaction. Belongs to one worker handle and is only
 * used on that worker's thread, but may stay open across many calls (for
 * example across network round trips): it holds no lock and pins no memory
 * between calls. */
typedef struct cw_txn cw_txn;

/* Flags for cw_engine_ops.put. */
#define CW_PUT_IF_ABSENT 1u  /* NX: write only if the key is missing */
#define CW_PUT_IF_PRESENT 2u /* XX: write only if the key exists */

/* The rich engine interface. A host fills one in and passes it to
 * corewire_main() or corewire_start(); it must outlive the server.
 * Every function pointer is required (none may be NULL). */
typedef struct cw_engine_ops {
  uint32_t abi_version; /* CW_ENGINE_ABI_VERSION */
  uint32_t struct_size; /* sizeof(cw_engine_ops), checked by corewire */
  void* engine;         /* opaque, passed to worker_open */

  /* Called on each worker thread as it starts; with a rich ops table this
   * replaces cpp_worker_thread_init. Returns NULL on failure (the server
   * then fails to start). */
  cw_worker* (*worker_open)(void* engine, size_t worker_id);
  /* Called on the worker thread as it exits. Aborts any open transactions
   * of this worker first, then frees the handle. */
  void (*worker_close)(cw_worker* worker);

  /* Single-key read: a lock-free snapshot. Calls sink exactly once, with
   * NULL for a missing key. */
  cw_status (*get)(cw_worker* worker, cw_slice key, cw_value_sink sink,
                   void* sink_ctx);

  /* Single-key write under the record lock. flags: CW_PUT_IF_ABSENT,
   * CW_PUT_IF_PRESENT, or 0. If old_sink is not NULL it is called exactly
   * once with the previous value (NULL if missing), whether or not the
   * write happens. Returns CW_CONDITION_FAILED if a condition stopped it. */
  cw_status (*put)(cw_worker* worker, cw_slice key, cw_slice value,
                   uint32_t flags, cw_value_sink old_sink, void* old_ctx);

  /* Atomically deletes keys; *deleted = how many existed (a key named twice
   * counts once). */
  cw_status (*del)(cw_worker* worker, const cw_slice* keys, size_t n_keys,
                   uint64_t* deleted);

  /* *count = how many of keys exist, counting a key named twice twice. */
  cw_status (*exists)(cw_worker* worker, const cw_slice* keys, size_t n_keys,
                      uint64_t* count);

  /* Atomic read-modify-write of a base-10 int64 value (a missing key is 0).
   * On success *result holds the new value. CW_NOT_INTEGER if the value is
   * not an integer in Redis's strict sense (no spaces, no '+', no leading
   * zeros, at most 20 chars); CW_OVERFLOW if it would wrap. */
  cw_status (*incr_by)(cw_worker* worker, cw_slice key, int64_t delta,
                       int64_t* result);

  /* Atomic snapshot of n_keys keys (no torn batch). After the snapshot is
   * validated, sink is called once per key, in order. */
  cw_status (*multi_get)(cw_worker* worker, const cw_slice* keys,
                         size_t n_keys, cw_value_sink sink, void* sink_ctx);

  /* Atomically writes n pairs; for a key named twice the later value wins.
   * No reader sees some of the pairs without the others. */
  cw_status (*multi_put)(cw_worker* worker, const cw_slice* keys,
                         const cw_slice* values, size_t n);

  /* *n_keys = number of live keys. */
  cw_status (*count)(cw_worker* worker, uint64_t* n_keys);

  /* Deletes every key. */
  cw_status (*clear)(cw_worker* worker);

  /* Interactive transactions (Silo-style OCC): reads record versions,
   * writes are buffered, commit locks the write set in key order, validates
   * the read set, installs, unlocks. */
  cw_txn* (*txn_begin)(cw_worker* worker); /* NULL on CW_NO_MEMORY */
  /* Reads through the transaction (sees its own buffered writes) and adds
   * the key to the read set. sink may be NULL (a WATCH). */
  cw_status (*txn_get)(cw_txn* txn, cw_slice key, cw_value_sink sink,
                       void* sink_ctx);
  cw_status (*txn_put)(cw_txn* txn, cw_slice key, cw_slice value);
  /* Buffers a delete. */
  cw_status (*txn_del)(cw_txn* txn, cw_slice key);
  /* Commits and frees txn. CW_OK or CW_CONFLICT (nothing written). */
  cw_status (*txn_commit)(cw_txn* txn);
  /* Discards and frees txn. */
  void (*txn_abort)(cw_txn* txn);
} cw_engine_ops;

/* ------------------------------------------------------------------------ */
/* 3. The bundled engine (cpp/engine), for hosts and tests that use it.     */
/* ------------------------------------------------------------------------ */

/* Creates a fresh, empty in-memory engine and fills *ops for it.
 * Returns false if it cannot (ops is then untouched). */
bool cw_bundled_engine_open(cw_engine_ops* ops);

/* Destroys an engine made by cw_bundled_engine_open. Every worker handle
 * must have been closed first. */
void cw_bundled_engine_close(cw_engine_ops* ops);

/* Makes this engine the one behind the seed functions above
 * (cpp_worker_thread_init / cpp_execute_request_sync). NULL unsets it. */
void cw_bundled_engine_serve_seed_abi(const cw_engine_ops* ops);

#ifdef __cplusplus
} /* extern "C" */
#endif

/* Layout pins; Rust asserts the same numbers (src/engine/ffi.rs). */
#if defined(__x86_64__) || defined(__aarch64__)
#ifdef __cplusplus
static_assert(sizeof(cw_slice) == 16, "cw_slice layout");
static_assert(sizeof(cw_engine_ops) == 16 + 17 * 8, "cw_engine_ops layout");
#else
_Static_assert(sizeof(cw_slice) == 16, "cw_slice layout");
_Static_assert(sizeof(cw_engine_ops) == 16 + 17 * 8, "cw_engine_ops layout");
#endif
#endif

#endif /* COREWIRE_ENGINE_H */
