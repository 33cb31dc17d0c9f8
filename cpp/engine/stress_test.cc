// stress_test.cc: many threads against one engine. Bounded iterations so it
// finishes in seconds even under ThreadSanitizer on two cores. Every check
// asserts a real invariant: exact sums, no torn batch, conserved money,
// well-formed values while memory is being reclaimed.
#include <algorithm>
#include <array>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "engine/test_util.h"

using namespace corewire;
using namespace corewire::test;
using std::string;

namespace {

Slice K(std::string_view s) { return ToSlice(s); }

struct Rng {
  uint64_t state;
  explicit Rng(uint64_t seed) : state(seed * 0x9E3779B97F4A7C15ull + 1) {}
  uint64_t Next() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  }
  uint64_t Below(uint64_t n) { return Next() % n; }
};

// Runs fn(worker, thread_index) on n threads, each with its own Worker.
template <typename Fn>
void RunThreads(Engine* engine, int n, Fn fn) {
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([engine, i, &fn] {
      Worker* w = nullptr;
      CHECK(engine->OpenWorker(i, &w).ok());
      fn(w, i);
      engine->CloseWorker(w);
    });
  }
  for (std::thread& t : threads) t.join();
}

std::unique_ptr<Engine> NewEngine(const EngineOptions& options = EngineOptions()) {
  std::unique_ptr<Engine> engine;
  CHECK(Engine::Open(options, &engine).ok());
  return engine;
}

void TestConcurrentIncrSumsExactly() {
  auto engine = NewEngine();
  constexpr int kThreads = 8;
  constexpr int kIncrements = 5000;
  std::vector<std::vector<int64_t>> seen(kThreads);
  RunThreads(engine.get(), kThreads, [&](Worker* w, int t) {
    for (int i = 0; i < kIncrements; ++i) {
      int64_t r = 0;
      CHECK(engine->IncrBy(w, 0, K("counter"), 1, &r).ok());
      seen[t].push_back(r);
    }
  });
  std::vector<int64_t> all;
  for (auto& s : seen) all.insert(all.end(), s.begin(), s.end());
  std::sort(all.begin(), all.end());
  bool exact = all.size() == size_t(kThreads * kIncrements);
  for (size_t i = 0; exact && i < all.size(); ++i) exact = all[i] == int64_t(i + 1);
  CHECK(exact);  // every intermediate result handed out exactly once
  Worker* w = nullptr;
  CHECK(engine->OpenWorker(0, &w).ok());
  string v;
  CHECK(engine->Get(w, 0, K("counter"), &v).ok());
  CHECK_EQ(v, std::to_string(kThreads * kIncrements));
  engine->CloseWorker(w);
}

// Write skew over missing keys: in round i thread 0 reads "x:i" and writes
// "y:i", thread 1 reads "y:i" and writes "x:i", both at once. Serializable
// means the two never both commit having both read their key as missing
// (missing reads are validated per key at commit).
void MissingSink(void* ctx, const uint8_t* p, size_t) {
  *static_cast<bool*>(ctx) = p == nullptr;
}

void TestNoWriteSkewOnMissingKeys() {
  auto engine = NewEngine();
  constexpr int kRounds = 3000;
  std::atomic<int> ready{0};
  // [round][thread]: committed having read the other key as missing.
  std::vector<std::array<bool, 2>> blind(kRounds, {false, false});
  RunThreads(engine.get(), 2, [&](Worker* w, int t) {
    for (int i = 0; i < kRounds; ++i) {
      string mine = (t == 0 ? "y:" : "x:") + std::to_string(i);
      string theirs = (t == 0 ? "x:" : "y:") + std::to_string(i);
      // Start each round together, so the commits overlap.
      ready.fetch_add(1);
      while (ready.load() < 2 * (i + 1)) {
      }
      Txn* txn = nullptr;
      bool missing = false;
      CHECK(engine->TxnBegin(w, &txn).ok());
      CHECK(engine->TxnGet(txn, 0, K(theirs), MissingSink, &missing).ok());
      CHECK(engine->TxnPut(txn, 0, K(mine), K("1")).ok());
      Status s = engine->TxnCommit(txn);
      CHECK(s.ok() || s == Status::Conflict());
      blind[i][t] = s.ok() && missing;
    }
  });
  int both = 0;
  for (const auto& round : blind) both += round[0] && round[1];
  CHECK_EQ(both, 0);
}

struct BatchView {
  std::vector<std::optional<string>> values;
};
void BatchSink(void* ctx, const uint8_t* p, size_t n) {
  auto* view = static_cast<BatchView*>(ctx);
  if (p == nullptr) {
    view->values.emplace_back(std::nullopt);
  } else {
    view->values.emplace_back(string(reinterpret_cast<const char*>(p), n));
  }
}

void NoTornBatches(uint32_t snapshot_attempts) {
  EngineOptions options;
  options.max_snapshot_attempts = snapshot_attempts;
  auto engine = NewEngine(options);
  constexpr int kWriters = 2;
  constexpr int kReaders = 2;
  constexpr int kReads = 10000;        // per reader
  constexpr int kMaxWrites = 1000000;  // per writer; readers end the run
  std::atomic<int> readers_left{kReaders};
  std::atomic<int> torn{0};
  std::atomic<int> reads{0};
  std::atomic<int> writes{0};
  RunThreads(engine.get(), kWriters + kReaders + 1, [&](Worker* w, int t) {
    Slice keys[] = {K("a"), K("b"), K("c")};
    if (t < kWriters) {
      for (int i = 0; i < kMaxWrites && readers_left.load() > 0; ++i) {
        string v = std::to_string(t) + ":" + std::to_string(i) + string(i % 50, 'p');
        Slice values[] = {K(v), K(v), K(v)};
        CHECK(engine->MultiPut(w, 0, keys, values, 3).ok());
        writes.fetch_add(1);
      }
    } else if (t == kWriters) {
      // Deleter: the whole batch disappears at once, then comes back.
      for (int i = 0; i < kMaxWrites && readers_left.load() > 0; ++i) {
        uint64_t deleted = 0;
        CHECK(engine->Delete(w, 0, keys, 3, &deleted).ok());
        if (deleted != 0 && deleted != 3) torn.fetch_add(1);
        if (i % 8 != 0) std::this_thread::yield();
      }
    } else {
      for (int i = 0; i < kReads; ++i) {
        BatchView view;
        CHECK(engine->MultiGet(w, 0, keys, 3, BatchSink, &view).ok());
        if (view.values.size() != 3 || view.values[0] != view.values[1] ||
            view.values[1] != view.values[2]) {
          torn.fetch_add(1);
        }
        uint64_t n = 0;
        CHECK(engine->Exists(w, 0, keys, 3, &n).ok());
        if (n != 0 && n != 3) torn.fetch_add(1);
        reads.fetch_add(1);
      }
      readers_left.fetch_sub(1);
    }
  });
  CHECK(writes.load() > 0);
  CHECK_EQ(torn.load(), 0);
  CHECK_EQ(reads.load(), kReaders * kReads);
}

void TestNoTornBatchesOptimistic() { NoTornBatches(4); }
void TestNoTornBatchesLocking() { NoTornBatches(0); }

void TestTransfersConserveTotal() {
  auto engine = NewEngine();
  constexpr int kAccounts = 8;
  constexpr int64_t kInitial = 1000;
  constexpr int kThreads = 4;
  constexpr int kTransfers = 1500;
  constexpr int kMaxRetries = 100000;
  auto account = [](int i) { return "acct:" + std::to_string(i); };
  {
    Worker* w = nullptr;
    CHECK(engine->OpenWorker(0, &w).ok());
    for (int i = 0; i < kAccounts; ++i) {
      CHECK(engine->Put(w, 0, K(account(i)), K(std::to_string(kInitial))).ok());
    }
    engine->CloseWorker(w);
  }
  std::atomic<int> committed{0};
  std::atomic<int> conflicts{0};
  std::atomic<int> bad_audits{0};
  std::atomic<int> audits{0};
  RunThreads(engine.get(), kThreads + 1, [&](Worker* w, int t) {
    Rng rng(t + 1);
    auto read_int = [&](Txn* txn, const string& key, int64_t* out) {
      BatchView view;
      CHECK(engine->TxnGet(txn, 0, K(key), BatchSink, &view).ok());
      CHECK(view.values.size() == 1 && view.values[0].has_value());
      *out = view.values[0] ? std::atoll(view.values[0]->c_str()) : 0;
    };
    if (t == kThreads) {
      // Auditor: a committed read-only txn must see the exact total, and so
      // must every multi_get snapshot.
      std::vector<string> names;
      for (int i = 0; i < kAccounts; ++i) names.push_back(account(i));
      std::vector<Slice> keys;
      for (const string& n : names) keys.push_back(K(n));
      for (int round = 0; round < 1000; ++round) {
        Txn* txn = nullptr;
        CHECK(engine->TxnBegin(w, &txn).ok());
        int64_t sum = 0;
        for (int i = 0; i < kAccounts; ++i) {
          int64_t v = 0;
          read_int(txn, names[i], &v);
          sum += v;
        }
        Status s = engine->TxnCommit(txn);
        CHECK(s.ok() || s.IsConflict());
        if (s.ok() && sum != kAccounts * kInitial) bad_audits.fetch_add(1);
        BatchView view;
        CHECK(engine->MultiGet(w, 0, keys.data(), keys.size(), BatchSink, &view).ok());
        int64_t snap_sum = 0;
        for (auto& v : view.values) snap_sum += v ? std::atoll(v->c_str()) : 0;
        if (snap_sum != kAccounts * kInitial) bad_audits.fetch_add(1);
        audits.fetch_add(1);
      }
      return;
    }
    for (int i = 0; i < kTransfers; ++i) {
      int from = int(rng.Below(kAccounts));
      int to = int((from + 1 + rng.Below(kAccounts - 1)) % kAccounts);
      int64_t amount = int64_t(rng.Below(50));
      bool done = false;
      for (int attempt = 0; attempt < kMaxRetries && !done; ++attempt) {
        Txn* txn = nullptr;
        CHECK(engine->TxnBegin(w, &txn).ok());
        int64_t a = 0, b = 0;
        read_int(txn, account(from), &a);
        if (attempt % 2 == 1) std::this_thread::yield();  // widen the window
        read_int(txn, account(to), &b);
        CHECK(engine->TxnPut(txn, 0, K(account(from)), K(std::to_string(a - amount))).ok());
        CHECK(engine->TxnPut(txn, 0, K(account(to)), K(std::to_string(b + amount))).ok());
        Status s = engine->TxnCommit(txn);
        if (s.ok()) {
          done = true;
          committed.fetch_add(1);
        } else {
          CHECK(s.IsConflict());
          conflicts.fetch_add(1);
        }
      }
      CHECK(done);
    }
  });
  CHECK_EQ(committed.load(), kThreads * kTransfers);
  CHECK_EQ(bad_audits.load(), 0);
  CHECK_EQ(audits.load(), 1000);
  Worker* w = nullptr;
  CHECK(engine->OpenWorker(0, &w).ok());
  int64_t total = 0;
  for (int i = 0; i < kAccounts; ++i) {
    string v;
    CHECK(engine->Get(w, 0, K(account(i)), &v).ok());
    total += std::atoll(v.c_str());
  }
  CHECK_EQ(total, kAccounts * kInitial);
  engine->CloseWorker(w);
  std::printf("     transfers: %d committed, %d conflicts retried\n",
              committed.load(), conflicts.load());
}

// A value names its key and repeats one fill byte, so a reader can tell a
// well-formed value from freed or torn memory.
string ChurnValue(const string& key, Rng* rng) {
  size_t fill = rng->Below(300);
  return key + "=" + string(fill, char('a' + rng->Below(26)));
}
bool ChurnValueOk(const string& key, const string& v) {
  if (v.compare(0, key.size() + 1, key + "=") != 0) return false;
  for (size_t i = key.size() + 1; i < v.size(); ++i) {
    if (v[i] != v[key.size() + 1]) return false;
  }
  return true;
}

void TestChurnWithReclamation() {
  auto engine = NewEngine();
  constexpr int kThreads = 4;
  constexpr int kKeys = 16;
  constexpr int kOps = 50000;
  std::atomic<int> malformed{0};
  RunThreads(engine.get(), kThreads, [&](Worker* w, int t) {
    Rng rng(100 + t);
    std::vector<string> keys;
    for (int i = 0; i < kKeys; ++i) keys.push_back("churn:" + std::to_string(i));
    for (int i = 0; i < kOps; ++i) {
      const string& key = keys[rng.Below(kKeys)];
      switch (rng.Below(6)) {
        case 0:
        case 1: {
          string v = ChurnValue(key, &rng);
          CHECK(engine->Put(w, 0, K(key), K(v)).ok());
          break;
        }
        case 2: {
          uint64_t d = 0;
          Slice k[] = {K(key)};
          CHECK(engine->Delete(w, 0, k, 1, &d).ok());
          CHECK(d <= 1);
          break;
        }
        case 3: {
          BatchView view;
          CHECK(engine->Get(w, 0, K(key), BatchSink, &view).ok());
          if (view.values.size() != 1 ||
              (view.values[0] && !ChurnValueOk(key, *view.values[0]))) {
            malformed.fetch_add(1);
          }
          break;
        }
        case 4: {
          const string& other = keys[rng.Below(kKeys)];
          Slice k[] = {K(key), K(other)};
          BatchView view;
          CHECK(engine->MultiGet(w, 0, k, 2, BatchSink, &view).ok());
          if (view.values.size() != 2 ||
              (view.values[0] && !ChurnValueOk(key, *view.values[0])) ||
              (view.values[1] && !ChurnValueOk(other, *view.values[1]))) {
            malformed.fetch_add(1);
          }
          break;
        }
        default: {
          Captured old;
          string v = ChurnValue(key, &rng);
          Status s = engine->Put(w, 0, K(key), K(v), kPutIfAbsent, 0, CaptureSink, &old);
          CHECK(s.ok() || s == Status::ConditionFailed());
          CHECK_EQ(old.values.size(), 1u);
          if (s.ok() == old.values[0].has_value()) malformed.fetch_add(1);
          if (old.values[0] && !ChurnValueOk(key, *old.values[0])) malformed.fetch_add(1);
          break;
        }
      }
    }
  });
  CHECK_EQ(malformed.load(), 0);
  // The live counter agrees with what is really there.
  Worker* w = nullptr;
  CHECK(engine->OpenWorker(0, &w).ok());
  uint64_t present = 0;
  for (int i = 0; i < kKeys; ++i) {
    string v;
    Status s = engine->Get(w, 0, K("churn:" + std::to_string(i)), &v);
    CHECK(s.ok() || s.IsNotFound());
    present += s.ok();
  }
  uint64_t count = 0;
  CHECK(engine->Count(w, 0, &count).ok());
  CHECK_EQ(count, present);
  engine->CloseWorker(w);
}

void TestClearDuringWrites() {
  auto engine = NewEngine();
  std::atomic<int> writers_left{2};
  RunThreads(engine.get(), 3, [&](Worker* w, int t) {
    if (t < 2) {
      for (int i = 0; i < 10000; ++i) {
        string k = "c" + std::to_string(t) + ":" + std::to_string(i % 500);
        CHECK(engine->Put(w, 0, K(k), K(k)).ok());
        if (i % 7 == 0) {
          BatchView view;
          CHECK(engine->Get(w, 0, K(k), BatchSink, &view).ok());
          CHECK(!view.values[0] || *view.values[0] == k);
        }
      }
      writers_left.fetch_sub(1);
    } else {
      for (int i = 0; i < 1000 && (i < 20 || writers_left.load() > 0); ++i) {
        CHECK(engine->Clear(w, 0).ok());
      }
    }
  });
  Worker* w = nullptr;
  CHECK(engine->OpenWorker(0, &w).ok());
  uint64_t count = 0;
  uint64_t present = 0;
  for (int t = 0; t < 2; ++t) {
    for (int i = 0; i < 500; ++i) {
      string v;
      present += engine->Get(w, 0, K("c" + std::to_string(t) + ":" + std::to_string(i)), &v).ok();
    }
  }
  CHECK(engine->Count(w, 0, &count).ok());
  CHECK_EQ(count, present);
  CHECK(engine->Clear(w, 0).ok());
  CHECK(engine->Count(w, 0, &count).ok());
  CHECK_EQ(count, 0u);
  engine->CloseWorker(w);
}

void CollectKey(void* ctx, const uint8_t* p, size_t n) {
  static_cast<std::vector<string>*>(ctx)->emplace_back(
      reinterpret_cast<const char*>(p), n);
}

// SCAN's guarantee with other threads resizing the table under it: every
// key present for the whole of a full scan is returned.
void TestScanDuringConcurrentResizes() {
  auto engine = NewEngine();
  constexpr uint32_t kDb = 1;
  constexpr int kStable = 2000;
  constexpr int kChurners = 2;
  constexpr int kFullScans = 3;
  constexpr int kMaxRounds = 1000000;  // the scanner ends the run
  std::atomic<bool> done{false};
  std::atomic<int> missing{0};
  std::atomic<int> rounds{0};
  {
    Worker* w = nullptr;
    CHECK(engine->OpenWorker(0, &w).ok());
    for (int i = 0; i < kStable; ++i) {
      CHECK(engine->Put(w, kDb, K("st:" + std::to_string(i)), K("v")).ok());
    }
    engine->CloseWorker(w);
  }
  RunThreads(engine.get(), kChurners + 1, [&](Worker* w, int t) {
    if (t < kChurners) {
      // Grow every shard, then empty it out with tombstones so it shrinks.
      for (int round = 0; round < kMaxRounds && !done.load(); ++round) {
        string prefix = "c" + std::to_string(t) + ":";
        for (int i = 0; i < kStable; ++i) {
          CHECK(engine->Put(w, kDb, K(prefix + std::to_string(i)), K("x")).ok());
        }
        uint64_t d = 0;
        for (int i = 0; i < kStable && !done.load(); ++i) {
          string k = prefix + std::to_string(i);
          Slice s[] = {K(k)};
          CHECK(engine->Delete(w, kDb, s, 1, &d).ok());
        }
        rounds.fetch_add(1);
      }
      return;
    }
    for (int scan = 0; scan < kFullScans; ++scan) {
      std::vector<string> keys;
      uint64_t cursor = 0;
      do {
        CHECK(engine->Scan(w, kDb, cursor, 20, CollectKey, &keys, &cursor).ok());
      } while (cursor != 0);
      std::set<string> seen(keys.begin(), keys.end());
      for (int i = 0; i < kStable; ++i) {
        if (seen.count("st:" + std::to_string(i)) == 0) missing.fetch_add(1);
      }
    }
    done.store(true);
  });
  CHECK_EQ(missing.load(), 0);
  std::printf("     scan: %d churn rounds during %d full scans\n", rounds.load(),
              kFullScans);
}

// Deadlines under concurrency: writers set keys with short deadlines while
// the clock moves, readers check values stay well-formed, one thread runs
// active expiry. In the end every key expires and the counters agree.
std::atomic<int64_t> g_clock_ms{1'000'000};
int64_t TestClock() { return g_clock_ms.load(std::memory_order_relaxed); }

void TestExpiryUnderConcurrency() {
  EngineOptions options;
  options.now_ms = TestClock;
  options.databases = 4;
  auto engine = NewEngine(options);
  constexpr int kWriters = 2;
  constexpr int kKeys = 64;
  constexpr int kOps = 20000;
  std::atomic<int> writers_left{kWriters};
  std::atomic<int> malformed{0};
  std::atomic<uint64_t> reclaimed{0};
  RunThreads(engine.get(), kWriters + 2, [&](Worker* w, int t) {
    Rng rng(7 + t);
    if (t < kWriters) {
      for (int i = 0; i < kOps; ++i) {
        uint32_t db = uint32_t(rng.Below(4));
        string key = "x:" + std::to_string(rng.Below(kKeys));
        int64_t now = TestClock();
        switch (rng.Below(5)) {
          case 0: {
            string v = ChurnValue(key, &rng);
            CHECK(engine->Put(w, db, K(key), K(v), 0, now + 1 + rng.Below(20)).ok());
            break;
          }
          case 1: {
            uint32_t applied = 0;
            CHECK(engine->Expire(w, db, K(key), now + int64_t(rng.Below(30)) - 5,
                                 uint32_t(rng.Below(2)) * kExpireGt, &applied)
                      .ok());
            break;
          }
          case 2: {
            string v = ChurnValue(key, &rng);
            CHECK(engine->Put(w, db, K(key), K(v), kPutKeepTtl).ok());
            break;
          }
          case 3: {
            Captured c;
            CHECK(engine->Take(w, db, K(key), CaptureSink, &c).ok());
            if (c.values[0] && !ChurnValueOk(key, *c.values[0])) malformed.fetch_add(1);
            break;
          }
          default:
            g_clock_ms.fetch_add(1);
        }
      }
      writers_left.fetch_sub(1);
    } else if (t == kWriters) {
      while (writers_left.load() > 0) {
        uint32_t db = uint32_t(g_clock_ms.load() % 4);
        string key = "x:" + std::to_string(g_clock_ms.load() % kKeys);
        BatchView view;
        int64_t at = 0;
        CHECK(engine->Get(w, db, K(key), BatchSink, &view, &at).ok());
        if (view.values[0] && (!ChurnValueOk(key, *view.values[0]) ||
                               (at != 0 && at <= TestClock() - 1000))) {
          malformed.fetch_add(1);
        }
        std::this_thread::yield();
      }
    } else {
      while (writers_left.load() > 0) {
        uint64_t n = 0;
        CHECK(engine->ExpireCycle(w, 1024, &n).ok());
        reclaimed.fetch_add(n);
        std::this_thread::yield();
      }
    }
  });
  CHECK_EQ(malformed.load(), 0);
  // Everything written had a deadline or kept one; some KEEPTTL writes
  // created keys without. Jump past every deadline and drain.
  Worker* w = nullptr;
  CHECK(engine->OpenWorker(0, &w).ok());
  g_clock_ms.fetch_add(1000000);
  for (int i = 0; i < 1000; ++i) {
    uint64_t n = 0;
    CHECK(engine->ExpireCycle(w, 1 << 20, &n).ok());
    if (n == 0) break;
  }
  for (uint32_t db = 0; db < 4; ++db) {
    uint64_t keys = 0, expires = 0, present = 0;
    CHECK(engine->Count(w, db, &keys, &expires).ok());
    for (int i = 0; i < kKeys; ++i) {
      string v;
      present += engine->Get(w, db, K("x:" + std::to_string(i)), &v).ok();
    }
    CHECK_EQ(expires, 0u);
    CHECK_EQ(keys, present);  // only keys without a deadline remain
  }
  engine->CloseWorker(w);
  std::printf("     expiry: %llu reclaimed by the active cycle meanwhile\n",
              static_cast<unsigned long long>(reclaimed.load()));
}

}  // namespace

int main() {
  return RunAll("stress_test",
                {
                    {"concurrent_incr_sums_exactly", TestConcurrentIncrSumsExactly},
                    {"no_torn_batches_optimistic", TestNoTornBatchesOptimistic},
                    {"no_torn_batches_locking", TestNoTornBatchesLocking},
                    {"transfers_conserve_total", TestTransfersConserveTotal},
                    {"churn_with_reclamation", TestChurnWithReclamation},
                    {"clear_during_writes", TestClearDuringWrites},
                    {"scan_during_concurrent_resizes", TestScanDuringConcurrentResizes},
                    {"expiry_under_concurrency", TestExpiryUnderConcurrency},
                    {"no_write_skew_on_missing_keys", TestNoWriteSkewOnMissingKeys},
                });
}
