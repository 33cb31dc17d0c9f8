#include "engine/txn.h"

#include <algorithm>
#include <cassert>

#include "engine/worker.h"

namespace corewire {

namespace {

// Placeholders this commit inserted into shard (items sorted by hash, and
// the shard is the top hash bits, so a shard's items are contiguous).
uint64_t OwnInserts(const std::vector<WriteItem>& items, size_t shard) {
  uint64_t first_hash = static_cast<uint64_t>(shard)
                        << (64 - Table::kShardBits);
  auto it = std::lower_bound(
      items.begin(), items.end(), first_hash,
      [](const WriteItem& item, uint64_t h) { return item.hash < h; });
  uint64_t count = 0;
  for (; it != items.end() && Table::ShardOf(it->hash) == shard; ++it) {
    if (it->inserted) ++count;
  }
  return count;
}

bool ValidateReads(Worker* worker, const Txn& txn,
                   const std::vector<WriteItem>& items,
                   const std::vector<Record*>& locked) {
  Table& table = worker->rep->table;
  for (const Txn::Read& read : txn.reads) {
    const auto* key = reinterpret_cast<const uint8_t*>(read.key.data());
    size_t shard = Table::ShardOf(read.hash);
    if (read.missing) {
      if (table.InsertVersion(shard) != read.observed + OwnInserts(items, shard)) {
        return false;
      }
      continue;
    }
    Record* record = table.Find(read.hash, key, read.key.size());
    if (record == nullptr) return false;
    uint64_t tid = record->tid.load(std::memory_order_acquire);
    if (TidVersion(tid) != read.observed) return false;
    if (tid & (kTidAbsent | kTidUnlinked)) return false;
    if ((tid & kTidLock) &&
        !std::binary_search(locked.begin(), locked.end(), record)) {
      return false;  // another writer is mid-commit on it
    }
  }
  return true;
}

}  // namespace

Status CommitTxn(Txn* txn) {
  Worker* worker = txn->worker;
  std::vector<WriteItem>& items = worker->items;
  std::vector<Record*>& locked = worker->locked;
  items.clear();
  locked.clear();
  items.reserve(txn->writes.size());
  locked.reserve(txn->writes.size());
  Table& table = worker->rep->table;
  size_t index = 0;
  for (const auto& entry : txn->writes) {
    WriteItem item{};
    item.key = reinterpret_cast<const uint8_t*>(entry.first.data());
    item.key_bytes = entry.first.size();
    item.hash = table.Hash(item.key, item.key_bytes);
    item.input_index = index++;
    item.kind = entry.second.is_delete ? WriteItem::kDelete : WriteItem::kPut;
    item.source = reinterpret_cast<const uint8_t*>(entry.second.value.data());
    item.source_bytes = entry.second.value.size();
    items.push_back(item);
  }
  std::sort(items.begin(), items.end(), WriteItemLess);
  for (WriteItem& item : items) {
    if (item.kind != WriteItem::kPut) continue;
    item.new_value = NewValue(item.source, item.source_bytes);
    if (item.new_value == nullptr) {
      FreeNewValues(items.data(), items.size());
      return Status::NoMemory();
    }
  }

  EpochGuard epoch(worker);
  // Nothing below may throw: the vectors were sized above.
  Status s = LockAll(worker, items.data(), items.size());
  if (!s.ok()) {
    FreeNewValues(items.data(), items.size());
    return s;
  }
  for (const WriteItem& item : items) locked.push_back(item.record);
  std::sort(locked.begin(), locked.end());
  if (!ValidateReads(worker, *txn, items, locked)) {
    ReleaseAll(worker, items.data(), items.size());
    FreeNewValues(items.data(), items.size());
    return Status::Conflict();
  }
  if (items.empty()) return Status::OK();  // read-only: validated above
  uint64_t max_seen = MaxLockedVersion(items.data(), items.size());
  for (const Txn::Read& read : txn->reads) {
    if (!read.missing) max_seen = std::max(max_seen, read.observed);
  }
  InstallAndRelease(worker, items.data(), items.size(),
                    worker->NextTid(max_seen));
  return Status::OK();
}

}  // namespace corewire
