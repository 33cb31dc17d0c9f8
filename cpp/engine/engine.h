// engine.h: the public C++ API of corewire's bundled storage engine.
//
// One shared in-memory key-value store with Silo-style optimistic
// concurrency control. Keys and values are binary-safe byte strings.
//
//   std::unique_ptr<corewire::Engine> engine;
//   corewire::Status s = corewire::Engine::Open(corewire::EngineOptions(), &engine);
//   corewire::Worker* w;
//   s = engine->OpenWorker(0, &w);           // once per thread
//   s = engine->Put(w, ToSlice("k"), ToSlice("v"));
//   std::string v;
//   s = engine->Get(w, ToSlice("k"), &v);    // NotFound on a miss
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

// Flags for Engine::Put.
constexpr uint32_t kPutIfAbsent = CW_PUT_IF_ABSENT;   // NX
constexpr uint32_t kPutIfPresent = CW_PUT_IF_PRESENT; // XX

struct EngineOptions {
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

  // Calls sink exactly once: with the value, or NULL for a missing key.
  Status Get(Worker* worker, Slice key, ValueSink sink, void* sink_ctx);
  // Convenience copy: NotFound for a missing key.
  Status Get(Worker* worker, Slice key, std::string* value);

  // Writes key = value. flags: kPutIfAbsent, kPutIfPresent or 0. If old_sink
  // is set it is called once with the previous value (NULL if missing),
  // whether or not the write happens. ConditionFailed when a flag stops it.
  Status Put(Worker* worker, Slice key, Slice value, uint32_t flags = 0,
             ValueSink old_sink = nullptr, void* old_ctx = nullptr);

  // Atomically deletes keys; *deleted = how many existed (a key named twice
  // counts once).
  Status Delete(Worker* worker, const Slice* keys, size_t n_keys,
                uint64_t* deleted);

  // Atomic snapshot count of existing keys; a key named twice counts twice.
  Status Exists(Worker* worker, const Slice* keys, size_t n_keys,
                uint64_t* count);

  // Atomic add to a strict base-10 int64 value (Redis string2ll rules; a
  // missing key is 0). Stores the decimal result in *result.
  // NotInteger / Overflow leave the value unchanged.
  Status IncrBy(Worker* worker, Slice key, int64_t delta, int64_t* result);

  // Consistent snapshot of n_keys keys; then sink is called once per key in
  // order (NULL for missing).
  Status MultiGet(Worker* worker, const Slice* keys, size_t n_keys,
                  ValueSink sink, void* sink_ctx);

  // Atomically writes n pairs; for a key named twice the later value wins.
  Status MultiPut(Worker* worker, const Slice* keys, const Slice* values,
                  size_t n);

  // Number of live keys (sum of per-shard counters; cheap).
  Status Count(Worker* worker, uint64_t* n_keys);

  // Deletes every key present when the call starts.
  Status Clear(Worker* worker);

  // Interactive transactions. Reads record the version they saw (a missing
  // key records its shard's insert version); writes are buffered. Commit
  // locks the write set in key order, validates the read set, installs and
  // unlocks; Conflict means nothing was written. Commit and Abort free txn.
  Status TxnBegin(Worker* worker, Txn** txn);
  // Sees the transaction's own buffered writes; sink may be NULL (WATCH).
  Status TxnGet(Txn* txn, Slice key, ValueSink sink, void* sink_ctx);
  Status TxnPut(Txn* txn, Slice key, Slice value);
  Status TxnDelete(Txn* txn, Slice key);
  Status TxnCommit(Txn* txn);
  void TxnAbort(Txn* txn);

 private:
  explicit Engine(EngineRep* rep);
  EngineRep* const rep_;
};

}  // namespace corewire

#endif  // COREWIRE_ENGINE_ENGINE_H_
