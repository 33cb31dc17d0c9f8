#include "engine/engine.h"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <climits>
#include <cstdio>
#include <new>

#include "engine/txn.h"
#include "engine/worker.h"

namespace corewire {

namespace {

// Most transactions one worker may have open at once.
constexpr size_t kMaxOpenTxnsPerWorker = size_t{1} << 16;
// Longest strict integer Redis accepts ("-9223372036854775808").
constexpr size_t kMaxIntegerBytes = 20;

// No exception crosses the API: bad_alloc becomes NoMemory, anything else
// Internal. Code that holds record locks is noexcept, so a throw can never
// leave a lock behind.
template <typename Fn>
Status Guarded(Fn&& fn) noexcept {
  try {
    return fn();
  } catch (const std::bad_alloc&) {
    return Status::NoMemory();
  } catch (...) {
    return Status::Internal();
  }
}

bool ValidSlice(Slice s, size_t max_bytes) {
  return (s.ptr != nullptr || s.len == 0) && s.len <= max_bytes;
}

void CallSink(ValueSink sink, void* ctx, const Value* value) noexcept {
  if (value == nullptr) {
    sink(ctx, nullptr, 0);
  } else {
    sink(ctx, value->data(), value->size_bytes);
  }
}

// Redis string2ll: optional '-', no leading zeros (except "0"), no '+', no
// spaces, 1..20 chars, within int64.
bool ParseStrictInt64(const uint8_t* p, size_t n, int64_t* out) {
  if (n == 0 || n > kMaxIntegerBytes) return false;
  if (n == 1 && p[0] == '0') {
    *out = 0;
    return true;
  }
  size_t i = 0;
  bool negative = p[0] == '-';
  if (negative) i = 1;
  if (i >= n || p[i] < '1' || p[i] > '9') return false;
  uint64_t v = 0;
  for (; i < n; ++i) {
    if (p[i] < '0' || p[i] > '9') return false;
    uint64_t digit = p[i] - '0';
    if (v > (UINT64_MAX - digit) / 10) return false;
    v = v * 10 + digit;
  }
  constexpr uint64_t kMaxMagnitude = static_cast<uint64_t>(INT64_MAX);
  if (negative) {
    if (v > kMaxMagnitude + 1) return false;
    *out = v == kMaxMagnitude + 1 ? INT64_MIN : -static_cast<int64_t>(v);
  } else {
    if (v > kMaxMagnitude) return false;
    *out = static_cast<int64_t>(v);
  }
  return true;
}

size_t FormatInt64(int64_t value, char* buffer /* >= 21 bytes */) {
  char digits[24];
  size_t n = 0;
  uint64_t magnitude = value < 0 ? 0 - static_cast<uint64_t>(value)
                                 : static_cast<uint64_t>(value);
  do {
    digits[n++] = static_cast<char>('0' + magnitude % 10);
    magnitude /= 10;
  } while (magnitude != 0);
  size_t out = 0;
  if (value < 0) buffer[out++] = '-';
  while (n > 0) buffer[out++] = digits[--n];
  return out;
}

WriteItem MakeItem(const Table& table, Slice key, size_t input_index,
                   WriteItem::Kind kind) {
  WriteItem item{};
  item.key = key.ptr;
  item.key_bytes = key.len;
  item.hash = table.Hash(key.ptr, key.len);
  item.input_index = input_index;
  item.kind = kind;
  return item;
}

// Consistent snapshot of keys, then emit(i, const Value*) per key in order.
// Optimistic: read all, validate all versions; after a few failed attempts
// lock the keys instead.
template <typename Emit>
Status Snapshot(Worker* worker, const Slice* keys, size_t n, Emit&& emit) {
  EngineRep* rep = worker->rep;
  Table& table = rep->table;
  std::vector<SnapItem>& snap = worker->snap;
  snap.resize(n);
  for (size_t i = 0; i < n; ++i) snap[i].hash = table.Hash(keys[i].ptr, keys[i].len);

  for (uint32_t attempt = 0; attempt < rep->options.max_snapshot_attempts;
       ++attempt) {
    EpochGuard epoch(worker);
    for (size_t i = 0; i < n; ++i) {
      SnapItem& item = snap[i];
      // Insert version first: a miss is then provably a miss until
      // validation if the version is still the same there.
      item.observed = table.InsertVersion(Table::ShardOf(item.hash));
      item.value = nullptr;
      item.record = table.Find(item.hash, keys[i].ptr, keys[i].len);
      if (item.record == nullptr) continue;
      uint64_t tid = ReadStable(item.record, &item.value);
      if (tid & (kTidAbsent | kTidUnlinked)) {
        item.record = nullptr;
        item.value = nullptr;
      } else {
        item.observed = tid;
      }
    }
    bool valid = true;
    for (size_t i = 0; i < n && valid; ++i) {
      const SnapItem& item = snap[i];
      valid = item.record != nullptr
                  ? item.record->tid.load(std::memory_order_acquire) ==
                        item.observed
                  : table.InsertVersion(Table::ShardOf(item.hash)) ==
                        item.observed;
    }
    if (!valid) continue;
    for (size_t i = 0; i < n; ++i) emit(i, snap[i].value);
    return Status::OK();
  }

  // Fallback: lock every key (placeholders for missing ones), read, unlock.
  std::vector<WriteItem>& items = worker->items;
  items.clear();
  items.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    items.push_back(MakeItem(table, keys[i], i, WriteItem::kLockOnly));
  }
  SortAndDedupe(&items);
  EpochGuard epoch(worker);
  Status s = LockAll(worker, items.data(), items.size());
  if (!s.ok()) return s;
  for (size_t i = 0; i < n; ++i) {
    WriteItem probe = MakeItem(table, keys[i], 0, WriteItem::kLockOnly);
    auto it = std::lower_bound(items.begin(), items.end(), probe,
                               [](const WriteItem& a, const WriteItem& b) {
                                 if (a.hash != b.hash) return a.hash < b.hash;
                                 return CompareKeys(a.key, a.key_bytes, b.key,
                                                    b.key_bytes) < 0;
                               });
    assert(it != items.end() && SameKey(*it, probe));
    emit(i, it->old_value);
  }
  ReleaseAll(worker, items.data(), items.size());
  return Status::OK();
}

}  // namespace

Engine::Engine(EngineRep* rep) : rep_(rep) {}

Engine::~Engine() {
  assert(rep_->open_workers == 0);
  delete rep_;
}

Status Engine::Open(const EngineOptions& options,
                    std::unique_ptr<Engine>* engine) {
  return Guarded([&]() -> Status {
    if (engine == nullptr) return Status::InvalidArgument();
    uint64_t seed = static_cast<uint64_t>(
        std::chrono::steady_clock::now().time_since_epoch().count());
    std::unique_ptr<EngineRep> rep(new (std::nothrow) EngineRep(options, seed));
    if (rep == nullptr || !rep->table.Init()) return Status::NoMemory();
    Engine* created = new (std::nothrow) Engine(rep.get());
    if (created == nullptr) return Status::NoMemory();
    rep.release();
    engine->reset(created);
    return Status::OK();
  });
}

Status Engine::OpenWorker(size_t worker_id, Worker** worker) {
  return Guarded([&]() -> Status {
    if (worker == nullptr) return Status::InvalidArgument();
    *worker = nullptr;
    std::lock_guard<std::mutex> guard(rep_->workers_mu);
    size_t slot = kMaxWorkers;
    if (worker_id < kMaxWorkers && !rep_->worker_in_use[worker_id]) {
      slot = worker_id;
    } else {
      for (size_t i = 0; i < kMaxWorkers; ++i) {
        if (!rep_->worker_in_use[i]) {
          slot = i;
          break;
        }
      }
    }
    if (slot == kMaxWorkers) return Status::InvalidArgument();
    Worker* created = new (std::nothrow) Worker(
        this, rep_, static_cast<uint32_t>(slot), rep_->worker_last_seq[slot]);
    if (created == nullptr) return Status::NoMemory();
    rep_->worker_in_use[slot] = true;
    ++rep_->open_workers;
    rep_->epochs.NoteParticipant(slot);
    *worker = created;
    return Status::OK();
  });
}

void Engine::CloseWorker(Worker* worker) {
  if (worker == nullptr) return;
  assert(worker->rep == rep_);
  while (worker->txns != nullptr) TxnAbort(worker->txns);
  rep_->epochs.AdoptOrphans(&worker->limbo);
  {
    std::lock_guard<std::mutex> guard(rep_->workers_mu);
    rep_->worker_last_seq[worker->id] = worker->last_seq;
    rep_->worker_in_use[worker->id] = false;
    --rep_->open_workers;
  }
  delete worker;
}

size_t Engine::open_workers() const {
  std::lock_guard<std::mutex> guard(rep_->workers_mu);
  return rep_->open_workers;
}

Status Engine::Get(Worker* worker, Slice key, ValueSink sink, void* sink_ctx) {
  if (worker == nullptr || sink == nullptr ||
      !ValidSlice(key, rep_->options.max_key_bytes)) {
    return Status::InvalidArgument();
  }
  EpochGuard epoch(worker);
  uint64_t hash = rep_->table.Hash(key.ptr, key.len);
  Value* value = nullptr;
  if (Record* record = rep_->table.Find(hash, key.ptr, key.len)) {
    // Absent or unlinked: the key was missing at some point of this call.
    if (ReadStable(record, &value) & (kTidAbsent | kTidUnlinked)) {
      value = nullptr;
    }
  }
  CallSink(sink, sink_ctx, value);
  return Status::OK();
}

Status Engine::Get(Worker* worker, Slice key, std::string* value) {
  return Guarded([&]() -> Status {
    if (value == nullptr) return Status::InvalidArgument();
    struct Ctx {
      std::string* out;
      bool found;
      bool no_memory;
    } ctx{value, false, false};
    Status s = Get(
        worker, key,
        [](void* c, const uint8_t* p, size_t n) {
          Ctx* ctx = static_cast<Ctx*>(c);
          if (p == nullptr) return;
          ctx->found = true;
          try {
            ctx->out->assign(reinterpret_cast<const char*>(p), n);
          } catch (...) {
            ctx->no_memory = true;
          }
        },
        &ctx);
    if (!s.ok()) return s;
    if (ctx.no_memory) return Status::NoMemory();
    return ctx.found ? Status::OK() : Status::NotFound();
  });
}

Status Engine::Put(Worker* worker, Slice key, Slice value, uint32_t flags,
                   ValueSink old_sink, void* old_ctx) {
  if (worker == nullptr || !ValidSlice(key, rep_->options.max_key_bytes) ||
      !ValidSlice(value, rep_->options.max_value_bytes) ||
      (flags & ~(kPutIfAbsent | kPutIfPresent)) != 0 ||
      flags == (kPutIfAbsent | kPutIfPresent)) {
    return Status::InvalidArgument();
  }
  WriteItem item = MakeItem(rep_->table, key, 0, WriteItem::kPut);
  item.new_value = NewValue(value.ptr, value.len);
  if (item.new_value == nullptr) return Status::NoMemory();
  EpochGuard epoch(worker);
  Status s = LockAll(worker, &item, 1);
  if (!s.ok()) {
    FreeNewValues(&item, 1);
    return s;
  }
  if (old_sink != nullptr) CallSink(old_sink, old_ctx, item.old_value);
  if (((flags & kPutIfAbsent) && item.old_value != nullptr) ||
      ((flags & kPutIfPresent) && item.old_value == nullptr)) {
    ReleaseAll(worker, &item, 1);
    FreeNewValues(&item, 1);
    return Status::ConditionFailed();
  }
  InstallAndRelease(worker, &item, 1,
                    worker->NextTid(TidVersion(item.locked_tid)));
  return Status::OK();
}

Status Engine::Delete(Worker* worker, const Slice* keys, size_t n_keys,
                      uint64_t* deleted) {
  return Guarded([&]() -> Status {
    if (worker == nullptr || deleted == nullptr ||
        (keys == nullptr && n_keys > 0) ||
        n_keys > rep_->options.max_batch_keys) {
      return Status::InvalidArgument();
    }
    *deleted = 0;
    for (size_t i = 0; i < n_keys; ++i) {
      if (!ValidSlice(keys[i], rep_->options.max_key_bytes)) {
        return Status::InvalidArgument();
      }
    }
    if (n_keys == 0) return Status::OK();
    Table& table = rep_->table;
    std::vector<WriteItem>& items = worker->items;
    items.clear();
    if (n_keys == 1) {
      // A miss needs no lock: it is linearized at the lookup.
      EpochGuard epoch(worker);
      uint64_t hash = table.Hash(keys[0].ptr, keys[0].len);
      if (table.Find(hash, keys[0].ptr, keys[0].len) == nullptr) {
        return Status::OK();
      }
    }
    items.reserve(n_keys);
    for (size_t i = 0; i < n_keys; ++i) {
      items.push_back(MakeItem(table, keys[i], i, WriteItem::kDelete));
    }
    SortAndDedupe(&items);
    EpochGuard epoch(worker);
    Status s = LockAll(worker, items.data(), items.size());
    if (!s.ok()) return s;
    uint64_t present = 0;
    for (const WriteItem& item : items) present += item.old_value != nullptr;
    if (present == 0) {
      ReleaseAll(worker, items.data(), items.size());
    } else {
      uint64_t tid =
          worker->NextTid(MaxLockedVersion(items.data(), items.size()));
      InstallAndRelease(worker, items.data(), items.size(), tid);
    }
    *deleted = present;
    return Status::OK();
  });
}

Status Engine::Exists(Worker* worker, const Slice* keys, size_t n_keys,
                      uint64_t* count) {
  return Guarded([&]() -> Status {
    if (worker == nullptr || count == nullptr ||
        (keys == nullptr && n_keys > 0) ||
        n_keys > rep_->options.max_batch_keys) {
      return Status::InvalidArgument();
    }
    for (size_t i = 0; i < n_keys; ++i) {
      if (!ValidSlice(keys[i], rep_->options.max_key_bytes)) {
        return Status::InvalidArgument();
      }
    }
    uint64_t found = 0;
    Status s = Snapshot(worker, keys, n_keys,
                        [&](size_t, const Value* v) { found += v != nullptr; });
    *count = s.ok() ? found : 0;
    return s;
  });
}

Status Engine::IncrBy(Worker* worker, Slice key, int64_t delta,
                      int64_t* result) {
  if (worker == nullptr || result == nullptr ||
      !ValidSlice(key, rep_->options.max_key_bytes)) {
    return Status::InvalidArgument();
  }
  WriteItem item = MakeItem(rep_->table, key, 0, WriteItem::kPut);
  EpochGuard epoch(worker);
  Status s = LockAll(worker, &item, 1);
  if (!s.ok()) return s;
  int64_t current = 0;
  const Value* old = item.old_value;
  if (old != nullptr && !ParseStrictInt64(old->data(), old->size_bytes, &current)) {
    ReleaseAll(worker, &item, 1);
    return Status::NotInteger();
  }
  int64_t next = 0;
  if (__builtin_add_overflow(current, delta, &next)) {
    ReleaseAll(worker, &item, 1);
    return Status::Overflow();
  }
  char buffer[24];
  size_t length = FormatInt64(next, buffer);
  item.new_value = NewValue(reinterpret_cast<const uint8_t*>(buffer), length);
  if (item.new_value == nullptr) {
    ReleaseAll(worker, &item, 1);
    return Status::NoMemory();
  }
  InstallAndRelease(worker, &item, 1,
                    worker->NextTid(TidVersion(item.locked_tid)));
  *result = next;
  return Status::OK();
}

Status Engine::MultiGet(Worker* worker, const Slice* keys, size_t n_keys,
                        ValueSink sink, void* sink_ctx) {
  return Guarded([&]() -> Status {
    if (worker == nullptr || sink == nullptr ||
        (keys == nullptr && n_keys > 0) ||
        n_keys > rep_->options.max_batch_keys) {
      return Status::InvalidArgument();
    }
    for (size_t i = 0; i < n_keys; ++i) {
      if (!ValidSlice(keys[i], rep_->options.max_key_bytes)) {
        return Status::InvalidArgument();
      }
    }
    return Snapshot(worker, keys, n_keys, [&](size_t, const Value* v) {
      CallSink(sink, sink_ctx, v);
    });
  });
}

Status Engine::MultiPut(Worker* worker, const Slice* keys, const Slice* values,
                        size_t n) {
  return Guarded([&]() -> Status {
    if (worker == nullptr || ((keys == nullptr || values == nullptr) && n > 0) ||
        n > rep_->options.max_batch_keys) {
      return Status::InvalidArgument();
    }
    for (size_t i = 0; i < n; ++i) {
      if (!ValidSlice(keys[i], rep_->options.max_key_bytes) ||
          !ValidSlice(values[i], rep_->options.max_value_bytes)) {
        return Status::InvalidArgument();
      }
    }
    if (n == 0) return Status::OK();
    Table& table = rep_->table;
    std::vector<WriteItem>& items = worker->items;
    items.clear();
    items.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      items.push_back(MakeItem(table, keys[i], i, WriteItem::kPut));
    }
    SortAndDedupe(&items);  // later duplicates win
    for (WriteItem& item : items) {
      const Slice& v = values[item.input_index];
      item.new_value = NewValue(v.ptr, v.len);
      if (item.new_value == nullptr) {
        FreeNewValues(items.data(), items.size());
        return Status::NoMemory();
      }
    }
    EpochGuard epoch(worker);
    Status s = LockAll(worker, items.data(), items.size());
    if (!s.ok()) {
      FreeNewValues(items.data(), items.size());
      return s;
    }
    uint64_t tid = worker->NextTid(MaxLockedVersion(items.data(), items.size()));
    InstallAndRelease(worker, items.data(), items.size(), tid);
    return Status::OK();
  });
}

Status Engine::Count(Worker* worker, uint64_t* n_keys) {
  if (worker == nullptr || n_keys == nullptr) return Status::InvalidArgument();
  *n_keys = rep_->table.LiveCount();
  return Status::OK();
}

Status Engine::Clear(Worker* worker) {
  if (worker == nullptr) return Status::InvalidArgument();
  Table& table = rep_->table;
  for (size_t shard = 0; shard < Table::kShardCount; ++shard) {
    // One epoch per shard, so reclamation keeps up on large tables.
    EpochGuard epoch(worker);
    table.ForEachInShard(shard, [&](Record* record) noexcept {
      WriteItem item{};
      if (!LockRecord(record, &item.locked_tid)) return;  // already gone
      item.record = record;
      item.hash = record->hash;
      item.kind = WriteItem::kDelete;
      item.old_value = record->value.load(std::memory_order_relaxed);
      if (item.old_value == nullptr) {
        ReleaseAll(worker, &item, 1);  // someone's placeholder
      } else {
        InstallAndRelease(worker, &item, 1,
                          worker->NextTid(TidVersion(item.locked_tid)));
      }
    });
  }
  return Status::OK();
}

Status Engine::TxnBegin(Worker* worker, Txn** txn) {
  if (worker == nullptr || txn == nullptr) return Status::InvalidArgument();
  *txn = nullptr;
  if (worker->open_txns >= kMaxOpenTxnsPerWorker) {
    return Status::InvalidArgument();
  }
  Txn* created = new (std::nothrow) Txn(worker);
  if (created == nullptr) return Status::NoMemory();
  created->next = worker->txns;
  if (worker->txns != nullptr) worker->txns->prev = created;
  worker->txns = created;
  ++worker->open_txns;
  *txn = created;
  return Status::OK();
}

Status Engine::TxnGet(Txn* txn, Slice key, ValueSink sink, void* sink_ctx) {
  return Guarded([&]() -> Status {
    if (txn == nullptr || !ValidSlice(key, rep_->options.max_key_bytes)) {
      return Status::InvalidArgument();
    }
    std::string k(reinterpret_cast<const char*>(key.ptr), key.len);
    auto own = txn->writes.find(k);
    if (own != txn->writes.end()) {
      if (sink != nullptr) {
        const Txn::Write& w = own->second;
        if (w.is_delete) {
          sink(sink_ctx, nullptr, 0);
        } else {
          // data() of an empty std::string is non-NULL: an empty value.
          sink(sink_ctx, reinterpret_cast<const uint8_t*>(w.value.data()),
               w.value.size());
        }
      }
      return Status::OK();
    }
    if (txn->reads.size() + txn->writes.size() >= rep_->options.max_txn_keys ||
        txn->bytes + key.len > rep_->options.max_txn_bytes) {
      return Status::InvalidArgument();
    }
    Worker* worker = txn->worker;
    Table& table = rep_->table;
    EpochGuard epoch(worker);
    uint64_t hash = table.Hash(key.ptr, key.len);
    uint64_t observed = table.InsertVersion(Table::ShardOf(hash));
    bool missing = true;
    Value* value = nullptr;
    if (Record* record = table.Find(hash, key.ptr, key.len)) {
      uint64_t tid = ReadStable(record, &value);
      if (tid & (kTidAbsent | kTidUnlinked)) {
        value = nullptr;  // keep the insert version read before the lookup
      } else {
        observed = TidVersion(tid);
        missing = false;
      }
    }
    txn->reads.push_back(Txn::Read{std::move(k), hash, observed, missing});
    txn->bytes += key.len;
    if (sink != nullptr) CallSink(sink, sink_ctx, value);
    return Status::OK();
  });
}

namespace {
Status BufferWrite(const EngineOptions& options, Txn* txn, Slice key,
                   Slice value, bool is_delete) {
  if (txn == nullptr || !ValidSlice(key, options.max_key_bytes) ||
      !ValidSlice(value, options.max_value_bytes)) {
    return Status::InvalidArgument();
  }
  std::string k(reinterpret_cast<const char*>(key.ptr), key.len);
  auto it = txn->writes.find(k);
  bool is_new = it == txn->writes.end();
  if ((is_new &&
       txn->reads.size() + txn->writes.size() >= options.max_txn_keys) ||
      txn->bytes + key.len + value.len > options.max_txn_bytes) {
    return Status::InvalidArgument();
  }
  std::string v(reinterpret_cast<const char*>(value.ptr), value.len);
  if (is_new) {
    txn->writes.emplace(std::move(k), Txn::Write{std::move(v), is_delete});
  } else {
    it->second = Txn::Write{std::move(v), is_delete};
  }
  // Overwrites are counted again: a cheap upper bound.
  txn->bytes += key.len + value.len;
  return Status::OK();
}
}  // namespace

Status Engine::TxnPut(Txn* txn, Slice key, Slice value) {
  return Guarded(
      [&]() { return BufferWrite(rep_->options, txn, key, value, false); });
}

Status Engine::TxnDelete(Txn* txn, Slice key) {
  return Guarded([&]() {
    return BufferWrite(rep_->options, txn, key, Slice{nullptr, 0}, true);
  });
}

Status Engine::TxnCommit(Txn* txn) {
  if (txn == nullptr) return Status::InvalidArgument();
  Status s = Guarded([&]() { return CommitTxn(txn); });
  TxnAbort(txn);  // frees it; nothing of it is left in the store
  return s;
}

void Engine::TxnAbort(Txn* txn) {
  if (txn == nullptr) return;
  Worker* worker = txn->worker;
  if (txn->prev != nullptr) txn->prev->next = txn->next;
  if (txn->next != nullptr) txn->next->prev = txn->prev;
  if (worker->txns == txn) worker->txns = txn->next;
  --worker->open_txns;
  delete txn;
}

}  // namespace corewire
