// worker.h: engine state, per-worker state and the locked write path
// shared by every writing operation (internal).
#ifndef COREWIRE_ENGINE_WORKER_H_
#define COREWIRE_ENGINE_WORKER_H_

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "engine/engine.h"
#include "engine/epoch.h"
#include "engine/record.h"
#include "engine/storage.h"
#include "engine/table.h"
#include "engine/wal_format.h"

namespace corewire {

static_assert(Engine::kMaxWorkers <= kTidMaxWorkers, "worker id bits");
static_assert(Engine::kMaxWorkers <= EpochManager::kMaxParticipants, "slots");

struct EngineRep {
  EngineRep(const EngineOptions& options, uint64_t seed) noexcept
      : options(options), seed(seed) {}
  EngineRep(const EngineRep&) = delete;
  EngineRep& operator=(const EngineRep&) = delete;
  // Frees the tables (and their records) before the epoch manager goes.
  ~EngineRep();

  // The database's table, or nullptr if nothing was ever written to it (it
  // is then empty: every key missing, every insert version 0).
  Table* table(uint32_t db) const noexcept {
    return tables[db].load(std::memory_order_acquire);
  }
  // The database's table, created on first use; nullptr on no memory.
  Table* TableForWrite(uint32_t db) noexcept;
  // Unix ms on the configured clock.
  int64_t NowMs() const noexcept;

  const EngineOptions options;
  const uint64_t seed;  // one hash function for every table
  EpochManager epochs;
  std::mutex tables_mu;  // serializes table creation
  std::atomic<Table*> tables[Engine::kMaxDatabases] = {};
  std::mutex workers_mu;
  bool worker_in_use[Engine::kMaxWorkers] = {};  // guarded by workers_mu
  // Last TID sequence per slot; survives close so a reopened slot never
  // repeats a TID. Guarded by workers_mu.
  uint64_t worker_last_seq[Engine::kMaxWorkers] = {};
  size_t open_workers = 0;  // guarded by workers_mu
  // Durability, or nullptr for an in-memory engine. Set once, before any
  // worker opens; destroyed before the tables.
  std::unique_ptr<Storage> storage;
};

// One record touched by a locked operation.
struct WriteItem {
  // kExpire sets only the deadline of a present record.
  enum Kind : uint8_t { kLockOnly, kPut, kDelete, kExpire };

  Table* table;         // the item's database
  uint32_t db;
  const uint8_t* key;
  size_t key_bytes;
  uint64_t hash;
  size_t input_index;   // position in the caller's arrays
  const uint8_t* source;  // kPut: bytes to store
  size_t source_bytes;
  Kind kind;
  bool keep_ttl;        // kPut: new deadline = old_expire_at_ms
  bool inserted;        // LockAll inserted this record as a placeholder
  Value* new_value;     // kPut: owned until installed
  int64_t new_expire_at_ms;  // kPut, kExpire: deadline to install
  Record* record;       // set by LockAll
  uint64_t locked_tid;  // TID word while locked (lock bit set)
  // Set by LockAll. stored_* is what the record physically holds; old_* is
  // what operations see: nullptr / 0 when the stored value has expired.
  Value* stored_value;
  int64_t stored_expire_at_ms;
  Value* old_value;
  int64_t old_expire_at_ms;
};

// One key of a multi-key snapshot read.
struct SnapItem {
  uint64_t hash;
  uint64_t observed;  // record TID word, or shard insert version if missing
  Record* record;     // nullptr if missing
  Value* value;       // nullptr if missing or expired
};

class Worker;

// Opens and closes a worker slot without a log: Engine::OpenWorker adds the
// log; recovery and checkpoints use these for their internal workers.
Status OpenWorkerHandle(Engine* engine, EngineRep* rep, size_t worker_id,
                        Worker** worker);
void CloseWorkerHandle(Worker* worker);

class Worker {
 public:
  Worker(Engine* engine, EngineRep* rep, uint32_t id,
         uint64_t last_seq) noexcept
      : engine(engine),
        rep(rep),
        id(id),
        last_seq(last_seq),
        rng(((uint64_t{id} + 1) * 0x9E3779B97F4A7C15ull ^ last_seq) | 1),
        expire_shard((size_t{id} * 97) % Table::kShardCount) {}
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // A fresh commit TID above max_seen_version and every TID this worker
  // made before. Unique: the worker id is part of it.
  uint64_t NextTid(uint64_t max_seen_version) noexcept;

  // Unix ms, read at most once per operation (EpochGuard resets it).
  int64_t NowMs() noexcept {
    if (!now_ms_valid) {
      now_ms = rep->NowMs();
      now_ms_valid = true;
    }
    return now_ms;
  }

  uint64_t Random() noexcept {  // xorshift64
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
  }

  // Retires an object already unlinked from every shared structure.
  void Retire(Retirable* object) noexcept {
    limbo.Push(object, rep->epochs.epoch());
  }

  Engine* const engine;  // lets the C adapter go from a handle to its engine
  EngineRep* const rep;
  const uint32_t id;    // slot: epoch announcement index and TID bits
  uint64_t last_seq;    // TID clock
  Limbo limbo;          // retired by this worker, not yet freed
  bool in_operation = false;  // catches reentry from a sink
  WorkerLog* log = nullptr;  // redo log; nullptr without durability
  Txn* txns = nullptr;  // open transactions (intrusive list)
  size_t open_txns = 0;
  int64_t now_ms = 0;
  bool now_ms_valid = false;
  uint64_t rng;
  // ExpireCycle position: database, shard, next slot.
  uint32_t expire_db = 0;
  size_t expire_shard = 0;
  size_t expire_slot = 0;
  // Scratch reused across calls so steady-state batches do not allocate.
  std::vector<WriteItem> items;
  std::vector<Record*> locked;
  std::vector<SnapItem> snap;
};

// One operation's epoch announcement; reclaims a little on the way out.
class EpochGuard {
 public:
  explicit EpochGuard(Worker* worker) noexcept;
  EpochGuard(const EpochGuard&) = delete;
  EpochGuard& operator=(const EpochGuard&) = delete;
  ~EpochGuard();

 private:
  Worker* const worker_;
};

// Zeroed item for key in table/db.
WriteItem MakeItem(Table* table, uint32_t db, Slice key, size_t input_index,
                   WriteItem::Kind kind) noexcept;

// (db, hash, key, input_index) order; the lock order of every operation.
bool WriteItemLess(const WriteItem& a, const WriteItem& b) noexcept;
bool SameKey(const WriteItem& a, const WriteItem& b) noexcept;

// Sorts into lock order and keeps the last item of each key.
void SortAndDedupe(std::vector<WriteItem>* items);

// Locks every item's record in array order (which must be lock order),
// inserting locked placeholders for missing keys. All or nothing: on
// NoMemory nothing stays locked. Inside an epoch.
Status LockAll(Worker* worker, WriteItem* items, size_t n) noexcept;

// Unlocks without writing; placeholders are unlinked and retired.
void ReleaseAll(Worker* worker, WriteItem* items, size_t n) noexcept;

// For a locked kPut item: applies keep_ttl, and turns a put whose deadline
// has already passed into a delete (freeing its new value).
void ResolveDeadline(Worker* worker, WriteItem* item) noexcept;

// Highest version among the locked records.
uint64_t MaxLockedVersion(const WriteItem* items, size_t n) noexcept;

// Logs the write set's redo record, then installs puts and deletes with
// TID tid and unlocks everything. If the record cannot be logged
// (LogFailed, NoMemory) nothing is installed: everything is released and
// the new values freed.
Status InstallAndRelease(Worker* worker, WriteItem* items, size_t n,
                         uint64_t tid) noexcept;

// Recovery: installs one logged item if its TID is above the key's. A
// delete stays behind as an absent record carrying its TID, so that an
// older put replayed later cannot bring the key back.
Status ReplayItem(Worker* worker, const LogItem& item) noexcept;
// After replay: unlinks those absent records and expired keys; returns
// the live keys.
uint64_t SweepRecovered(Worker* worker) noexcept;

// Frees new values still owned by items (after a failed operation).
void FreeNewValues(WriteItem* items, size_t n) noexcept;

}  // namespace corewire

#endif  // COREWIRE_ENGINE_WORKER_H_
