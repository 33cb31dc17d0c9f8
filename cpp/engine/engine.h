// engine.h: the public C++ API of corewire's bundled storage engine.
//
// One shared in-memory key-value store with Silo-style optimistic
// concurrency control. Keys and values are binary-safe byte strings.
//
//   std::unique_ptr<corewire::Engine> engine;
//   corewire::Status s = corewire::Engine::Open(corewire::EngineOptions(), &engine);
//   corewire::Worker* w;
//   s = engine->OpenWorker(0, &w);           // once per thread
//   s = engine->Put(w, 0, ToSlice("k"), ToSlice("v"));   // db 0
//   std::string v;
//   s = engine->Get(w, 0, ToSlice("k"), &v);    // NotFound on a miss
//   engine->CloseWorker(w);                  // before the engine goes
//
// Threads: every call takes the caller's Worker. A Worker is used by one
// thread only (the one that opened it); any number of workers run at once.
// A Txn belongs to its Worker and is used on that thread, but may stay open
// across any number of calls: between calls it holds no lock and pins no
// memory (it keeps keys and observed versions, not pointers).
//
// Consistency: single-key reads are lock-free seqlock snapshots; writes lock
// the record, install a new immutable value and bump the record's TID;
// multi-key operations lock their keys in one global order (no deadlock)
// and are atomic; multi-key reads are consistent snapshots. Transactions
// are serializable and fail with Conflict instead of blocking.
//
// Databases: every key-addressed call takes a db index (0..databases-1,
// else InvalidArgument). Databases are independent keyspaces; a database's
// index is allocated on its first write, so unused ones cost nothing.
//
// Expiry: a record may carry a deadline (expire_at_ms, Unix ms on the
// engine's clock, 0 = none). A key whose deadline is <= now is missing for
// every call; writes that meet it and ExpireCycle reclaim it. The clock is
// read only when a record has a deadline, at most once per call.
//
// Errors are values: no method throws. Sinks receive values by pointer into
// engine memory that is valid only during the sink call, so a read allocates
// nothing. A sink must not call back into the engine.
#ifndef COREWIRE_ENGINE_ENGINE_H_
#define COREWIRE_ENGINE_ENGINE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "corewire_engine.h"
#include "engine/status.h"

namespace corewire {

// Borrowed bytes, the same struct that crosses the C ABI. ptr may be NULL
// when len is 0.
using Slice = cw_slice;
inline Slice ToSlice(std::string_view s) {
  return Slice{reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Receives one value; value_ptr == NULL means "no such key" (an empty value
// is non-NULL with length 0). Bytes are valid only during the call.
using ValueSink = cw_value_sink;

// Flags for Engine::Put (and kPutKeepTtl for TxnPut).
constexpr uint32_t kPutIfAbsent = CW_PUT_IF_ABSENT;   // NX
constexpr uint32_t kPutIfPresent = CW_PUT_IF_PRESENT; // XX
constexpr uint32_t kPutKeepTtl = CW_PUT_KEEP_TTL;     // KEEPTTL

// Flags for Engine::Expire (see corewire_engine.h for the valid mixes).
constexpr uint32_t kExpireNx = CW_EXPIRE_NX;
constexpr uint32_t kExpireXx = CW_EXPIRE_XX;
constexpr uint32_t kExpireGt = CW_EXPIRE_GT;
constexpr uint32_t kExpireLt = CW_EXPIRE_LT;
constexpr uint32_t kExpirePersist = CW_EXPIRE_PERSIST;

// Flags for Engine::MultiPut.
constexpr uint32_t kMultiPutIfNoneExist = CW_MPUT_IF_NONE_EXIST;  // MSETNX

// Clear's db for "every database".
constexpr uint32_t kAllDatabases = CW_ALL_DATABASES;

struct EngineOptions {
  // Number of logical databases, 1..kMaxDatabases (Redis's default 16).
  uint32_t databases = 16;
  // The clock of expiry deadlines, in Unix ms. nullptr = CLOCK_REALTIME.
  // Tests install a fake one; it must be thread-safe.
  int64_t (*now_ms)() = nullptr;
  // Longest key / value accepted (Redis's proto-max-bulk-len default).
  size_t max_key_bytes = size_t{512} << 20;
  size_t max_value_bytes = size_t{512} << 20;
  // Most keys in one multi_get / multi_put / del / exists call.
  size_t max_batch_keys = size_t{1} << 20;
  // Most read-set plus write-set entries in one transaction, and most bytes
  // (keys + buffered values) it may hold.
  size_t max_txn_keys = size_t{1} << 20;
  size_t max_txn_bytes = size_t{1} << 30;
  // Optimistic attempts of a multi-key snapshot read before it falls back
  // to locking its keys (0 = always lock; for tests).
  uint32_t max_snapshot_attempts = 4;
};

class Worker;  // per-thread state: epoch slot, TID clock, scratch
class Txn;     // an open interactive transaction
struct EngineRep;

class Engine {
 public:
  // Most workers open at once (seed-ABI handles included).
  static constexpr size_t kMaxWorkers = 512;
  static constexpr uint32_t kMaxDatabases = CW_MAX_DATABASES;

  // Creates an empty engine. Several engines may live in one process.
  static Status Open(const EngineOptions& options,
                     std::unique_ptr<Engine>* engine);

  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;
  // Every worker must have been closed (checked by open_workers()).
  ~Engine();

  // Opens per-thread state. worker_id is a hint (0..kMaxWorkers-1): its slot
  // is used if free, else any free slot. InvalidArgument when all are taken.
  Status OpenWorker(size_t worker_id, Worker** worker);
  // Aborts the worker's open transactions, then frees it. On its thread.
  void CloseWorker(Worker* worker);
  size_t open_workers() const;

  uint32_t databases() const;

  // Calls sink exactly once: with the value, or NULL for a missing key. If
  // expire_at_ms is set it gets the deadline (0: none or missing).
  Status Get(Worker* worker, uint32_t db, Slice key, ValueSink sink,
             void* sink_ctx, int64_t* expire_at_ms = nullptr);
  // Convenience copy: NotFound for a missing key.
  Status Get(Worker* worker, uint32_t db, Slice key, std::string* value,
             int64_t* expire_at_ms = nullptr);

  // Writes key = value with deadline expire_at_ms (0 = none). flags:
  // kPutIfAbsent or kPutIfPresent, optionally | kPutKeepTtl (keep the
  // current deadline; expire_at_ms ignored). If old_sink is set it is
  // called once with the previous value (NULL if missing), whether or not
  // the write happens. ConditionFailed when a flag stops it. A deadline
  // already past deletes the key instead (OK).
  Status Put(Worker* worker, uint32_t db, Slice key, Slice value,
             uint32_t flags = 0, int64_t expire_at_ms = 0,
             ValueSink old_sink = nullptr, void* old_ctx = nullptr);

  // Atomic read-and-delete: sink gets the deleted value or NULL.
  Status Take(Worker* worker, uint32_t db, Slice key, ValueSink sink,
              void* sink_ctx);

  // Atomically deletes keys; *deleted = how many existed (a key named twice
  // counts once).
  Status Delete(Worker* worker, uint32_t db, const Slice* keys, size_t n_keys,
                uint64_t* deleted);

  // Atomic snapshot count of existing keys; a key named twice counts twice.
  Status Exists(Worker* worker, uint32_t db, const Slice* keys, size_t n_keys,
                uint64_t* count);

  // Sets (or with kExpirePersist removes) the key's deadline under the
  // kExpire* flags; *applied = whether it changed. A deadline <= now
  // deletes the key. InvalidArgument for a bad flag mix.
  Status Expire(Worker* worker, uint32_t db, Slice key, int64_t expire_at_ms,
                uint32_t flags, uint32_t* applied);

  // Atomic add to a strict base-10 int64 value (Redis string2ll rules; a
  // missing key is 0). Keeps the deadline. Stores the decimal result in
  // *result. NotInteger / Overflow leave the value unchanged.
  Status IncrBy(Worker* worker, uint32_t db, Slice key, int64_t delta,
                int64_t* result);

  // Consistent snapshot of n_keys keys; then sink is called once per key in
  // order (NULL for missing).
  Status MultiGet(Worker* worker, uint32_t db, const Slice* keys,
                  size_t n_keys, ValueSink sink, void* sink_ctx);

  // Atomically writes n pairs without deadlines; for a key named twice the
  // later value wins. flags: 0 or kMultiPutIfNoneExist. *written (if set)
  // = whether the pairs were written.
  Status MultiPut(Worker* worker, uint32_t db, const Slice* keys,
                  const Slice* values, size_t n, uint32_t flags = 0,
                  uint32_t* written = nullptr);

  // Number of keys in db, and of those with a deadline (either may be
  // nullptr). Sums per-shard counters: cheap, and may include expired keys
  // not reclaimed yet.
  Status Count(Worker* worker, uint32_t db, uint64_t* n_keys,
               uint64_t* n_keys_with_expiry = nullptr);

  // Deletes every key of db (or of all databases: kAllDatabases) present
  // when the call starts.
  Status Clear(Worker* worker, uint32_t db);

  // Active expiry: examines at most max_checks slots, round-robin over
  // databases and shards from this worker's cursor, and deletes expired
  // keys; *expired = how many.
  Status ExpireCycle(Worker* worker, size_t max_checks, uint64_t* expired);

  // One step of a SCAN: see cw_engine_ops.scan. key_sink gets keys.
  Status Scan(Worker* worker, uint32_t db, uint64_t cursor, size_t count,
              ValueSink key_sink, void* sink_ctx, uint64_t* next_cursor);

  // Calls sink once with a random live key of db, or NULL if there is none.
  Status RandomKey(Worker* worker, uint32_t db, ValueSink sink,
                   void* sink_ctx);

  // Interactive transactions. Reads record the version they saw (a missing
  // key records its shard's insert version); writes are buffered. Commit
  // locks the write set in key order, validates the read set, installs and
  // unlocks; Conflict means nothing was written. Commit and Abort free txn.
  // A transaction may span databases.
  Status TxnBegin(Worker* worker, Txn** txn);
  // Sees the transaction's own buffered writes; sink may be NULL (WATCH).
  Status TxnGet(Txn* txn, uint32_t db, Slice key, ValueSink sink,
                void* sink_ctx, int64_t* expire_at_ms = nullptr);
  // flags: 0 or kPutKeepTtl.
  Status TxnPut(Txn* txn, uint32_t db, Slice key, Slice value,
                uint32_t flags = 0, int64_t expire_at_ms = 0);
  Status TxnDelete(Txn* txn, uint32_t db, Slice key);
  Status TxnCommit(Txn* txn);
  void TxnAbort(Txn* txn);

  // Durability (see storage.h and corewire_engine.h's cw_engine_ops).
  // OpenStorage recovers options.data_dir into this engine, which must be
  // empty with no worker open; *error says why it failed.
  Status OpenStorage(const cw_storage_options& options, std::string* error);
  Status TuneStorage(const cw_storage_options& options);
  // Records the worker appended since it opened (0 without storage).
  uint64_t LogAppended(Worker* worker) const;
  // Group commit: writes the worker's log; under fsync always
  // *sync_ticket is what SyncLog must reach (0: nothing to wait for).
  Status FlushLog(Worker* worker, uint64_t* sync_ticket);
  // fsyncs the worker's log up to ticket; callable from any thread.
  Status SyncLog(Worker* worker, uint64_t ticket);
  // A checkpoint; with wait, on this thread. Busy if one is running.
  Status Checkpoint(bool wait);
  Status StorageInfo(cw_storage_info* info);

 private:
  explicit Engine(EngineRep* rep);
  EngineRep* const rep_;
};

}  // namespace corewire

#endif  // COREWIRE_ENGINE_ENGINE_H_
