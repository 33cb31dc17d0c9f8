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
 *     hands to corewire_main()/corewire_start(). It adds logical databases,
 *     deletes, counters, per-key expiry, atomic multi-key batches, iteration
 *     and interactive transactions, tells a missing key apart from an empty
 *     value, and allocates nothing per GET: values are handed to a sink
 *     callback that copies them into corewire's buffer.
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
/* 1. Seed ABI (unchanged from the seed README). It serves database 0.      */
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

/* Bumped when cw_engine_ops changes incompatibly.
 * v2: logical databases (a db argument on every key-addressed op), per-key
 * expiry, GETDEL (take), iteration (scan, random_key), MSETNX.
 * v3: the optional durability group at the end of cw_engine_ops. corewire
 * still accepts a v2 table (struct_size CW_ENGINE_OPS_V2_SIZE): such an
 * engine simply has no durability. */
#define CW_ENGINE_ABI_VERSION 3u

/* Result of every rich-ABI call. Values are stable: they cross the FFI. */
typedef int32_t cw_status;
#define CW_OK 0             /* done */
#define CW_NOT_FOUND 1      /* key missing (where that is not a plain result) */
#define CW_CONFLICT 2       /* optimistic validation failed; nothing written */
#define CW_NOT_INTEGER 3    /* value is not a base-10 signed 64-bit integer */
#define CW_OVERFLOW 4       /* increment would overflow int64 */
#define CW_CONDITION_FAILED 5 /* NX/XX condition not met; nothing written */
#define CW_INVALID_ARGUMENT 6 /* bad call: NULL handle, bad db, bad flags, ... */
#define CW_NO_MEMORY 7      /* allocation failed; nothing written */
#define CW_INTERNAL 8       /* an exception or broken invariant, caught */
#define CW_LOG_FAILED 9     /* the write-ahead log cannot be written (disk full,
                               I/O error): nothing written, and no write is
                               accepted until the log works again; see
                               cw_storage_info.log_errno */
#define CW_BUSY 10          /* a checkpoint is already running */

/* Borrowed bytes. */
typedef struct cw_slice {
  const uint8_t* ptr;
  size_t len;
} cw_slice;

/* Receives one value (or one key, for scan and random_key). value_ptr ==
 * NULL means "no such key" (an empty value is a non-NULL pointer with
 * value_len 0). The bytes are only valid during the call: copy them. A sink
 * must not call back into the engine. */
typedef void (*cw_value_sink)(void* sink_ctx, const uint8_t* value_ptr,
                              size_t value_len);

/* Opaque per-worker state: epoch slot, scratch, TID clock, cursors. Used
 * only by the thread that opened it. */
typedef struct cw_worker cw_worker;

/* Opaque interactive transaction. Belongs to one worker handle and is only
 * used on that worker's thread, but may stay open across many calls (for
 * example across network round trips): it holds no lock and pins no memory
 * between calls. */
typedef struct cw_txn cw_txn;

/* Databases. Every key-addressed op takes a db index right after its
 * worker/txn handle; valid indexes are 0 .. cw_engine_ops.databases-1, any
 * other is CW_INVALID_ARGUMENT. Keys in different databases are unrelated
 * (the same key may exist in several, with different values and TTLs). */
#define CW_MAX_DATABASES 256u
/* clear() only: every database at once (FLUSHALL). */
#define CW_ALL_DATABASES 0xFFFFFFFFu

/* Expiry. A record may carry a deadline, expire_at_ms: Unix time in
 * milliseconds on the engine's clock (CLOCK_REALTIME for the bundled
 * engine); 0 means "no expiry". Once its deadline is <= now a key is
 * logically missing for every op (reads, conditions, counters, txn reads),
 * whether or not its memory has been reclaimed yet; expire_cycle reclaims
 * it, and so does any write that meets it. count() may still include
 * expired keys that were not reclaimed yet. */

/* Flags for cw_engine_ops.put (and txn_put: only CW_PUT_KEEP_TTL). */
#define CW_PUT_IF_ABSENT 1u  /* NX: write only if the key is missing */
#define CW_PUT_IF_PRESENT 2u /* XX: write only if the key exists */
#define CW_PUT_KEEP_TTL 4u   /* KEEPTTL: keep the current deadline (if any) */

/* Flags for cw_engine_ops.expire (Redis 7 EXPIRE options). A key without a
 * deadline counts as having an infinite one for GT and LT. */
#define CW_EXPIRE_NX 1u      /* only if the key has no deadline */
#define CW_EXPIRE_XX 2u      /* only if the key has a deadline */
#define CW_EXPIRE_GT 4u      /* only if the new deadline is later */
#define CW_EXPIRE_LT 8u      /* only if the new deadline is earlier */
#define CW_EXPIRE_PERSIST 16u /* remove the deadline (PERSIST); alone */

/* Flags for cw_engine_ops.multi_put. */
#define CW_MPUT_IF_NONE_EXIST 1u /* MSETNX: all or nothing, only if no key exists */

/* Durability settings and figures (used by the v3 ops at the end of
 * cw_engine_ops). */
/* When a worker's log is fsynced. */
#define CW_FSYNC_NO 0u       /* write per batch, the OS flushes when it likes */
#define CW_FSYNC_EVERYSEC 1u /* write per batch, fsync once a second off the
                                request path (at most ~1 s lost on power loss) */
#define CW_FSYNC_ALWAYS 2u   /* write and fsync per batch before replying */

/* Severities passed to cw_storage_options.log. */
#define CW_LOG_ERROR 0
#define CW_LOG_WARN 1
#define CW_LOG_INFO 2

typedef struct cw_storage_options {
  uint32_t struct_size;      /* sizeof(cw_storage_options) */
  uint32_t fsync_policy;     /* CW_FSYNC_* */
  const char* data_dir;      /* NUL-terminated directory path */
  /* Checkpoint once the logs since the last one exceed this many bytes
   * (0 = never by size). */
  uint64_t checkpoint_log_bytes;
  /* Checkpoint this often when anything changed (0 = never by time). */
  uint64_t checkpoint_interval_ms;
  /* Threads that replay logs at startup (0 = one per core). */
  uint32_t recovery_threads;
  /* A corrupt record in the middle of a log stops recovery (0), or (1) the
   * log is cut at that record, dropping everything after it in that file,
   * with a warning. A torn tail (the last record incomplete or failing its
   * CRC) is always cut, with a warning. */
  uint32_t truncate_corrupt;
  /* Receives progress and warnings (recovery, checkpoints, log failures);
   * may be NULL. Called from any engine thread; must not call back into
   * the engine. */
  void (*log)(void* log_ctx, int32_t level, const char* message);
  void* log_ctx;
} cw_storage_options;

typedef struct cw_storage_info {
  uint32_t struct_size;          /* sizeof(cw_storage_info), set by caller */
  uint32_t fsync_policy;         /* CW_FSYNC_* in force */
  uint32_t checkpoint_running;   /* 1 while a checkpoint is being written */
  uint32_t last_checkpoint_ok;   /* 1 if the last checkpoint succeeded (or none ran) */
  uint32_t log_ok;               /* 0 after a failed log write or fsync */
  int32_t log_errno;             /* errno of that failure (0 if none) */
  int64_t last_checkpoint_unix_s;   /* end of the last good checkpoint, or of recovery */
  int64_t last_checkpoint_duration_ms; /* -1 if none ran */
  int64_t checkpoint_started_unix_ms;  /* of the running one, 0 if none */
  uint64_t checkpoints;          /* completed since start */
  uint64_t checkpoint_failures;  /* failed since start */
  uint64_t last_checkpoint_keys;  /* keys in the newest snapshot */
  uint64_t last_checkpoint_bytes; /* its size on disk */
  uint64_t log_bytes;            /* log bytes on disk since the last checkpoint */
  uint64_t log_bytes_written;    /* log bytes written since start */
  uint64_t log_records_written;  /* redo records written since start */
  uint64_t log_writes;           /* write() batches since start */
  uint64_t fsyncs;               /* fsyncs of log files since start */
  uint64_t fsync_time_us;        /* total time spent in those fsyncs */
  uint64_t changes_since_checkpoint; /* records appended since the last one */
  uint64_t recovered_records;    /* replayed at startup (snapshot + logs) */
  uint64_t recovered_bytes;      /* bytes read at startup */
  uint64_t recovered_keys;       /* live keys after recovery */
  uint64_t recovery_ms;          /* how long recovery took */
  uint64_t recovery_dropped_records; /* torn or corrupt records cut */
} cw_storage_info;

/* The rich engine interface. A host fills one in and passes it to
 * corewire_main() or corewire_start(); it must outlive the server.
 * Every function pointer up to txn_abort is required (none may be NULL);
 * the durability group is all set or all NULL. */
typedef struct cw_engine_ops {
  uint32_t abi_version; /* CW_ENGINE_ABI_VERSION */
  uint32_t struct_size; /* sizeof(cw_engine_ops), checked by corewire */
  void* engine;         /* opaque, passed to worker_open */
  uint32_t databases;   /* number of databases, 1..CW_MAX_DATABASES */
  uint32_t reserved;    /* 0 */

  /* Called on each worker thread as it starts; with a rich ops table this
   * replaces cpp_worker_thread_init. Returns NULL on failure (the server
   * then fails to start). */
  cw_worker* (*worker_open)(void* engine, size_t worker_id);
  /* Called on the worker thread as it exits. Aborts any open transactions
   * of this worker first, then frees the handle. */
  void (*worker_close)(cw_worker* worker);

  /* Single-key read: a lock-free snapshot. Calls sink exactly once, with
   * NULL for a missing (or expired) key. If expire_at_ms is not NULL it
   * receives the key's deadline (0: no deadline, or key missing). The clock
   * is read only when the key has a deadline. */
  cw_status (*get)(cw_worker* worker, uint32_t db, cw_slice key,
                   cw_value_sink sink, void* sink_ctx, int64_t* expire_at_ms);

  /* Single-key write under the record lock. flags: CW_PUT_IF_ABSENT or
   * CW_PUT_IF_PRESENT (not both), optionally | CW_PUT_KEEP_TTL. The new
   * deadline is expire_at_ms (0 = none, so a plain SET clears a TTL), or
   * with CW_PUT_KEEP_TTL the key's current one (expire_at_ms ignored). If
   * old_sink is not NULL it is called exactly once with the previous value
   * (NULL if missing), whether or not the write happens. Returns
   * CW_CONDITION_FAILED if a condition stopped it. A deadline already <= now
   * (but not 0) stores nothing and deletes the key instead; that is CW_OK
   * (Redis: SET with a past PXAT). */
  cw_status (*put)(cw_worker* worker, uint32_t db, cw_slice key,
                   cw_slice value, uint32_t flags, int64_t expire_at_ms,
                   cw_value_sink old_sink, void* old_ctx);

  /* Atomic read-and-delete (GETDEL). Calls sink exactly once with the
   * value that was deleted, or NULL if the key was missing. */
  cw_status (*take)(cw_worker* worker, uint32_t db, cw_slice key,
                    cw_value_sink sink, void* sink_ctx);

  /* Atomically deletes keys; *deleted = how many existed (a key named twice
   * counts once; an expired key does not count). */
  cw_status (*del)(cw_worker* worker, uint32_t db, const cw_slice* keys,
                   size_t n_keys, uint64_t* deleted);

  /* *count = how many of keys exist, counting a key named twice twice. */
  cw_status (*exists)(cw_worker* worker, uint32_t db, const cw_slice* keys,
                      size_t n_keys, uint64_t* count);

  /* Sets or removes a key's deadline (EXPIRE, PEXPIREAT, PERSIST, ...).
   * flags: 0, or CW_EXPIRE_NX, or CW_EXPIRE_XX optionally with one of
   * CW_EXPIRE_GT / CW_EXPIRE_LT, or CW_EXPIRE_GT / CW_EXPIRE_LT alone, or
   * CW_EXPIRE_PERSIST alone (expire_at_ms ignored); anything else is
   * CW_INVALID_ARGUMENT. *applied = 1 if the deadline changed (PERSIST: if
   * the key had one), 0 if the key is missing or a flag stopped it. A new
   * deadline <= now deletes the key (applied 1). Changing a deadline is a
   * write: it conflicts with transactions that read the key. */
  cw_status (*expire)(cw_worker* worker, uint32_t db, cw_slice key,
                      int64_t expire_at_ms, uint32_t flags,
                      uint32_t* applied);

  /* Atomic read-modify-write of a base-10 int64 value (a missing or
   * expired key is 0 with no deadline; an existing deadline is kept).
   * On success *result holds the new value. CW_NOT_INTEGER if the value is
   * not an integer in Redis's strict sense (no spaces, no '+', no leading
   * zeros, at most 20 chars); CW_OVERFLOW if it would wrap. */
  cw_status (*incr_by)(cw_worker* worker, uint32_t db, cw_slice key,
                       int64_t delta, int64_t* result);

  /* Atomic snapshot of n_keys keys (no torn batch). After the snapshot is
   * validated, sink is called once per key, in order. */
  cw_status (*multi_get)(cw_worker* worker, uint32_t db, const cw_slice* keys,
                         size_t n_keys, cw_value_sink sink, void* sink_ctx);

  /* Atomically writes n pairs with no deadline (MSET clears TTLs); for a
   * key named twice the later value wins. No reader sees some of the pairs
   * without the others. flags: 0 or CW_MPUT_IF_NONE_EXIST (MSETNX: write
   * all only if none of the keys exists, atomically). *written = 1 if the
   * pairs were written, 0 if the condition stopped it (then CW_OK too). */
  cw_status (*multi_put)(cw_worker* worker, uint32_t db, const cw_slice* keys,
                         const cw_slice* values, size_t n, uint32_t flags,
                         uint32_t* written);

  /* *n_keys = number of keys in db; if n_keys_with_expiry is not NULL it
   * receives how many of them have a deadline (INFO keyspace "keys=N,
   * expires=M"). Cheap (per-shard counters). Expired keys not yet
   * reclaimed may still be counted. */
  cw_status (*count)(cw_worker* worker, uint32_t db, uint64_t* n_keys,
                     uint64_t* n_keys_with_expiry);

  /* Deletes every key of db (FLUSHDB), or of every database when db is
   * CW_ALL_DATABASES (FLUSHALL). Keys written concurrently may survive. */
  cw_status (*clear)(cw_worker* worker, uint32_t db);

  /* Active expiry: examines at most max_checks index slots, continuing
   * round-robin over databases and shards from where this worker's last
   * call stopped, and physically deletes the expired keys it meets;
   * *expired = how many. Shards without keys that have a deadline are
   * skipped at the cost of one check. Meant to be called from a periodic
   * housekeeping tick with a fixed budget (bounded work per call). */
  cw_status (*expire_cycle)(cw_worker* worker, size_t max_checks,
                            uint64_t* expired);

  /* Incremental iteration (SCAN). Start with cursor 0; calls key_sink with
   * each returned KEY (not value) and sets *next_cursor; 0 means the
   * iteration is complete. Every key present in db for the whole of a full
   * iteration is returned at least once, even while the table grows,
   * shrinks or other keys come and go; a key may be returned more than once,
   * and keys added or removed meanwhile may or may not be. count is a hint:
   * the call returns roughly that many keys (possibly none, possibly more),
   * bounded work. Expired keys are skipped. The cursor is opaque: its top
   * 10 bits are a shard, the rest a reverse-binary bucket cursor (Redis's
   * technique); any value is accepted. */
  cw_status (*scan)(cw_worker* worker, uint32_t db, uint64_t cursor,
                    size_t count, cw_value_sink key_sink, void* sink_ctx,
                    uint64_t* next_cursor);

  /* RANDOMKEY: calls sink exactly once with a roughly uniformly chosen live
   * key of db, or NULL if db has none. */
  cw_status (*random_key)(cw_worker* worker, uint32_t db, cw_value_sink sink,
                          void* sink_ctx);

  /* Interactive transactions (Silo-style OCC): reads record versions,
   * writes are buffered, commit locks the write set in key order, validates
   * the read set, installs, unlocks. One transaction may touch several
   * databases (MOVE, COPY). */
  cw_txn* (*txn_begin)(cw_worker* worker); /* NULL on CW_NO_MEMORY */
  /* Reads through the transaction (sees its own buffered writes) and adds
   * the key to the read set. sink may be NULL (a WATCH). An expired key
   * reads as missing, and commit validates it as a missing key. If
   * expire_at_ms is not NULL it receives the deadline (0: none/missing); a
   * committed read of a key with a deadline fails validation if that
   * deadline has passed by commit. */
  cw_status (*txn_get)(cw_txn* txn, uint32_t db, cw_slice key,
                       cw_value_sink sink, void* sink_ctx,
                       int64_t* expire_at_ms);
  /* Buffers a write. flags: 0 or CW_PUT_KEEP_TTL (keep the deadline the
   * key has at commit, or that an earlier write of this transaction set;
   * expire_at_ms ignored). Otherwise the deadline is expire_at_ms (0 =
   * none; one already past at commit deletes the key). */
  cw_status (*txn_put)(cw_txn* txn, uint32_t db, cw_slice key, cw_slice value,
                       uint32_t flags, int64_t expire_at_ms);
  /* Buffers a delete. */
  cw_status (*txn_del)(cw_txn* txn, uint32_t db, cw_slice key);
  /* Commits and frees txn. CW_OK or CW_CONFLICT (nothing written). */
  cw_status (*txn_commit)(cw_txn* txn);
  /* Discards and frees txn. */
  void (*txn_abort)(cw_txn* txn);

  /* ---- Durability (v3). Optional: all NULL for an in-memory engine. ----
   *
   * Model: every committed write appends a redo record (commit TID, keys,
   * values or tombstones, deadlines; length + CRC32C) to the in-memory log
   * buffer of the worker that committed it; no lock is shared between
   * workers. corewire calls log_flush once per event-loop batch, before it
   * sends the replies of that batch, so one write (and under
   * CW_FSYNC_ALWAYS one fsync) covers every write of the batch: group
   * commit. Checkpoints write a snapshot in the background and delete the
   * logs it covers. storage_open recovers: newest complete snapshot, then
   * every log, highest TID per key winning. */

  /* Opens (creating if needed) options->data_dir, recovers its contents
   * into the engine (which must be empty and have no worker open) and
   * starts logging. Called once, before any worker_open. On failure
   * returns an error code and writes a one-line reason into error
   * (NUL-terminated, truncated to error_len). */
  cw_status (*storage_open)(void* engine, const cw_storage_options* options,
                            char* error, size_t error_len);

  /* Applies the live settings of options (fsync_policy and the checkpoint
   * triggers; data_dir and the recovery fields are ignored). */
  cw_status (*storage_tune)(void* engine,
                            const cw_storage_options* options);

  /* Count of redo records this worker has appended since it opened. A
   * batch with new records needs a log_flush before its replies go out. */
  uint64_t (*log_appended)(cw_worker* worker);

  /* Writes this worker's buffered records to its log file. CW_OK when
   * nothing was pending. Under CW_FSYNC_ALWAYS *sync_ticket receives the
   * ticket that log_sync must reach before the replies of this batch may
   * go (0: already durable, nothing to wait for); under the other policies
   * it is 0. CW_LOG_FAILED when the write failed: the batch's writes are not
   * durable and must not be acknowledged. */
  cw_status (*log_flush)(cw_worker* worker, uint64_t* sync_ticket);

  /* fsyncs this worker's log until ticket is durable (no-op if it already
   * is). The one call that may run on another thread than the worker's,
   * concurrently with the worker's own calls: corewire runs it on a helper
   * thread so that the worker serves the next batch during the fsync.
   * CW_LOG_FAILED if the fsync failed (writes are then refused for good). */
  cw_status (*log_sync)(cw_worker* worker, uint64_t ticket);

  /* Starts a checkpoint (BGSAVE) and, if wait is nonzero, waits for it to
   * finish (SAVE; may block the caller for as long as the snapshot takes).
   * CW_BUSY if one is running and wait is 0; CW_LOG_FAILED if it failed. */
  cw_status (*checkpoint)(void* engine, uint32_t wait);

  /* Fills *info (info->struct_size must be set by the caller). */
  cw_status (*storage_info)(void* engine, cw_storage_info* info);
} cw_engine_ops;

/* Size of a v2 cw_engine_ops (everything up to txn_abort). */
#define CW_ENGINE_OPS_V2_SIZE (24u + 22u * 8u)



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
#define CW_LAYOUT_ASSERT(cond, what) static_assert(cond, what)
#else
#define CW_LAYOUT_ASSERT(cond, what) _Static_assert(cond, what)
#endif
CW_LAYOUT_ASSERT(sizeof(cw_slice) == 16, "cw_slice layout");
CW_LAYOUT_ASSERT(sizeof(cw_engine_ops) == 24 + 29 * 8, "cw_engine_ops layout");
CW_LAYOUT_ASSERT(offsetof(cw_engine_ops, storage_open) == CW_ENGINE_OPS_V2_SIZE, "cw_engine_ops layout");
CW_LAYOUT_ASSERT(offsetof(cw_engine_ops, storage_info) == 24 + 28 * 8, "cw_engine_ops layout");
CW_LAYOUT_ASSERT(sizeof(cw_storage_options) == 56, "cw_storage_options layout");
CW_LAYOUT_ASSERT(offsetof(cw_storage_options, log) == 40, "cw_storage_options layout");
CW_LAYOUT_ASSERT(sizeof(cw_storage_info) == 24 + 19 * 8, "cw_storage_info layout");
CW_LAYOUT_ASSERT(offsetof(cw_storage_info, checkpoints) == 48, "cw_storage_info layout");
CW_LAYOUT_ASSERT(offsetof(cw_engine_ops, engine) == 8, "cw_engine_ops layout");
CW_LAYOUT_ASSERT(offsetof(cw_engine_ops, databases) == 16, "cw_engine_ops layout");
CW_LAYOUT_ASSERT(offsetof(cw_engine_ops, worker_open) == 24, "cw_engine_ops layout");
CW_LAYOUT_ASSERT(offsetof(cw_engine_ops, take) == 24 + 4 * 8, "cw_engine_ops layout");
CW_LAYOUT_ASSERT(offsetof(cw_engine_ops, random_key) == 24 + 15 * 8, "cw_engine_ops layout");
CW_LAYOUT_ASSERT(offsetof(cw_engine_ops, txn_abort) == 24 + 21 * 8, "cw_engine_ops layout");
#undef CW_LAYOUT_ASSERT
#endif

#endif /* COREWIRE_ENGINE_H */
