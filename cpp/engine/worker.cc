#include "engine/worker.h"

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <new>

namespace corewire {

namespace {
// Retired objects a worker lets pile up before it tries to reclaim.
constexpr size_t kReclaimThreshold = 64;
// Relookups when a record is unlinked under us; each sees newer state.
constexpr uint32_t kMaxRelookups = 1u << 20;

// Final step for a locked record that ends absent: out of the index, then
// marked unlinked (which also releases the lock), then retired.
void UnlinkAndRetire(Worker* worker, Table* table, Record* record,
                     uint64_t version) {
  table->Unlink(record, version);
  record->tid.store(TidVersion(version) | kTidAbsent | kTidUnlinked,
                    std::memory_order_release);
  worker->Retire(record);
}

void ReleaseOne(Worker* worker, WriteItem* item) {
  Record* record = item->record;
  if (record->value.load(std::memory_order_relaxed) == nullptr) {
    UnlinkAndRetire(worker, item->table, record, item->locked_tid);
  } else {
    record->tid.store(item->locked_tid & ~kTidLock, std::memory_order_release);
  }
  item->record = nullptr;
}
}  // namespace

EngineRep::~EngineRep() {
  for (std::atomic<Table*>& slot : tables) {
    delete slot.load(std::memory_order_relaxed);
  }
}

Table* EngineRep::TableForWrite(uint32_t db) noexcept {
  Table* table = tables[db].load(std::memory_order_acquire);
  if (table != nullptr) return table;
  std::lock_guard<std::mutex> guard(tables_mu);
  table = tables[db].load(std::memory_order_relaxed);
  if (table != nullptr) return table;
  table = new (std::nothrow) Table(seed);
  if (table == nullptr) return nullptr;
  if (!table->Init()) {
    delete table;
    return nullptr;
  }
  tables[db].store(table, std::memory_order_release);
  return table;
}

int64_t EngineRep::NowMs() const noexcept {
  if (options.now_ms != nullptr) return options.now_ms();
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1000000;
}

uint64_t Worker::NextTid(uint64_t max_seen_version) noexcept {
  uint64_t seq = std::max(last_seq, TidSeq(max_seen_version)) + 1;
  if (seq > kTidMaxSeq) {
    std::fprintf(stderr, "corewire engine: TID space exhausted\n");
    std::abort();
  }
  last_seq = seq;
  return TidMake(seq, id);
}

EpochGuard::EpochGuard(Worker* worker) noexcept : worker_(worker) {
  assert(!worker->in_operation);
  worker->in_operation = true;
  worker->now_ms_valid = false;
  worker->rep->epochs.Enter(worker->id);
}

EpochGuard::~EpochGuard() {
  EpochManager& epochs = worker_->rep->epochs;
  epochs.Exit(worker_->id);
  worker_->in_operation = false;
  worker_->now_ms_valid = false;
  if (worker_->limbo.size() >= kReclaimThreshold) {
    worker_->limbo.Reclaim(epochs.TryAdvance());
    epochs.ReclaimOrphans();
  }
}

WriteItem MakeItem(Table* table, uint32_t db, Slice key, size_t input_index,
                   WriteItem::Kind kind) noexcept {
  WriteItem item{};
  item.table = table;
  item.db = db;
  item.key = key.ptr;
  item.key_bytes = key.len;
  item.hash = table->Hash(key.ptr, key.len);
  item.input_index = input_index;
  item.kind = kind;
  return item;
}

bool WriteItemLess(const WriteItem& a, const WriteItem& b) noexcept {
  if (a.db != b.db) return a.db < b.db;
  if (a.hash != b.hash) return a.hash < b.hash;
  int c = CompareKeys(a.key, a.key_bytes, b.key, b.key_bytes);
  if (c != 0) return c < 0;
  return a.input_index < b.input_index;
}

bool SameKey(const WriteItem& a, const WriteItem& b) noexcept {
  return a.db == b.db && a.hash == b.hash &&
         CompareKeys(a.key, a.key_bytes, b.key, b.key_bytes) == 0;
}

void SortAndDedupe(std::vector<WriteItem>* items) {
  std::sort(items->begin(), items->end(), WriteItemLess);
  size_t kept = 0;
  for (size_t i = 0; i < items->size(); ++i) {
    if (i + 1 < items->size() && SameKey((*items)[i], (*items)[i + 1])) {
      continue;  // a later item of the same key wins
    }
    (*items)[kept++] = (*items)[i];
  }
  items->resize(kept);
}

Status LockAll(Worker* worker, WriteItem* items, size_t n) noexcept {
  EngineRep* rep = worker->rep;
  for (size_t i = 0; i < n; ++i) {
    WriteItem& item = items[i];
    assert(i == 0 || WriteItemLess(items[i - 1], item));
    item.record = nullptr;
    for (uint32_t attempt = 0; attempt < kMaxRelookups; ++attempt) {
      bool inserted = false;
      Record* record =
          item.table->FindOrInsert(item.hash, item.key, item.key_bytes,
                                   &rep->epochs, &worker->limbo, &inserted);
      if (record == nullptr) {
        ReleaseAll(worker, items, i);
        return Status::NoMemory();
      }
      if (inserted) {
        item.locked_tid = record->tid.load(std::memory_order_relaxed);
      } else if (!LockRecord(record, &item.locked_tid)) {
        continue;  // unlinked under us: look up again
      }
      item.record = record;
      item.inserted = inserted;
      item.stored_value = record->value.load(std::memory_order_relaxed);
      item.stored_expire_at_ms =
          record->expire_at_ms.load(std::memory_order_relaxed);
      bool live = item.stored_value != nullptr &&
                  !Expired(item.stored_expire_at_ms,
                           [worker] { return worker->NowMs(); });
      item.old_value = live ? item.stored_value : nullptr;
      item.old_expire_at_ms = live ? item.stored_expire_at_ms : 0;
      break;
    }
    if (item.record == nullptr) {
      ReleaseAll(worker, items, i);
      return Status::Internal();
    }
  }
  return Status::OK();
}

void ReleaseAll(Worker* worker, WriteItem* items, size_t n) noexcept {
  for (size_t i = 0; i < n; ++i) {
    if (items[i].record != nullptr) ReleaseOne(worker, &items[i]);
  }
}

void ResolveDeadline(Worker* worker, WriteItem* item) noexcept {
  if (item->kind != WriteItem::kPut) return;
  if (item->keep_ttl) item->new_expire_at_ms = item->old_expire_at_ms;
  if (Expired(item->new_expire_at_ms, [worker] { return worker->NowMs(); })) {
    FreeRetirable(item->new_value);
    item->new_value = nullptr;
    item->new_expire_at_ms = 0;
    item->kind = WriteItem::kDelete;
  }
}

uint64_t MaxLockedVersion(const WriteItem* items, size_t n) noexcept {
  uint64_t max_version = 0;
  for (size_t i = 0; i < n; ++i) {
    max_version = std::max(max_version, TidVersion(items[i].locked_tid));
  }
  return max_version;
}

Status InstallAndRelease(Worker* worker, WriteItem* items, size_t n,
                         uint64_t tid) noexcept {
  // Logged before anything is installed: a reader can see these writes
  // only once the record is in the worker's buffer, so a checkpoint that
  // sees them also covers the record (see storage.h).
  if (Storage* storage = worker->rep->storage.get()) {
    Status s = storage->Append(worker, items, n, tid);
    if (!s.ok()) {
      ReleaseAll(worker, items, n);
      FreeNewValues(items, n);
      return s;
    }
  }
  for (size_t i = 0; i < n; ++i) {
    WriteItem& item = items[i];
    Record* record = item.record;
    Table* table = item.table;
    assert(record != nullptr);
    assert(TidVersion(tid) > TidVersion(item.locked_tid));
    bool had_deadline =
        item.stored_value != nullptr && item.stored_expire_at_ms != 0;
    if (item.kind == WriteItem::kPut) {
      // Release, like value: a seqlock reader that sees it must then see
      // the lock bit (or a newer TID) on its second TID load.
      record->expire_at_ms.store(item.new_expire_at_ms,
                                 std::memory_order_release);
      record->value.store(item.new_value, std::memory_order_release);
      item.new_value = nullptr;
      if (item.stored_value == nullptr) {
        table->AddLive(item.hash, 1);
      } else {
        worker->Retire(item.stored_value);
      }
      table->AddExpires(item.hash,
                        int64_t{item.new_expire_at_ms != 0} - had_deadline);
      record->tid.store(TidVersion(tid), std::memory_order_release);
      item.record = nullptr;
    } else if (item.kind == WriteItem::kExpire &&
               item.stored_value != nullptr) {
      record->expire_at_ms.store(item.new_expire_at_ms,
                                 std::memory_order_release);
      table->AddExpires(item.hash,
                        int64_t{item.new_expire_at_ms != 0} - had_deadline);
      record->tid.store(TidVersion(tid), std::memory_order_release);
      item.record = nullptr;
    } else if (item.kind == WriteItem::kDelete &&
               item.stored_value != nullptr) {
      // Also reclaims a value that had merely expired.
      record->value.store(nullptr, std::memory_order_release);
      record->expire_at_ms.store(0, std::memory_order_release);
      worker->Retire(item.stored_value);
      table->AddLive(item.hash, -1);
      table->AddExpires(item.hash, -int64_t{had_deadline});
      UnlinkAndRetire(worker, table, record, tid);
      item.record = nullptr;
    } else {
      ReleaseOne(worker, &item);
    }
  }
  if (Storage* storage = worker->rep->storage.get()) storage->Installed(worker);
  return Status::OK();
}

Status ReplayItem(Worker* worker, const LogItem& logged) noexcept {
  EngineRep* rep = worker->rep;
  if (logged.db >= rep->options.databases ||
      logged.key.len > rep->options.max_key_bytes ||
      logged.value.len > rep->options.max_value_bytes) {
    return Status::InvalidArgument();
  }
  Table* table = rep->TableForWrite(logged.db);
  if (table == nullptr) return Status::NoMemory();
  EpochGuard epoch(worker);
  // A put whose deadline has passed is a delete at its TID.
  bool put = logged.kind == kItemPut &&
             !Expired(logged.expire_at_ms, [worker] { return worker->NowMs(); });
  Value* value = nullptr;
  if (put) {
    value = NewValue(logged.value.ptr, logged.value.len);
    if (value == nullptr) return Status::NoMemory();
  }
  WriteItem item = MakeItem(table, logged.db, logged.key, 0,
                            put ? WriteItem::kPut : WriteItem::kDelete);
  Status s = LockAll(worker, &item, 1);
  if (!s.ok()) {
    if (value != nullptr) FreeRetirable(value);
    return s;
  }
  Record* record = item.record;
  const uint64_t version = TidVersion(logged.tid);
  if (TidVersion(item.locked_tid) >= version) {
    // An equal or later write of the key is already in: keep it (and keep
    // an absent record linked: it may be a later delete).
    record->tid.store(item.locked_tid & ~kTidLock, std::memory_order_release);
    if (value != nullptr) FreeRetirable(value);
    return Status::OK();
  }
  bool had_deadline =
      item.stored_value != nullptr && item.stored_expire_at_ms != 0;
  if (put) {
    record->expire_at_ms.store(logged.expire_at_ms, std::memory_order_release);
    record->value.store(value, std::memory_order_release);
    if (item.stored_value == nullptr) {
      table->AddLive(item.hash, 1);
    } else {
      worker->Retire(item.stored_value);
    }
    table->AddExpires(item.hash,
                      int64_t{logged.expire_at_ms != 0} - had_deadline);
    record->tid.store(version, std::memory_order_release);
  } else {
    if (item.stored_value != nullptr) {
      record->value.store(nullptr, std::memory_order_release);
      record->expire_at_ms.store(0, std::memory_order_release);
      worker->Retire(item.stored_value);
      table->AddLive(item.hash, -1);
      table->AddExpires(item.hash, -int64_t{had_deadline});
    }
    record->tid.store(version | kTidAbsent, std::memory_order_release);
  }
  return Status::OK();
}

uint64_t SweepRecovered(Worker* worker) noexcept {
  EngineRep* rep = worker->rep;
  uint64_t live = 0;
  for (uint32_t db = 0; db < rep->options.databases; ++db) {
    Table* table = rep->table(db);
    if (table == nullptr) continue;
    for (size_t shard = 0; shard < Table::kShardCount; ++shard) {
      EpochGuard epoch(worker);
      table->ForEachInShard(shard, [&](Record* record) noexcept {
        uint64_t locked_tid = 0;
        if (!LockRecord(record, &locked_tid)) return;
        Value* value = record->value.load(std::memory_order_relaxed);
        int64_t deadline = record->expire_at_ms.load(std::memory_order_relaxed);
        if (value != nullptr &&
            !Expired(deadline, [worker] { return worker->NowMs(); })) {
          record->tid.store(locked_tid & ~kTidLock, std::memory_order_release);
          ++live;
          return;
        }
        if (value != nullptr) {
          record->value.store(nullptr, std::memory_order_release);
          record->expire_at_ms.store(0, std::memory_order_release);
          worker->Retire(value);
          table->AddLive(record->hash, -1);
          table->AddExpires(record->hash, -int64_t{deadline != 0});
        }
        UnlinkAndRetire(worker, table, record, locked_tid);
      });
    }
  }
  return live;
}

void FreeNewValues(WriteItem* items, size_t n) noexcept {
  for (size_t i = 0; i < n; ++i) {
    if (items[i].new_value != nullptr) {
      FreeRetirable(items[i].new_value);
      items[i].new_value = nullptr;
    }
  }
}

}  // namespace corewire
