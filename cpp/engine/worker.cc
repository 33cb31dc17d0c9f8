#include "engine/worker.h"

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <cstdlib>

namespace corewire {

namespace {
// Retired objects a worker lets pile up before it tries to reclaim.
constexpr size_t kReclaimThreshold = 64;
// Relookups when a record is unlinked under us; each sees newer state.
constexpr uint32_t kMaxRelookups = 1u << 20;

// Final step for a locked record that ends absent: out of the index, then
// marked unlinked (which also releases the lock), then retired.
void UnlinkAndRetire(Worker* worker, Record* record, uint64_t version) {
  worker->rep->table.Unlink(record, version);
  record->tid.store(TidVersion(version) | kTidAbsent | kTidUnlinked,
                    std::memory_order_release);
  worker->Retire(record);
}

void ReleaseOne(Worker* worker, WriteItem* item) {
  Record* record = item->record;
  if (record->value.load(std::memory_order_relaxed) == nullptr) {
    UnlinkAndRetire(worker, record, item->locked_tid);
  } else {
    record->tid.store(item->locked_tid & ~kTidLock, std::memory_order_release);
  }
  item->record = nullptr;
}
}  // namespace

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
  worker->rep->epochs.Enter(worker->id);
}

EpochGuard::~EpochGuard() {
  EpochManager& epochs = worker_->rep->epochs;
  epochs.Exit(worker_->id);
  worker_->in_operation = false;
  if (worker_->limbo.size() >= kReclaimThreshold) {
    worker_->limbo.Reclaim(epochs.TryAdvance());
    epochs.ReclaimOrphans();
  }
}

bool WriteItemLess(const WriteItem& a, const WriteItem& b) noexcept {
  if (a.hash != b.hash) return a.hash < b.hash;
  int c = CompareKeys(a.key, a.key_bytes, b.key, b.key_bytes);
  if (c != 0) return c < 0;
  return a.input_index < b.input_index;
}

bool SameKey(const WriteItem& a, const WriteItem& b) noexcept {
  return a.hash == b.hash &&
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
          rep->table.FindOrInsert(item.hash, item.key, item.key_bytes,
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
      item.old_value = record->value.load(std::memory_order_relaxed);
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

uint64_t MaxLockedVersion(const WriteItem* items, size_t n) noexcept {
  uint64_t max_version = 0;
  for (size_t i = 0; i < n; ++i) {
    max_version = std::max(max_version, TidVersion(items[i].locked_tid));
  }
  return max_version;
}

void InstallAndRelease(Worker* worker, WriteItem* items, size_t n,
                       uint64_t tid) noexcept {
  Table& table = worker->rep->table;
  for (size_t i = 0; i < n; ++i) {
    WriteItem& item = items[i];
    Record* record = item.record;
    assert(record != nullptr);
    assert(TidVersion(tid) > TidVersion(item.locked_tid));
    if (item.kind == WriteItem::kPut) {
      record->value.store(item.new_value, std::memory_order_release);
      item.new_value = nullptr;
      if (item.old_value == nullptr) {
        table.AddLive(item.hash, 1);
      } else {
        worker->Retire(item.old_value);
      }
      record->tid.store(TidVersion(tid), std::memory_order_release);
      item.record = nullptr;
    } else if (item.kind == WriteItem::kDelete && item.old_value != nullptr) {
      record->value.store(nullptr, std::memory_order_release);
      worker->Retire(item.old_value);
      table.AddLive(item.hash, -1);
      UnlinkAndRetire(worker, record, tid);
      item.record = nullptr;
    } else {
      ReleaseOne(worker, &item);
    }
  }
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
