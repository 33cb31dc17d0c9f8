#include "engine/txn.h"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cstring>

#include "engine/worker.h"

namespace corewire {

std::string TxnKey(uint32_t db, const uint8_t* key, size_t key_bytes) {
  std::string k(sizeof(db) + key_bytes, '\0');
  std::memcpy(&k[0], &db, sizeof(db));
  if (key_bytes > 0) std::memcpy(&k[sizeof(db)], key, key_bytes);
  return k;
}

uint32_t TxnKeyDb(const std::string& k) {
  uint32_t db;
  std::memcpy(&db, k.data(), sizeof(db));
  return db;
}

namespace {

bool LockedByOther(uint64_t tid, Record* record,
                   const std::vector<Record*>& locked) {
  return (tid & kTidLock) &&
         !std::binary_search(locked.begin(), locked.end(), record);
}

bool ValidateReads(Worker* worker, const Txn& txn,
                   const std::vector<Record*>& locked) {
  EngineRep* rep = worker->rep;
  auto now = [worker] { return worker->NowMs(); };
  for (const Txn::Read& read : txn.reads) {
    Table* table = rep->table(read.db);
    const uint8_t* key = TxnKeyBytes(read.key);
    size_t key_bytes = TxnKeySize(read.key);
    if (read.missing) {
      // Still missing at the commit point: no record, a placeholder or a
      // deleted record that nobody else is installing, or the same expired
      // record (expiry is monotonic). Checked per key, so inserts of other
      // keys never conflict with this read.
      Record* record =
          table == nullptr ? nullptr : table->Find(read.hash, key, key_bytes);
      if (record == nullptr) continue;
      uint64_t tid = record->tid.load(std::memory_order_acquire);
      if (LockedByOther(tid, record, locked)) return false;
      if (tid & (kTidAbsent | kTidUnlinked)) continue;
      if (read.expired_version != 0 &&
          TidVersion(tid) == read.expired_version) {
        continue;
      }
      return false;
    }
    Record* record = table->Find(read.hash, key, key_bytes);
    if (record == nullptr) return false;
    uint64_t tid = record->tid.load(std::memory_order_acquire);
    if (TidVersion(tid) != read.observed) return false;
    if (tid & (kTidAbsent | kTidUnlinked)) return false;
    if (LockedByOther(tid, record, locked)) return false;
    // Expired since the read: it no longer holds at the commit point.
    if (Expired(read.expire_at_ms, now)) return false;
  }
  return true;
}

}  // namespace

Status CommitTxn(Txn* txn) {
  Worker* worker = txn->worker;
  EngineRep* rep = worker->rep;
  std::vector<WriteItem>& items = worker->items;
  std::vector<Record*>& locked = worker->locked;
  items.clear();
  locked.clear();
  items.reserve(txn->writes.size());
  locked.reserve(txn->writes.size());
  size_t index = 0;
  for (const auto& entry : txn->writes) {
    uint32_t db = TxnKeyDb(entry.first);
    Table* table = rep->TableForWrite(db);
    if (table == nullptr) return Status::NoMemory();
    WriteItem item =
        MakeItem(table, db, Slice{TxnKeyBytes(entry.first), TxnKeySize(entry.first)},
                 index++, entry.second.is_delete ? WriteItem::kDelete
                                                 : WriteItem::kPut);
    item.source = reinterpret_cast<const uint8_t*>(entry.second.value.data());
    item.source_bytes = entry.second.value.size();
    item.keep_ttl = entry.second.keep_ttl;
    item.new_expire_at_ms = entry.second.expire_at_ms;
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
  // Our locks and placeholders are stores, validation is loads: a full
  // fence orders them, so of two commits that each read what the other
  // writes, at least one sees the other's lock (Dekker) and fails.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (!ValidateReads(worker, *txn, locked)) {
    ReleaseAll(worker, items.data(), items.size());
    FreeNewValues(items.data(), items.size());
    return Status::Conflict();
  }
  if (items.empty()) return Status::OK();  // read-only: validated above
  for (WriteItem& item : items) ResolveDeadline(worker, &item);
  uint64_t max_seen = MaxLockedVersion(items.data(), items.size());
  for (const Txn::Read& read : txn->reads) {
    max_seen = std::max(max_seen, read.missing ? read.expired_version
                                               : read.observed);
  }
  return InstallAndRelease(worker, items.data(), items.size(),
                           worker->NextTid(max_seen));
}

}  // namespace corewire
