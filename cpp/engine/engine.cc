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

bool ValidKeys(const EngineOptions& options, const Slice* keys, size_t n) {
  if ((keys == nullptr && n > 0) || n > options.max_batch_keys) return false;
  for (size_t i = 0; i < n; ++i) {
    if (!ValidSlice(keys[i], options.max_key_bytes)) return false;
  }
  return true;
}

// Scan cursors: shard in the top bits, the shard's bucket cursor below.
constexpr unsigned kScanShardShift = 64 - Table::kShardBits;
constexpr uint64_t kScanBucketMask = (uint64_t{1} << kScanShardShift) - 1;
// Slots a scan step may probe per key asked for.
constexpr size_t kScanProbesPerKey = 16;
// Random shard picks before RANDOMKEY sweeps instead.
constexpr int kRandomKeyAttempts = 64;

// Whether a record holds a live key right now (lock-free, approximate
// under concurrent writes; for iteration).
bool LiveForIteration(Worker* worker, const Record* record) {
  uint64_t tid = record->tid.load(std::memory_order_acquire);
  if (tid & (kTidAbsent | kTidUnlinked)) return false;
  return !Expired(record->expire_at_ms.load(std::memory_order_acquire),
                  [worker] { return worker->NowMs(); });
}

// Consistent snapshot of keys, then emit(i, const Value*) per key in order.
// Optimistic: read all, validate all versions; after a few failed attempts
// lock the keys instead.
template <typename Emit>
Status Snapshot(Worker* worker, uint32_t db, const Slice* keys, size_t n,
                Emit&& emit) {
  EngineRep* rep = worker->rep;
  Table* table_or_null = rep->table(db);
  if (table_or_null == nullptr) {  // never written: all missing
    for (size_t i = 0; i < n; ++i) emit(i, nullptr);
    return Status::OK();
  }
  Table& table = *table_or_null;
  auto now = [worker] { return worker->NowMs(); };
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
      int64_t deadline = 0;
      uint64_t tid = ReadStable(item.record, &item.value, &deadline);
      if (tid & (kTidAbsent | kTidUnlinked)) {
        item.record = nullptr;
        item.value = nullptr;
      } else {
        item.observed = tid;  // an expired record must stay unchanged too
        if (Expired(deadline, now)) item.value = nullptr;
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
    items.push_back(MakeItem(&table, db, keys[i], i, WriteItem::kLockOnly));
  }
  SortAndDedupe(&items);
  EpochGuard epoch(worker);
  Status s = LockAll(worker, items.data(), items.size());
  if (!s.ok()) return s;
  for (size_t i = 0; i < n; ++i) {
    WriteItem probe = MakeItem(&table, db, keys[i], 0, WriteItem::kLockOnly);
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
  rep_->storage.reset();  // stops its threads before the tables go
  delete rep_;
}

Status Engine::Open(const EngineOptions& options,
                    std::unique_ptr<Engine>* engine) {
  return Guarded([&]() -> Status {
    if (engine == nullptr || options.databases == 0 ||
        options.databases > kMaxDatabases) {
      return Status::InvalidArgument();
    }
    uint64_t seed = static_cast<uint64_t>(
        std::chrono::steady_clock::now().time_since_epoch().count());
    std::unique_ptr<EngineRep> rep(new (std::nothrow) EngineRep(options, seed));
    if (rep == nullptr || rep->TableForWrite(0) == nullptr) {
      return Status::NoMemory();
    }
    Engine* created = new (std::nothrow) Engine(rep.get());
    if (created == nullptr) return Status::NoMemory();
    rep.release();
    engine->reset(created);
    return Status::OK();
  });
}

Status OpenWorkerHandle(Engine* engine, EngineRep* rep, size_t worker_id,
                        Worker** worker) {
  return Guarded([&]() -> Status {
    if (worker == nullptr) return Status::InvalidArgument();
    *worker = nullptr;
    std::lock_guard<std::mutex> guard(rep->workers_mu);
    size_t slot = Engine::kMaxWorkers;
    if (worker_id < Engine::kMaxWorkers && !rep->worker_in_use[worker_id]) {
      slot = worker_id;
    } else {
      for (size_t i = 0; i < Engine::kMaxWorkers; ++i) {
        if (!rep->worker_in_use[i]) {
          slot = i;
          break;
        }
      }
    }
    if (slot == Engine::kMaxWorkers) return Status::InvalidArgument();
    Worker* created = new (std::nothrow) Worker(
        engine, rep, static_cast<uint32_t>(slot), rep->worker_last_seq[slot]);
    if (created == nullptr) return Status::NoMemory();
    rep->worker_in_use[slot] = true;
    ++rep->open_workers;
    rep->epochs.NoteParticipant(slot);
    *worker = created;
    return Status::OK();
  });
}

void CloseWorkerHandle(Worker* worker) {
  EngineRep* rep = worker->rep;
  while (worker->txns != nullptr) worker->engine->TxnAbort(worker->txns);
  rep->epochs.AdoptOrphans(&worker->limbo);
  {
    std::lock_guard<std::mutex> guard(rep->workers_mu);
    rep->worker_last_seq[worker->id] = worker->last_seq;
    rep->worker_in_use[worker->id] = false;
    --rep->open_workers;
  }
  delete worker;
}

Status Engine::OpenWorker(size_t worker_id, Worker** worker) {
  Status s = OpenWorkerHandle(this, rep_, worker_id, worker);
  if (!s.ok() || rep_->storage == nullptr) return s;
  s = Guarded([&]() { return rep_->storage->Attach(*worker); });
  if (!s.ok()) {
    CloseWorkerHandle(*worker);
    *worker = nullptr;
  }
  return s;
}

void Engine::CloseWorker(Worker* worker) {
  if (worker == nullptr) return;
  assert(worker->rep == rep_);
  if (rep_->storage != nullptr) {
    Guarded([&]() {
      rep_->storage->Detach(worker);
      return Status::OK();
    });
  }
  CloseWorkerHandle(worker);
}

Status Engine::OpenStorage(const cw_storage_options& options,
                           std::string* error) {
  return Guarded([&]() -> Status {
    if (rep_->storage != nullptr || open_workers() != 0) {
      *error = "storage must be opened once, before any worker";
      return Status::InvalidArgument();
    }
    std::unique_ptr<Storage> storage;
    Status s = Storage::Open(this, rep_, options, error, &storage);
    if (s.ok()) rep_->storage = std::move(storage);
    return s;
  });
}

Status Engine::TuneStorage(const cw_storage_options& options) {
  if (rep_->storage == nullptr) return Status::InvalidArgument();
  rep_->storage->Tune(options);
  return Status::OK();
}

uint64_t Engine::LogAppended(Worker* worker) const {
  return worker->log == nullptr
             ? 0
             : worker->log->appended.load(std::memory_order_relaxed);
}

Status Engine::FlushLog(Worker* worker, uint64_t* sync_ticket) {
  *sync_ticket = 0;
  if (rep_->storage == nullptr) return Status::OK();
  return rep_->storage->Flush(worker, sync_ticket);
}

Status Engine::SyncLog(Worker* worker, uint64_t ticket) {
  if (rep_->storage == nullptr) return Status::OK();
  return rep_->storage->Sync(worker, ticket);
}

Status Engine::Checkpoint(bool wait) {
  if (rep_->storage == nullptr) return Status::InvalidArgument();
  return Guarded([&]() { return rep_->storage->Checkpoint(wait); });
}

Status Engine::StorageInfo(cw_storage_info* info) {
  if (rep_->storage == nullptr || info == nullptr) {
    return Status::InvalidArgument();
  }
  return Guarded([&]() {
    rep_->storage->Info(info);
    return Status::OK();
  });
}

uint32_t Engine::databases() const { return rep_->options.databases; }

size_t Engine::open_workers() const {
  std::lock_guard<std::mutex> guard(rep_->workers_mu);
  return rep_->open_workers;
}

Status Engine::Get(Worker* worker, uint32_t db, Slice key, ValueSink sink,
                   void* sink_ctx, int64_t* expire_at_ms) {
  if (worker == nullptr || sink == nullptr || db >= rep_->options.databases ||
      !ValidSlice(key, rep_->options.max_key_bytes)) {
    return Status::InvalidArgument();
  }
  EpochGuard epoch(worker);
  Value* value = nullptr;
  int64_t deadline = 0;
  Table* table = rep_->table(db);
  if (table != nullptr) {
    uint64_t hash = table->Hash(key.ptr, key.len);
    if (Record* record = table->Find(hash, key.ptr, key.len)) {
      // Absent or unlinked: the key was missing at some point of this call.
      if ((ReadStable(record, &value, &deadline) & (kTidAbsent | kTidUnlinked)) ||
          Expired(deadline, [worker] { return worker->NowMs(); })) {
        value = nullptr;
      }
    }
  }
  if (expire_at_ms != nullptr) *expire_at_ms = value == nullptr ? 0 : deadline;
  CallSink(sink, sink_ctx, value);
  return Status::OK();
}

Status Engine::Get(Worker* worker, uint32_t db, Slice key, std::string* value,
                   int64_t* expire_at_ms) {
  return Guarded([&]() -> Status {
    if (value == nullptr) return Status::InvalidArgument();
    struct Ctx {
      std::string* out;
      bool found;
      bool no_memory;
    } ctx{value, false, false};
    Status s = Get(
        worker, db, key,
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
        &ctx, expire_at_ms);
    if (!s.ok()) return s;
    if (ctx.no_memory) return Status::NoMemory();
    return ctx.found ? Status::OK() : Status::NotFound();
  });
}

Status Engine::Put(Worker* worker, uint32_t db, Slice key, Slice value,
                   uint32_t flags, int64_t expire_at_ms, ValueSink old_sink,
                   void* old_ctx) {
  constexpr uint32_t kConditions = kPutIfAbsent | kPutIfPresent;
  if (worker == nullptr || db >= rep_->options.databases ||
      !ValidSlice(key, rep_->options.max_key_bytes) ||
      !ValidSlice(value, rep_->options.max_value_bytes) ||
      (flags & ~(kConditions | kPutKeepTtl)) != 0 ||
      (flags & kConditions) == kConditions) {
    return Status::InvalidArgument();
  }
  if (flags & kPutIfPresent) {
    // XX on a missing key must not insert a placeholder: that would look
    // like a write to a transaction watching the missing key. A miss needs
    // no lock; it is linearized at the lookup.
    Table* existing = rep_->table(db);
    EpochGuard epoch(worker);
    if (existing == nullptr ||
        existing->Find(existing->Hash(key.ptr, key.len),
                       key.ptr, key.len) == nullptr) {
      if (old_sink != nullptr) CallSink(old_sink, old_ctx, nullptr);
      return Status::ConditionFailed();
    }
  }
  Table* table = rep_->TableForWrite(db);
  if (table == nullptr) return Status::NoMemory();
  WriteItem item = MakeItem(table, db, key, 0, WriteItem::kPut);
  item.keep_ttl = (flags & kPutKeepTtl) != 0;
  item.new_expire_at_ms = item.keep_ttl ? 0 : expire_at_ms;
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
  ResolveDeadline(worker, &item);  // a past deadline makes it a delete
  return InstallAndRelease(worker, &item, 1,
                           worker->NextTid(TidVersion(item.locked_tid)));
}

Status Engine::Take(Worker* worker, uint32_t db, Slice key, ValueSink sink,
                    void* sink_ctx) {
  if (worker == nullptr || sink == nullptr || db >= rep_->options.databases ||
      !ValidSlice(key, rep_->options.max_key_bytes)) {
    return Status::InvalidArgument();
  }
  Table* table = rep_->table(db);
  WriteItem item{};
  if (table != nullptr) item = MakeItem(table, db, key, 0, WriteItem::kDelete);
  {
    // A miss needs no lock: it is linearized at the lookup.
    EpochGuard epoch(worker);
    if (table == nullptr ||
        table->Find(item.hash, key.ptr, key.len) == nullptr) {
      sink(sink_ctx, nullptr, 0);
      return Status::OK();
    }
  }
  EpochGuard epoch(worker);
  Status s = LockAll(worker, &item, 1);
  if (!s.ok()) return s;
  CallSink(sink, sink_ctx, item.old_value);
  return InstallAndRelease(worker, &item, 1,
                           worker->NextTid(TidVersion(item.locked_tid)));
}

Status Engine::Delete(Worker* worker, uint32_t db, const Slice* keys,
                      size_t n_keys, uint64_t* deleted) {
  return Guarded([&]() -> Status {
    if (worker == nullptr || deleted == nullptr ||
        db >= rep_->options.databases ||
        !ValidKeys(rep_->options, keys, n_keys)) {
      return Status::InvalidArgument();
    }
    *deleted = 0;
    Table* table = rep_->table(db);
    if (n_keys == 0 || table == nullptr) return Status::OK();
    std::vector<WriteItem>& items = worker->items;
    items.clear();
    if (n_keys == 1) {
      // A miss needs no lock: it is linearized at the lookup.
      EpochGuard epoch(worker);
      uint64_t hash = table->Hash(keys[0].ptr, keys[0].len);
      if (table->Find(hash, keys[0].ptr, keys[0].len) == nullptr) {
        return Status::OK();
      }
    }
    items.reserve(n_keys);
    for (size_t i = 0; i < n_keys; ++i) {
      items.push_back(MakeItem(table, db, keys[i], i, WriteItem::kDelete));
    }
    SortAndDedupe(&items);
    EpochGuard epoch(worker);
    Status s = LockAll(worker, items.data(), items.size());
    if (!s.ok()) return s;
    uint64_t present = 0;
    bool stored = false;  // expired values are reclaimed, not counted
    for (const WriteItem& item : items) {
      present += item.old_value != nullptr;
      stored = stored || item.stored_value != nullptr;
    }
    if (!stored) {
      ReleaseAll(worker, items.data(), items.size());
    } else {
      uint64_t tid =
          worker->NextTid(MaxLockedVersion(items.data(), items.size()));
      s = InstallAndRelease(worker, items.data(), items.size(), tid);
      if (!s.ok()) return s;
    }
    *deleted = present;
    return Status::OK();
  });
}

Status Engine::Exists(Worker* worker, uint32_t db, const Slice* keys,
                      size_t n_keys, uint64_t* count) {
  return Guarded([&]() -> Status {
    if (worker == nullptr || count == nullptr ||
        db >= rep_->options.databases ||
        !ValidKeys(rep_->options, keys, n_keys)) {
      return Status::InvalidArgument();
    }
    uint64_t found = 0;
    Status s = Snapshot(worker, db, keys, n_keys,
                        [&](size_t, const Value* v) { found += v != nullptr; });
    *count = s.ok() ? found : 0;
    return s;
  });
}

Status Engine::Expire(Worker* worker, uint32_t db, Slice key,
                      int64_t expire_at_ms, uint32_t flags,
                      uint32_t* applied) {
  constexpr uint32_t kAll =
      kExpireNx | kExpireXx | kExpireGt | kExpireLt | kExpirePersist;
  if (worker == nullptr || applied == nullptr ||
      db >= rep_->options.databases ||
      !ValidSlice(key, rep_->options.max_key_bytes) || (flags & ~kAll) != 0 ||
      ((flags & kExpirePersist) && flags != kExpirePersist) ||
      ((flags & kExpireNx) && (flags & (kExpireXx | kExpireGt | kExpireLt))) ||
      ((flags & kExpireGt) && (flags & kExpireLt))) {
    return Status::InvalidArgument();
  }
  *applied = 0;
  Table* table = rep_->table(db);
  WriteItem item{};
  if (table != nullptr) item = MakeItem(table, db, key, 0, WriteItem::kExpire);
  {
    EpochGuard epoch(worker);
    if (table == nullptr ||
        table->Find(item.hash, key.ptr, key.len) == nullptr) {
      return Status::OK();
    }
  }
  EpochGuard epoch(worker);
  Status s = LockAll(worker, &item, 1);
  if (!s.ok()) return s;
  bool apply = false;
  int64_t current = item.old_expire_at_ms;  // 0 = none = infinitely far
  if (item.old_value == nullptr) {
    item.kind = WriteItem::kDelete;  // reclaims an expired value, if any
  } else if (flags == kExpirePersist) {
    apply = current != 0;
    item.new_expire_at_ms = 0;
  } else {
    apply = !((flags & kExpireNx) && current != 0) &&
            !((flags & kExpireXx) && current == 0) &&
            !((flags & kExpireGt) && (current == 0 || expire_at_ms <= current)) &&
            !((flags & kExpireLt) && current != 0 && expire_at_ms >= current);
    // Unlike in Put, 0 here is a deadline (the epoch), long past.
    if (apply && expire_at_ms <= worker->NowMs()) {
      item.kind = WriteItem::kDelete;
    }
    item.new_expire_at_ms = expire_at_ms;
  }
  if (!apply && item.kind != WriteItem::kDelete) {
    ReleaseAll(worker, &item, 1);
    return Status::OK();
  }
  Status installed = InstallAndRelease(
      worker, &item, 1, worker->NextTid(TidVersion(item.locked_tid)));
  if (!installed.ok()) return installed;
  *applied = apply ? 1 : 0;
  return Status::OK();
}

Status Engine::IncrBy(Worker* worker, uint32_t db, Slice key, int64_t delta,
                      int64_t* result) {
  if (worker == nullptr || result == nullptr ||
      db >= rep_->options.databases ||
      !ValidSlice(key, rep_->options.max_key_bytes)) {
    return Status::InvalidArgument();
  }
  Table* table = rep_->TableForWrite(db);
  if (table == nullptr) return Status::NoMemory();
  WriteItem item = MakeItem(table, db, key, 0, WriteItem::kPut);
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
  item.new_expire_at_ms = item.old_expire_at_ms;  // live, or 0 when missing
  Status installed = InstallAndRelease(
      worker, &item, 1, worker->NextTid(TidVersion(item.locked_tid)));
  if (!installed.ok()) return installed;
  *result = next;
  return Status::OK();
}

Status Engine::MultiGet(Worker* worker, uint32_t db, const Slice* keys,
                        size_t n_keys, ValueSink sink, void* sink_ctx) {
  return Guarded([&]() -> Status {
    if (worker == nullptr || sink == nullptr ||
        db >= rep_->options.databases ||
        !ValidKeys(rep_->options, keys, n_keys)) {
      return Status::InvalidArgument();
    }
    return Snapshot(worker, db, keys, n_keys, [&](size_t, const Value* v) {
      CallSink(sink, sink_ctx, v);
    });
  });
}

Status Engine::MultiPut(Worker* worker, uint32_t db, const Slice* keys,
                        const Slice* values, size_t n, uint32_t flags,
                        uint32_t* written) {
  return Guarded([&]() -> Status {
    if (written != nullptr) *written = 0;
    if (worker == nullptr || db >= rep_->options.databases ||
        (flags & ~kMultiPutIfNoneExist) != 0 ||
        !ValidKeys(rep_->options, keys, n) || (values == nullptr && n > 0)) {
      return Status::InvalidArgument();
    }
    for (size_t i = 0; i < n; ++i) {
      if (!ValidSlice(values[i], rep_->options.max_value_bytes)) {
        return Status::InvalidArgument();
      }
    }
    if (n == 0) {
      if (written != nullptr) *written = 1;
      return Status::OK();
    }
    if (flags & kMultiPutIfNoneExist) {
      // Decide a failing MSETNX from a snapshot, without locking: locking
      // inserts placeholders for the missing keys, which a transaction
      // watching them would take for writes.
      uint64_t existing = 0;
      Status s = Exists(worker, db, keys, n, &existing);
      if (!s.ok()) return s;
      if (existing > 0) return Status::OK();
    }
    Table* table = rep_->TableForWrite(db);
    if (table == nullptr) return Status::NoMemory();
    std::vector<WriteItem>& items = worker->items;
    items.clear();
    items.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      items.push_back(MakeItem(table, db, keys[i], i, WriteItem::kPut));
    }
    SortAndDedupe(&items);  // later duplicates win
    for (WriteItem& item : items) {
      const Slice& v = values[item.input_index];
      item.new_value = NewValue(v.ptr, v.len);  // new_expire_at_ms = 0
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
    if (flags & kMultiPutIfNoneExist) {
      for (const WriteItem& item : items) {
        if (item.old_value != nullptr) {
          ReleaseAll(worker, items.data(), items.size());
          FreeNewValues(items.data(), items.size());
          return Status::OK();
        }
      }
    }
    uint64_t tid = worker->NextTid(MaxLockedVersion(items.data(), items.size()));
    Status installed =
        InstallAndRelease(worker, items.data(), items.size(), tid);
    if (!installed.ok()) return installed;
    if (written != nullptr) *written = 1;
    return Status::OK();
  });
}

Status Engine::Count(Worker* worker, uint32_t db, uint64_t* n_keys,
                     uint64_t* n_keys_with_expiry) {
  if (worker == nullptr || db >= rep_->options.databases) {
    return Status::InvalidArgument();
  }
  Table* table = rep_->table(db);
  if (n_keys != nullptr) *n_keys = table == nullptr ? 0 : table->LiveCount();
  if (n_keys_with_expiry != nullptr) {
    *n_keys_with_expiry = table == nullptr ? 0 : table->ExpiresCount();
  }
  return Status::OK();
}

namespace {

// Locks a record met during iteration and deletes it if should_delete()
// says so under the lock. Returns whether it deleted. Inside an epoch.
template <typename Pred>
bool DeleteIf(Worker* worker, Table* table, uint32_t db, Record* record,
              Pred&& should_delete) noexcept {
  WriteItem item{};
  if (!LockRecord(record, &item.locked_tid)) return false;  // already gone
  item.table = table;
  item.db = db;
  item.record = record;
  item.hash = record->hash;
  item.kind = WriteItem::kDelete;
  item.stored_value = record->value.load(std::memory_order_relaxed);
  item.stored_expire_at_ms =
      record->expire_at_ms.load(std::memory_order_relaxed);
  // An absent record here is someone's placeholder released meanwhile.
  if (item.stored_value == nullptr || !should_delete(item)) {
    ReleaseAll(worker, &item, 1);
    return false;
  }
  return InstallAndRelease(worker, &item, 1,
                           worker->NextTid(TidVersion(item.locked_tid)))
      .ok();
}

void ClearTable(Worker* worker, Table* table, uint32_t db) {
  for (size_t shard = 0; shard < Table::kShardCount; ++shard) {
    // One epoch per shard, so reclamation keeps up on large tables.
    EpochGuard epoch(worker);
    table->ForEachInShard(shard, [&](Record* record) noexcept {
      DeleteIf(worker, table, db, record,
               [](const WriteItem&) { return true; });
    });
  }
}

}  // namespace

Status Engine::Clear(Worker* worker, uint32_t db) {
  if (worker == nullptr ||
      (db != kAllDatabases && db >= rep_->options.databases)) {
    return Status::InvalidArgument();
  }
  Storage* storage = rep_->storage.get();
  if (storage != nullptr && !storage->writable()) return Status::LogFailed();
  for (uint32_t d = 0; d < rep_->options.databases; ++d) {
    if (db != kAllDatabases && d != db) continue;
    if (Table* table = rep_->table(d)) ClearTable(worker, table, d);
  }
  // Keys met after a log failure were kept.
  if (storage != nullptr && !storage->writable()) return Status::LogFailed();
  return Status::OK();
}

Status Engine::ExpireCycle(Worker* worker, size_t max_checks,
                           uint64_t* expired) {
  if (worker == nullptr || expired == nullptr) return Status::InvalidArgument();
  *expired = 0;
  if (rep_->storage != nullptr && !rep_->storage->writable()) {
    return Status::OK();  // a delete could not be logged; expired keys
                          // read as missing anyway
  }
  const uint32_t databases = rep_->options.databases;
  // At most one lap per call, so a call on an engine without deadlines ends.
  size_t shards_left = size_t{databases} * Table::kShardCount;
  size_t checks = 0;
  auto next_shard = [worker, databases] {
    worker->expire_slot = 0;
    if (++worker->expire_shard == Table::kShardCount) {
      worker->expire_shard = 0;
      worker->expire_db = (worker->expire_db + 1) % databases;
    }
  };
  while (checks < max_checks && shards_left > 0) {
    if (worker->expire_db >= databases) worker->expire_db = 0;
    Table* table = rep_->table(worker->expire_db);
    if (table == nullptr) {  // a whole unused database costs one check
      shards_left -= std::min(shards_left,
                              Table::kShardCount - worker->expire_shard);
      worker->expire_shard = Table::kShardCount - 1;
      next_shard();
      ++checks;
      continue;
    }
    --shards_left;
    if (table->ShardExpires(worker->expire_shard) <= 0) {
      next_shard();
      ++checks;
      continue;
    }
    EpochGuard epoch(worker);
    auto now = [worker] { return worker->NowMs(); };
    size_t next = table->VisitSlots(
        worker->expire_shard, worker->expire_slot, max_checks - checks,
        &checks, [&](Record* record) noexcept {
          if (!Expired(record->expire_at_ms.load(std::memory_order_acquire),
                       now)) {
            return;
          }
          *expired += DeleteIf(worker, table, worker->expire_db, record,
                               [&](const WriteItem& i) {
            return Expired(i.stored_expire_at_ms, now);
          });
        });
    ++checks;  // progress even when the array shrank under the cursor
    if (next == 0) {
      next_shard();
    } else {
      worker->expire_slot = next;
    }
  }
  return Status::OK();
}

Status Engine::Scan(Worker* worker, uint32_t db, uint64_t cursor, size_t count,
                    ValueSink key_sink, void* sink_ctx,
                    uint64_t* next_cursor) {
  if (worker == nullptr || key_sink == nullptr || next_cursor == nullptr ||
      db >= rep_->options.databases) {
    return Status::InvalidArgument();
  }
  *next_cursor = 0;
  Table* table = rep_->table(db);
  if (table == nullptr) return Status::OK();
  size_t shard = static_cast<size_t>(cursor >> kScanShardShift);
  uint64_t bucket_cursor = cursor & kScanBucketMask;
  if (count == 0) count = 1;
  size_t max_probes = count > SIZE_MAX / kScanProbesPerKey
                          ? SIZE_MAX
                          : count * kScanProbesPerKey;
  size_t emitted = 0;
  size_t probed = 0;
  EpochGuard epoch(worker);
  while (shard < Table::kShardCount && emitted < count && probed < max_probes) {
    if (table->ShardLive(shard) <= 0) {  // nothing to return: skip cheaply
      ++shard;
      bucket_cursor = 0;
      continue;
    }
    bucket_cursor = table->ScanStep(
        shard, bucket_cursor, &probed, [&](Record* record) {
          if (!LiveForIteration(worker, record)) return;
          key_sink(sink_ctx, record->key(), record->key_bytes);
          ++emitted;
        });
    bucket_cursor &= kScanBucketMask;
    if (bucket_cursor == 0) ++shard;
  }
  if (shard < Table::kShardCount) {
    *next_cursor = (uint64_t{shard} << kScanShardShift) | bucket_cursor;
  }
  return Status::OK();
}

Status Engine::RandomKey(Worker* worker, uint32_t db, ValueSink sink,
                         void* sink_ctx) {
  if (worker == nullptr || sink == nullptr || db >= rep_->options.databases) {
    return Status::InvalidArgument();
  }
  Table* table = rep_->table(db);
  if (table == nullptr || table->LiveCount() == 0) {
    sink(sink_ctx, nullptr, 0);
    return Status::OK();
  }
  EpochGuard epoch(worker);
  auto emit_live = [&](Record* record) {
    if (!LiveForIteration(worker, record)) return false;
    sink(sink_ctx, record->key(), record->key_bytes);
    return true;
  };
  // Uniform over live keys: a shard weighted by its live count, then a
  // reservoir sample inside it (starting at a random slot and taking the
  // first live entry would favour keys that follow empty slots).
  auto pick_in_shard = [&](size_t shard) {
    Record* chosen = nullptr;
    uint64_t seen = 0;
    table->ProbeFrom(shard, 0, [&](Record* record) {
      if (LiveForIteration(worker, record) && worker->Random() % ++seen == 0) {
        chosen = record;
      }
      return false;  // visit every entry
    });
    if (chosen != nullptr) sink(sink_ctx, chosen->key(), chosen->key_bytes);
    return chosen != nullptr;
  };
  for (int attempt = 0; attempt < kRandomKeyAttempts; ++attempt) {
    uint64_t total = 0;
    for (size_t shard = 0; shard < Table::kShardCount; ++shard) {
      total += static_cast<uint64_t>(std::max<int64_t>(table->ShardLive(shard), 0));
    }
    if (total == 0) break;
    uint64_t target = worker->Random() % total;
    size_t shard = 0;
    for (; shard + 1 < Table::kShardCount; ++shard) {
      uint64_t live = static_cast<uint64_t>(std::max<int64_t>(table->ShardLive(shard), 0));
      if (target < live) break;
      target -= live;
    }
    if (pick_in_shard(shard)) return Status::OK();
  }
  // Sparse or mostly expired: sweep every shard from a random one.
  size_t first = worker->Random() % Table::kShardCount;
  for (size_t n = 0; n < Table::kShardCount; ++n) {
    size_t shard = (first + n) % Table::kShardCount;
    if (table->ShardLive(shard) <= 0) continue;
    if (table->ProbeFrom(shard, worker->Random(), emit_live)) {
      return Status::OK();
    }
  }
  sink(sink_ctx, nullptr, 0);
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

namespace {

// Reads key from the store into txn's read set: *value (nullptr if missing
// or expired; valid until the epoch ends) and *deadline.
Status TxnReadStore(Txn* txn, uint32_t db, std::string k, Slice key,
                    Value** value, int64_t* deadline) {
  Worker* worker = txn->worker;
  EngineRep* rep = worker->rep;
  Table* table = rep->table(db);
  uint64_t hash = Table::HashKey(rep->seed, key.ptr, key.len);
  uint64_t observed =
      table == nullptr ? 0 : table->InsertVersion(Table::ShardOf(hash));
  uint64_t expired_version = 0;
  bool missing = true;
  *value = nullptr;
  *deadline = 0;
  if (table != nullptr) {
    if (Record* record = table->Find(hash, key.ptr, key.len)) {
      uint64_t tid = ReadStable(record, value, deadline);
      if (tid & (kTidAbsent | kTidUnlinked)) {
        *value = nullptr;  // keep the insert version read before the lookup
      } else if (Expired(*deadline, [worker] { return worker->NowMs(); })) {
        *value = nullptr;
        expired_version = TidVersion(tid);
      } else {
        observed = TidVersion(tid);
        missing = false;
      }
    }
  }
  if (missing) *deadline = 0;
  txn->reads.push_back(Txn::Read{std::move(k), db, hash, observed,
                                 expired_version, *deadline, missing});
  txn->bytes += key.len;
  return Status::OK();
}

}  // namespace

Status Engine::TxnGet(Txn* txn, uint32_t db, Slice key, ValueSink sink,
                      void* sink_ctx, int64_t* expire_at_ms) {
  return Guarded([&]() -> Status {
    if (txn == nullptr || db >= rep_->options.databases ||
        !ValidSlice(key, rep_->options.max_key_bytes)) {
      return Status::InvalidArgument();
    }
    if (expire_at_ms != nullptr) *expire_at_ms = 0;
    std::string k = TxnKey(db, key.ptr, key.len);
    bool room =
        txn->reads.size() + txn->writes.size() < rep_->options.max_txn_keys &&
        txn->bytes + key.len <= rep_->options.max_txn_bytes;
    auto own = txn->writes.find(k);
    if (own != txn->writes.end()) {
      const Txn::Write& w = own->second;
      int64_t deadline = w.expire_at_ms;
      bool missing = w.is_delete || Expired(deadline, [&] {
                       return rep_->NowMs();
                     });
      if (!missing && w.keep_ttl && expire_at_ms != nullptr) {
        // The deadline is the stored key's: read it (into the read set).
        if (!room) return Status::InvalidArgument();
        EpochGuard epoch(txn->worker);
        Value* ignored;
        Status s = TxnReadStore(txn, db, std::move(k), key, &ignored, &deadline);
        if (!s.ok()) return s;
      }
      if (expire_at_ms != nullptr && !missing) *expire_at_ms = deadline;
      if (sink != nullptr) {
        if (missing) {
          sink(sink_ctx, nullptr, 0);
        } else {
          // data() of an empty std::string is non-NULL: an empty value.
          sink(sink_ctx, reinterpret_cast<const uint8_t*>(w.value.data()),
               w.value.size());
        }
      }
      return Status::OK();
    }
    if (!room) return Status::InvalidArgument();
    EpochGuard epoch(txn->worker);
    Value* value = nullptr;
    int64_t deadline = 0;
    Status s = TxnReadStore(txn, db, std::move(k), key, &value, &deadline);
    if (!s.ok()) return s;
    if (expire_at_ms != nullptr) *expire_at_ms = deadline;
    if (sink != nullptr) CallSink(sink, sink_ctx, value);
    return Status::OK();
  });
}

namespace {
Status BufferWrite(const EngineOptions& options, Txn* txn, uint32_t db,
                   Slice key, Slice value, bool is_delete, bool keep_ttl,
                   int64_t expire_at_ms) {
  if (txn == nullptr || db >= options.databases ||
      !ValidSlice(key, options.max_key_bytes) ||
      !ValidSlice(value, options.max_value_bytes)) {
    return Status::InvalidArgument();
  }
  std::string k = TxnKey(db, key.ptr, key.len);
  auto it = txn->writes.find(k);
  bool is_new = it == txn->writes.end();
  if ((is_new &&
       txn->reads.size() + txn->writes.size() >= options.max_txn_keys) ||
      txn->bytes + key.len + value.len > options.max_txn_bytes) {
    return Status::InvalidArgument();
  }
  if (is_delete || !keep_ttl) {
    keep_ttl = false;
    expire_at_ms = is_delete ? 0 : expire_at_ms;
  } else if (!is_new) {
    // KEEPTTL over this transaction's own write keeps that write's deadline.
    const Txn::Write& earlier = it->second;
    keep_ttl = !earlier.is_delete && earlier.keep_ttl;
    expire_at_ms = earlier.is_delete ? 0 : earlier.expire_at_ms;
  } else {
    expire_at_ms = 0;
  }
  std::string v(reinterpret_cast<const char*>(value.ptr), value.len);
  Txn::Write write{std::move(v), expire_at_ms, is_delete, keep_ttl};
  if (is_new) {
    txn->writes.emplace(std::move(k), std::move(write));
  } else {
    it->second = std::move(write);
  }
  // Overwrites are counted again: a cheap upper bound.
  txn->bytes += key.len + value.len;
  return Status::OK();
}
}  // namespace

Status Engine::TxnPut(Txn* txn, uint32_t db, Slice key, Slice value,
                      uint32_t flags, int64_t expire_at_ms) {
  return Guarded([&]() {
    if ((flags & ~kPutKeepTtl) != 0) return Status::InvalidArgument();
    return BufferWrite(rep_->options, txn, db, key, value, false,
                       (flags & kPutKeepTtl) != 0, expire_at_ms);
  });
}

Status Engine::TxnDelete(Txn* txn, uint32_t db, Slice key) {
  return Guarded([&]() {
    return BufferWrite(rep_->options, txn, db, key, Slice{nullptr, 0}, true,
                       false, 0);
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
