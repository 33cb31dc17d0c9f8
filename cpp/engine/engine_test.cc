// engine_test.cc: unit tests through the C++ API and the cw_engine_ops table.
#include <climits>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "corewire_engine.h"
#include "engine/engine.h"
#include "engine/test_util.h"

using namespace corewire;
using namespace corewire::test;
using std::string;

namespace {

Slice K(std::string_view s) { return ToSlice(s); }

// One engine and one worker for the test's thread.
struct Fixture {
  std::unique_ptr<Engine> engine;
  Worker* w = nullptr;
  explicit Fixture(const EngineOptions& options = EngineOptions()) {
    CHECK(Engine::Open(options, &engine).ok());
    CHECK(engine->OpenWorker(0, &w).ok());
  }
  ~Fixture() { engine->CloseWorker(w); }
  std::optional<string> Get(const string& key, uint32_t db = 0) {
    string v;
    Status s = engine->Get(w, db, K(key), &v);
    if (s.IsNotFound()) return std::nullopt;
    CHECK(s.ok());
    return v;
  }
  void Put(const string& key, const string& value, uint32_t db = 0) {
    CHECK(engine->Put(w, db, K(key), K(value)).ok());
  }
  uint64_t Count(uint32_t db = 0) {
    uint64_t n = 0;
    CHECK(engine->Count(w, db, &n).ok());
    return n;
  }
};

struct OpsFixture {
  cw_engine_ops ops{};
  cw_worker* w = nullptr;
  OpsFixture() {
    CHECK(cw_bundled_engine_open(&ops));
    CHECK_EQ(ops.abi_version, CW_ENGINE_ABI_VERSION);
    CHECK_EQ(ops.struct_size, sizeof(cw_engine_ops));
    w = ops.worker_open(ops.engine, 0);
    CHECK(w != nullptr);
  }
  ~OpsFixture() {
    ops.worker_close(w);
    cw_bundled_engine_close(&ops);
    CHECK(ops.engine == nullptr);
  }
};

cw_slice CS(std::string_view s) { return ToSlice(s); }

void TestStatus() {
  CHECK(Status().ok());
  CHECK_EQ(Status::NotFound().code(), CW_NOT_FOUND);
  CHECK_EQ(Status::Conflict().code(), CW_CONFLICT);
  CHECK_EQ(Status::NotInteger().code(), CW_NOT_INTEGER);
  CHECK_EQ(Status::Overflow().code(), CW_OVERFLOW);
  CHECK_EQ(Status::ConditionFailed().code(), CW_CONDITION_FAILED);
  CHECK_EQ(Status::InvalidArgument().code(), CW_INVALID_ARGUMENT);
  CHECK_EQ(Status::NoMemory().code(), CW_NO_MEMORY);
  CHECK_EQ(Status::Internal().code(), CW_INTERNAL);
  CHECK_EQ(string(Status::Conflict().ToString()), "conflict");
}

void TestMissVersusEmpty() {
  Fixture f;
  Captured c;
  CHECK(f.engine->Get(f.w, 0, K("k"), CaptureSink, &c).ok());
  CHECK_EQ(c.values.size(), 1u);
  CHECK(!c.values[0].has_value());
  CHECK(c.pointers[0] == nullptr);
  string v = "x";
  CHECK(f.engine->Get(f.w, 0, K("k"), &v).IsNotFound());

  f.Put("k", "");
  Captured e;
  CHECK(f.engine->Get(f.w, 0, K("k"), CaptureSink, &e).ok());
  CHECK_EQ(e.values.size(), 1u);
  CHECK(e.pointers[0] != nullptr);
  CHECK(e.values[0].has_value() && e.values[0]->empty());
  CHECK_EQ(f.Count(), 1u);
}

void TestBinaryKeysAndValues() {
  Fixture f;
  string k1("a\0b", 3), k2("a\0c", 3), k3("a", 1), k4;
  string v1("\0\xff\0", 3), v2(1000, '\0');
  v2[500] = 'z';
  f.Put(k1, v1);
  f.Put(k2, v2);
  f.Put(k3, "plain");
  f.Put(k4, "empty key");
  CHECK(f.Get(k1) == v1);
  CHECK(f.Get(k2) == v2);
  CHECK(f.Get(k3) == string("plain"));
  CHECK(f.Get(k4) == string("empty key"));
  CHECK(!f.Get(string("a\0", 2)).has_value());
  CHECK_EQ(f.Count(), 4u);
  string big_key(100000, 'q');
  big_key[99999] = '\0';
  f.Put(big_key, v1);
  CHECK(f.Get(big_key) == v1);
}

void TestPutConditionsAndOldSink() {
  Fixture f;
  Captured old;
  CHECK(f.engine->Put(f.w, 0, K("k"), K("1"), kPutIfPresent, 0, CaptureSink, &old) ==
        Status::ConditionFailed());
  CHECK_EQ(old.values.size(), 1u);
  CHECK(!old.values[0].has_value());
  CHECK(!f.Get("k").has_value());
  CHECK_EQ(f.Count(), 0u);

  CHECK(f.engine->Put(f.w, 0, K("k"), K("1"), kPutIfAbsent, 0, CaptureSink, &old).ok());
  CHECK_EQ(old.values.size(), 2u);
  CHECK(!old.values[1].has_value());
  CHECK(f.Get("k") == string("1"));

  CHECK(f.engine->Put(f.w, 0, K("k"), K("2"), kPutIfAbsent, 0, CaptureSink, &old) ==
        Status::ConditionFailed());
  CHECK_EQ(old.values.size(), 3u);
  CHECK(old.values[2] == string("1"));
  CHECK(f.Get("k") == string("1"));

  CHECK(f.engine->Put(f.w, 0, K("k"), K("3"), kPutIfPresent, 0, CaptureSink, &old).ok());
  CHECK_EQ(old.values.size(), 4u);
  CHECK(old.values[3] == string("1"));
  CHECK(f.Get("k") == string("3"));

  CHECK(f.engine->Put(f.w, 0, K("k"), K("4"), 0, 0, CaptureSink, &old).ok());
  CHECK(old.values[4] == string("3"));
  CHECK(f.engine->Put(f.w, 0, K("k"), K("5"), kPutIfAbsent | kPutIfPresent) ==
        Status::InvalidArgument());
  CHECK(f.Get("k") == string("4"));
  CHECK_EQ(f.Count(), 1u);
}

void TestDeleteCounting() {
  Fixture f;
  f.Put("a", "1");
  f.Put("b", "2");
  f.Put("c", "3");
  Slice keys[] = {K("a"), K("a"), K("missing"), K("b")};
  uint64_t deleted = 99;
  CHECK(f.engine->Delete(f.w, 0, keys, 4, &deleted).ok());
  CHECK_EQ(deleted, 2u);
  CHECK(!f.Get("a").has_value());
  CHECK(!f.Get("b").has_value());
  CHECK(f.Get("c") == string("3"));
  CHECK(f.engine->Delete(f.w, 0, keys, 4, &deleted).ok());
  CHECK_EQ(deleted, 0u);
  Slice one[] = {K("nope")};
  CHECK(f.engine->Delete(f.w, 0, one, 1, &deleted).ok());
  CHECK_EQ(deleted, 0u);
  Slice c[] = {K("c")};
  CHECK(f.engine->Delete(f.w, 0, c, 1, &deleted).ok());
  CHECK_EQ(deleted, 1u);
  CHECK_EQ(f.Count(), 0u);
  CHECK(f.engine->Delete(f.w, 0, nullptr, 0, &deleted).ok());
  CHECK_EQ(deleted, 0u);
  // Re-insert after delete works and counts.
  f.Put("a", "again");
  CHECK(f.Get("a") == string("again"));
  CHECK_EQ(f.Count(), 1u);
}

void TestExistsCountsDuplicates() {
  Fixture f;
  f.Put("a", "1");
  f.Put("e", "");
  Slice keys[] = {K("a"), K("a"), K("x"), K("e")};
  uint64_t n = 0;
  CHECK(f.engine->Exists(f.w, 0, keys, 4, &n).ok());
  CHECK_EQ(n, 3u);
  CHECK(f.engine->Exists(f.w, 0, keys + 2, 1, &n).ok());
  CHECK_EQ(n, 0u);
}

void TestIncrBy() {
  Fixture f;
  int64_t r = 0;
  CHECK(f.engine->IncrBy(f.w, 0, K("n"), 5, &r).ok());
  CHECK_EQ(r, 5);
  CHECK(f.Get("n") == string("5"));
  CHECK(f.engine->IncrBy(f.w, 0, K("n"), -7, &r).ok());
  CHECK_EQ(r, -2);
  CHECK(f.Get("n") == string("-2"));
  CHECK(f.engine->IncrBy(f.w, 0, K("n"), 2, &r).ok());
  CHECK(f.Get("n") == string("0"));

  const char* bad[] = {" 1", "1 ", "+1", "01", "1.0", "", "-", "-0", "00",
                       "abc", "1e3", "0x10", "12345678901234567890",
                       "-12345678901234567890", "9223372036854775808",
                       "-9223372036854775809", "123456789012345678901"};
  for (const char* b : bad) {
    f.Put("bad", b);
    r = 777;
    CHECK(f.engine->IncrBy(f.w, 0, K("bad"), 1, &r) == Status::NotInteger());
    CHECK_EQ(r, 777);
    CHECK(f.Get("bad") == string(b));
  }
  f.Put("bad", string("1\0", 2));
  CHECK(f.engine->IncrBy(f.w, 0, K("bad"), 1, &r) == Status::NotInteger());

  f.Put("max", "9223372036854775807");
  CHECK(f.engine->IncrBy(f.w, 0, K("max"), 1, &r) == Status::Overflow());
  CHECK(f.Get("max") == string("9223372036854775807"));
  CHECK(f.engine->IncrBy(f.w, 0, K("max"), 0, &r).ok());
  CHECK_EQ(r, INT64_MAX);
  CHECK(f.engine->IncrBy(f.w, 0, K("max"), INT64_MIN, &r).ok());
  CHECK_EQ(r, -1);

  f.Put("min", "-9223372036854775808");
  CHECK(f.engine->IncrBy(f.w, 0, K("min"), -1, &r) == Status::Overflow());
  CHECK(f.Get("min") == string("-9223372036854775808"));
  CHECK(f.engine->IncrBy(f.w, 0, K("min"), 1, &r).ok());
  CHECK_EQ(r, INT64_MIN + 1);
  CHECK(f.Get("min") == string("-9223372036854775807"));

  CHECK(f.engine->IncrBy(f.w, 0, K("fresh"), INT64_MIN, &r).ok());
  CHECK(f.Get("fresh") == string("-9223372036854775808"));
  CHECK(f.engine->IncrBy(f.w, 0, K("fresh2"), INT64_MAX, &r).ok());
  CHECK(f.Get("fresh2") == string("9223372036854775807"));
  // A failed increment of a missing key leaves it missing.
  f.Put("x", "1");
  uint64_t before = f.Count();
  CHECK(f.engine->IncrBy(f.w, 0, K("x"), INT64_MAX, &r) == Status::Overflow());
  CHECK_EQ(f.Count(), before);
}

void TestMultiPutAndGet() {
  Fixture f;
  Slice keys[] = {K("a"), K("b"), K("a"), K("c")};
  Slice values[] = {K("1"), K("2"), K("3"), K("")};
  CHECK(f.engine->MultiPut(f.w, 0, keys, values, 4).ok());
  CHECK(f.Get("a") == string("3"));
  CHECK(f.Get("b") == string("2"));
  CHECK(f.Get("c") == string(""));
  CHECK_EQ(f.Count(), 3u);

  Slice get_keys[] = {K("a"), K("missing"), K("b"), K("a"), K("c")};
  Captured c;
  CHECK(f.engine->MultiGet(f.w, 0, get_keys, 5, CaptureSink, &c).ok());
  CHECK_EQ(c.values.size(), 5u);
  CHECK(c.values[0] == string("3"));
  CHECK(!c.values[1].has_value());
  CHECK(c.values[2] == string("2"));
  CHECK(c.values[3] == string("3"));
  CHECK(c.values[4] == string(""));
  CHECK(c.pointers[4] != nullptr);
  CHECK_EQ(f.Count(), 3u);
}

void TestSnapshotFallback() {
  EngineOptions options;
  options.max_snapshot_attempts = 0;  // always the locking path
  Fixture f(options);
  f.Put("a", "1");
  f.Put("b", "");
  Slice keys[] = {K("a"), K("x"), K("b"), K("a"), K("y")};
  Captured c;
  CHECK(f.engine->MultiGet(f.w, 0, keys, 5, CaptureSink, &c).ok());
  CHECK_EQ(c.values.size(), 5u);
  CHECK(c.values[0] == string("1"));
  CHECK(!c.values[1].has_value());
  CHECK(c.values[2] == string(""));
  CHECK(c.values[3] == string("1"));
  CHECK(!c.values[4].has_value());
  uint64_t n = 0;
  CHECK(f.engine->Exists(f.w, 0, keys, 5, &n).ok());
  CHECK_EQ(n, 3u);
  // The placeholders of the missing keys are gone again.
  CHECK_EQ(f.Count(), 2u);
  CHECK(!f.Get("x").has_value());
  f.Put("x", "later");
  CHECK(f.Get("x") == string("later"));
}

void TestCountClearAndGrowth() {
  Fixture f;
  const int kKeys = 50000;
  for (int i = 0; i < kKeys; ++i) f.Put("key:" + std::to_string(i), std::to_string(i * 7));
  CHECK_EQ(f.Count(), uint64_t(kKeys));
  bool all = true;
  for (int i = 0; i < kKeys; i += 97) {
    all = all && f.Get("key:" + std::to_string(i)) == std::to_string(i * 7);
  }
  CHECK(all);
  uint64_t deleted = 0;
  for (int i = 0; i < kKeys; i += 2) {
    string k = "key:" + std::to_string(i);
    Slice s[] = {K(k)};
    CHECK(f.engine->Delete(f.w, 0, s, 1, &deleted).ok());
  }
  CHECK_EQ(f.Count(), uint64_t(kKeys / 2));
  CHECK(!f.Get("key:0").has_value());
  CHECK(f.Get("key:1") == string("7"));
  CHECK(f.engine->Clear(f.w, 0).ok());
  CHECK_EQ(f.Count(), 0u);
  CHECK(!f.Get("key:1").has_value());
  f.Put("key:1", "back");
  CHECK(f.Get("key:1") == string("back"));
  CHECK_EQ(f.Count(), 1u);
}

void TestLimits() {
  EngineOptions options;
  options.max_key_bytes = 8;
  options.max_value_bytes = 16;
  options.max_batch_keys = 3;
  options.max_txn_keys = 4;
  Fixture f(options);
  string long_key(9, 'k'), long_value(17, 'v');
  CHECK(f.engine->Put(f.w, 0, K(long_key), K("v")) == Status::InvalidArgument());
  CHECK(f.engine->Put(f.w, 0, K("k"), K(long_value)) == Status::InvalidArgument());
  CHECK(f.engine->Put(f.w, 0, K("12345678"), K(string(16, 'v'))).ok());
  string v;
  CHECK(f.engine->Get(f.w, 0, K(long_key), &v) == Status::InvalidArgument());
  CHECK(f.engine->Put(f.w, 0, Slice{nullptr, 3}, K("v")) == Status::InvalidArgument());
  CHECK(f.engine->Put(f.w, 0, Slice{nullptr, 0}, K("v")).ok());  // the empty key
  Slice four[] = {K("a"), K("b"), K("c"), K("d")};
  uint64_t n;
  CHECK(f.engine->Exists(f.w, 0, four, 4, &n) == Status::InvalidArgument());
  CHECK(f.engine->MultiPut(f.w, 0, four, four, 4) == Status::InvalidArgument());
  CHECK(f.engine->Get(nullptr, 0, K("a"), &v) == Status::InvalidArgument());

  Txn* t = nullptr;
  CHECK(f.engine->TxnBegin(f.w, &t).ok());
  CHECK(f.engine->TxnGet(t, 0, K("a"), nullptr, nullptr).ok());
  CHECK(f.engine->TxnGet(t, 0, K("b"), nullptr, nullptr).ok());
  CHECK(f.engine->TxnPut(t, 0, K("c"), K("1")).ok());
  CHECK(f.engine->TxnPut(t, 0, K("d"), K("1")).ok());
  CHECK(f.engine->TxnPut(t, 0, K("c"), K("2")).ok());  // overwrite: no new entry
  CHECK(f.engine->TxnPut(t, 0, K("e"), K("1")) == Status::InvalidArgument());
  CHECK(f.engine->TxnGet(t, 0, K("f"), nullptr, nullptr) == Status::InvalidArgument());
  CHECK(f.engine->TxnPut(t, 0, K(long_key), K("1")) == Status::InvalidArgument());
  CHECK(f.engine->TxnCommit(t).ok());
  CHECK(f.Get("c") == string("2"));
  CHECK(f.Get("d") == string("1"));
}

void TestTxnReadOwnWrites() {
  Fixture f;
  f.Put("gone", "soon");
  Txn* t = nullptr;
  CHECK(f.engine->TxnBegin(f.w, &t).ok());
  CHECK(f.engine->TxnPut(t, 0, K("a"), K("1")).ok());
  Captured c;
  CHECK(f.engine->TxnGet(t, 0, K("a"), CaptureSink, &c).ok());
  CHECK(c.values.back() == string("1"));
  CHECK(!f.Get("a").has_value());  // buffered, not visible outside
  CHECK(f.engine->TxnDelete(t, 0, K("a")).ok());
  CHECK(f.engine->TxnGet(t, 0, K("a"), CaptureSink, &c).ok());
  CHECK(!c.values.back().has_value());
  CHECK(f.engine->TxnPut(t, 0, K("e"), K("")).ok());
  CHECK(f.engine->TxnGet(t, 0, K("e"), CaptureSink, &c).ok());
  CHECK(c.pointers.back() != nullptr && c.values.back() == string(""));
  CHECK(f.engine->TxnGet(t, 0, K("gone"), CaptureSink, &c).ok());
  CHECK(c.values.back() == string("soon"));
  CHECK(f.engine->TxnDelete(t, 0, K("gone")).ok());
  CHECK(f.engine->TxnPut(t, 0, K("b"), K("2")).ok());
  CHECK(f.engine->TxnCommit(t).ok());
  CHECK(!f.Get("a").has_value());
  CHECK(f.Get("b") == string("2"));
  CHECK(f.Get("e") == string(""));
  CHECK(!f.Get("gone").has_value());
  CHECK_EQ(f.Count(), 2u);
}

// Two workers on one thread: "other" plays a concurrent client.
struct TwoWorkers : Fixture {
  Worker* other = nullptr;
  TwoWorkers() { CHECK(engine->OpenWorker(1, &other).ok()); }
  ~TwoWorkers() { engine->CloseWorker(other); }
};

void TestTxnConflictOnChangedRead() {
  TwoWorkers f;
  f.Put("a", "1");
  Txn* t = nullptr;
  CHECK(f.engine->TxnBegin(f.w, &t).ok());
  CHECK(f.engine->TxnGet(t, 0, K("a"), nullptr, nullptr).ok());
  CHECK(f.engine->Put(f.other, 0, K("a"), K("2")).ok());
  CHECK(f.engine->TxnPut(t, 0, K("c"), K("x")).ok());
  CHECK(f.engine->TxnCommit(t) == Status::Conflict());
  CHECK(!f.Get("c").has_value());
  CHECK(f.Get("a") == string("2"));
  CHECK_EQ(f.Count(), 1u);

  // Same value written again still bumps the version.
  CHECK(f.engine->TxnBegin(f.w, &t).ok());
  CHECK(f.engine->TxnGet(t, 0, K("a"), nullptr, nullptr).ok());
  CHECK(f.engine->Put(f.other, 0, K("a"), K("2")).ok());
  CHECK(f.engine->TxnPut(t, 0, K("a"), K("3")).ok());
  CHECK(f.engine->TxnCommit(t) == Status::Conflict());
  CHECK(f.Get("a") == string("2"));

  // Unchanged read commits (the WATCH case).
  CHECK(f.engine->TxnBegin(f.w, &t).ok());
  CHECK(f.engine->TxnGet(t, 0, K("a"), nullptr, nullptr).ok());
  CHECK(f.engine->Put(f.other, 0, K("unrelated"), K("1")).ok());
  CHECK(f.engine->TxnPut(t, 0, K("a"), K("3")).ok());
  CHECK(f.engine->TxnCommit(t).ok());
  CHECK(f.Get("a") == string("3"));

  // Read-only transactions validate too.
  CHECK(f.engine->TxnBegin(f.w, &t).ok());
  CHECK(f.engine->TxnGet(t, 0, K("a"), nullptr, nullptr).ok());
  CHECK(f.engine->IncrBy(f.other, 0, K("a"), 1, nullptr) == Status::InvalidArgument());
  int64_t r;
  CHECK(f.engine->IncrBy(f.other, 0, K("a"), 1, &r).ok());
  CHECK(f.engine->TxnCommit(t) == Status::Conflict());
}

void TestTxnConflictOnPhantomInsert() {
  TwoWorkers f;
  Txn* t = nullptr;
  CHECK(f.engine->TxnBegin(f.w, &t).ok());
  Captured c;
  CHECK(f.engine->TxnGet(t, 0, K("ghost"), CaptureSink, &c).ok());
  CHECK(!c.values.back().has_value());
  CHECK(f.engine->Put(f.other, 0, K("ghost"), K("boo")).ok());
  CHECK(f.engine->TxnPut(t, 0, K("z"), K("1")).ok());
  CHECK(f.engine->TxnCommit(t) == Status::Conflict());
  CHECK(!f.Get("z").has_value());

  // Insert then delete in between: still a conflict (it existed meanwhile).
  CHECK(f.engine->TxnBegin(f.w, &t).ok());
  CHECK(f.engine->TxnGet(t, 0, K("ghost2"), nullptr, nullptr).ok());
  CHECK(f.engine->Put(f.other, 0, K("ghost2"), K("boo")).ok());
  uint64_t d;
  Slice g2[] = {K("ghost2")};
  CHECK(f.engine->Delete(f.other, 0, g2, 1, &d).ok());
  CHECK(f.engine->TxnPut(t, 0, K("z"), K("1")).ok());
  CHECK(f.engine->TxnCommit(t) == Status::Conflict());

  // Read-only variant.
  CHECK(f.engine->TxnBegin(f.w, &t).ok());
  CHECK(f.engine->TxnGet(t, 0, K("ghost3"), nullptr, nullptr).ok());
  CHECK(f.engine->Put(f.other, 0, K("ghost3"), K("boo")).ok());
  CHECK(f.engine->TxnCommit(t) == Status::Conflict());
}

void TestTxnConflictOnDeleteReinsert() {
  TwoWorkers f;
  f.Put("k", "v");
  Txn* t = nullptr;
  CHECK(f.engine->TxnBegin(f.w, &t).ok());
  Captured c;
  CHECK(f.engine->TxnGet(t, 0, K("k"), CaptureSink, &c).ok());
  CHECK(c.values.back() == string("v"));
  uint64_t d = 0;
  Slice k[] = {K("k")};
  CHECK(f.engine->Delete(f.other, 0, k, 1, &d).ok());
  CHECK_EQ(d, 1u);
  CHECK(f.engine->Put(f.other, 0, K("k"), K("v")).ok());  // same bytes again
  CHECK(f.engine->TxnPut(t, 0, K("k"), K("mine")).ok());
  CHECK(f.engine->TxnCommit(t) == Status::Conflict());
  CHECK(f.Get("k") == string("v"));
}

void TestTxnOwnInsertsAreNotPhantoms() {
  TwoWorkers f;
  Txn* t = nullptr;
  CHECK(f.engine->TxnBegin(f.w, &t).ok());
  // Many missing reads and many inserts: shards surely overlap.
  for (int i = 0; i < 3000; ++i) {
    string k = "new:" + std::to_string(i);
    CHECK(f.engine->TxnGet(t, 0, K(k), nullptr, nullptr).ok());
    CHECK(f.engine->TxnPut(t, 0, K(k), K(std::to_string(i))).ok());
  }
  CHECK(f.engine->TxnCommit(t).ok());
  CHECK_EQ(f.Count(), 3000u);
  CHECK(f.Get("new:2999") == string("2999"));
}

void TestTxnAbortAndWorkerClose() {
  TwoWorkers f;
  Txn* t = nullptr;
  CHECK(f.engine->TxnBegin(f.w, &t).ok());
  CHECK(f.engine->TxnPut(t, 0, K("a"), K("1")).ok());
  f.engine->TxnAbort(t);
  CHECK(!f.Get("a").has_value());
  // Open transactions are aborted (and freed) by CloseWorker.
  Worker* extra = nullptr;
  CHECK(f.engine->OpenWorker(7, &extra).ok());
  Txn* t1 = nullptr;
  Txn* t2 = nullptr;
  CHECK(f.engine->TxnBegin(extra, &t1).ok());
  CHECK(f.engine->TxnBegin(extra, &t2).ok());
  CHECK(f.engine->TxnPut(t1, 0, K("b"), K("1")).ok());
  CHECK(f.engine->TxnGet(t2, 0, K("b"), nullptr, nullptr).ok());
  f.engine->CloseWorker(extra);
  CHECK(!f.Get("b").has_value());
  CHECK_EQ(f.engine->open_workers(), 2u);
}

void TestWorkerSlots() {
  std::unique_ptr<Engine> engine;
  CHECK(Engine::Open(EngineOptions(), &engine).ok());
  std::vector<Worker*> workers;
  for (size_t i = 0; i < Engine::kMaxWorkers; ++i) {
    Worker* w = nullptr;
    CHECK(engine->OpenWorker(i % 3, &w).ok());  // colliding hints
    workers.push_back(w);
  }
  std::set<Worker*> distinct(workers.begin(), workers.end());
  CHECK_EQ(distinct.size(), Engine::kMaxWorkers);
  Worker* none = nullptr;
  CHECK(engine->OpenWorker(0, &none) == Status::InvalidArgument());
  CHECK(none == nullptr);
  // All of them work.
  for (size_t i = 0; i < workers.size(); ++i) {
    CHECK(engine->Put(workers[i], 0, K("w" + std::to_string(i)), K("x")).ok());
  }
  uint64_t n = 0;
  CHECK(engine->Count(workers[0], 0, &n).ok());
  CHECK_EQ(n, uint64_t(Engine::kMaxWorkers));
  for (Worker* w : workers) engine->CloseWorker(w);
  CHECK_EQ(engine->open_workers(), 0u);
}

void TestEnginesAreIndependent() {
  Fixture a, b;
  a.Put("k", "a");
  b.Put("k", "b");
  CHECK(a.Get("k") == string("a"));
  CHECK(b.Get("k") == string("b"));
  CHECK(a.engine->Clear(a.w, 0).ok());
  CHECK(b.Get("k") == string("b"));
}

// ---- the C table ----------------------------------------------------------

void TestOpsTable() {
  OpsFixture f;
  cw_engine_ops& ops = f.ops;
  Captured c;
  CHECK_EQ(ops.get(f.w, 0, CS("k"), CaptureSink, &c, nullptr), CW_OK);
  CHECK(c.pointers.back() == nullptr);
  CHECK_EQ(ops.put(f.w, 0, CS("k"), CS(""), 0, 0, nullptr, nullptr), CW_OK);
  CHECK_EQ(ops.get(f.w, 0, CS("k"), CaptureSink, &c, nullptr), CW_OK);
  CHECK(c.pointers.back() != nullptr && c.values.back() == string(""));

  string bk("\0k\0", 3), bv("v\0\0v", 4);
  CHECK_EQ(ops.put(f.w, 0, CS(bk), CS(bv), CW_PUT_IF_ABSENT, 0, CaptureSink, &c), CW_OK);
  CHECK(!c.values.back().has_value());
  CHECK_EQ(ops.put(f.w, 0, CS(bk), CS("x"), CW_PUT_IF_ABSENT, 0, CaptureSink, &c),
           CW_CONDITION_FAILED);
  CHECK(c.values.back() == bv);
  CHECK_EQ(ops.put(f.w, 0, CS("nope"), CS("x"), CW_PUT_IF_PRESENT, 0, nullptr, nullptr),
           CW_CONDITION_FAILED);
  CHECK_EQ(ops.get(f.w, 0, CS(bk), CaptureSink, &c, nullptr), CW_OK);
  CHECK(c.values.back() == bv);

  int64_t r = 0;
  CHECK_EQ(ops.incr_by(f.w, 0, CS("n"), 41, &r), CW_OK);
  CHECK_EQ(ops.incr_by(f.w, 0, CS("n"), 1, &r), CW_OK);
  CHECK_EQ(r, 42);
  CHECK_EQ(ops.put(f.w, 0, CS("s"), CS("+1"), 0, 0, nullptr, nullptr), CW_OK);
  CHECK_EQ(ops.incr_by(f.w, 0, CS("s"), 1, &r), CW_NOT_INTEGER);
  CHECK_EQ(ops.put(f.w, 0, CS("m"), CS("9223372036854775807"), 0, 0, nullptr, nullptr), CW_OK);
  CHECK_EQ(ops.incr_by(f.w, 0, CS("m"), 1, &r), CW_OVERFLOW);

  cw_slice keys[] = {CS("a"), CS("b"), CS("a")};
  cw_slice values[] = {CS("1"), CS("2"), CS("3")};
  CHECK_EQ(ops.multi_put(f.w, 0, keys, values, 3, 0, nullptr), CW_OK);
  Captured m;
  cw_slice get_keys[] = {CS("a"), CS("zz"), CS("b")};
  CHECK_EQ(ops.multi_get(f.w, 0, get_keys, 3, CaptureSink, &m), CW_OK);
  CHECK_EQ(m.values.size(), 3u);
  CHECK(m.values[0] == string("3"));
  CHECK(!m.values[1].has_value());
  CHECK(m.values[2] == string("2"));

  uint64_t n = 0;
  CHECK_EQ(ops.exists(f.w, 0, keys, 3, &n), CW_OK);
  CHECK_EQ(n, 3u);
  CHECK_EQ(ops.count(f.w, 0, &n, nullptr), CW_OK);
  CHECK_EQ(n, 7u);  // k, bk, n, s, m, a, b
  uint64_t deleted = 0;
  CHECK_EQ(ops.del(f.w, 0, keys, 3, &deleted), CW_OK);
  CHECK_EQ(deleted, 2u);

  cw_txn* t = ops.txn_begin(f.w);
  CHECK(t != nullptr);
  CHECK_EQ(ops.txn_get(t, 0, CS("n"), CaptureSink, &c, nullptr), CW_OK);
  CHECK(c.values.back() == string("42"));
  CHECK_EQ(ops.txn_put(t, 0, CS("n"), CS("43"), 0, 0), CW_OK);
  CHECK_EQ(ops.txn_del(t, 0, CS("k")), CW_OK);
  CHECK_EQ(ops.txn_get(t, 0, CS("k"), CaptureSink, &c, nullptr), CW_OK);
  CHECK(!c.values.back().has_value());
  CHECK_EQ(ops.txn_commit(t), CW_OK);
  CHECK_EQ(ops.get(f.w, 0, CS("n"), CaptureSink, &c, nullptr), CW_OK);
  CHECK(c.values.back() == string("43"));

  cw_worker* other = ops.worker_open(ops.engine, 1);
  CHECK(other != nullptr);
  t = ops.txn_begin(f.w);
  CHECK_EQ(ops.txn_get(t, 0, CS("absent"), nullptr, nullptr, nullptr), CW_OK);
  CHECK_EQ(ops.put(other, 0, CS("absent"), CS("now"), 0, 0, nullptr, nullptr), CW_OK);
  CHECK_EQ(ops.txn_put(t, 0, CS("q"), CS("1"), 0, 0), CW_OK);
  CHECK_EQ(ops.txn_commit(t), CW_CONFLICT);
  t = ops.txn_begin(f.w);
  CHECK_EQ(ops.txn_put(t, 0, CS("q"), CS("1"), 0, 0), CW_OK);
  ops.txn_abort(t);
  CHECK_EQ(ops.get(f.w, 0, CS("q"), CaptureSink, &c, nullptr), CW_OK);
  CHECK(!c.values.back().has_value());
  // A transaction left open is aborted by worker_close.
  t = ops.txn_begin(other);
  CHECK_EQ(ops.txn_put(t, 0, CS("q"), CS("1"), 0, 0), CW_OK);
  ops.worker_close(other);

  CHECK_EQ(ops.clear(f.w, 0), CW_OK);
  CHECK_EQ(ops.count(f.w, 0, &n, nullptr), CW_OK);
  CHECK_EQ(n, 0u);

  CHECK_EQ(ops.get(nullptr, 0, CS("k"), CaptureSink, &c, nullptr), CW_INVALID_ARGUMENT);
  CHECK_EQ(ops.get(f.w, 0, cw_slice{nullptr, 5}, CaptureSink, &c, nullptr), CW_INVALID_ARGUMENT);
  CHECK_EQ(ops.txn_commit(nullptr), CW_INVALID_ARGUMENT);
  CHECK(ops.worker_open(nullptr, 0) == nullptr);
}

void TestSeedAbi() {
  cw_engine_ops ops{};
  CHECK(cw_bundled_engine_open(&ops));
  // Nothing served yet: the seed functions refuse.
  uint8_t* out = reinterpret_cast<uint8_t*>(1);
  size_t out_len = 0;
  std::thread([&] {
    CHECK(!cpp_execute_request_sync(CW_SEED_OP_GET, nullptr, 0, nullptr, 0,
                                    &out, &out_len));
  }).join();
  cw_bundled_engine_serve_seed_abi(&ops);
  std::thread([] {
    cpp_worker_thread_init(3);
    string k("se\0ed", 5), v("va\0lue", 6);
    const auto* kp = reinterpret_cast<const uint8_t*>(k.data());
    const auto* vp = reinterpret_cast<const uint8_t*>(v.data());
    uint8_t* out = reinterpret_cast<uint8_t*>(1);
    size_t len = 99;
    CHECK(cpp_execute_request_sync(CW_SEED_OP_GET, kp, k.size(), nullptr, 0, &out, &len));
    CHECK(out == nullptr);
    CHECK(cpp_execute_request_sync(CW_SEED_OP_SET, kp, k.size(), vp, v.size(), nullptr, nullptr));
    CHECK(cpp_execute_request_sync(CW_SEED_OP_GET, kp, k.size(), nullptr, 0, &out, &len));
    CHECK(out != nullptr && len == v.size() && std::memcmp(out, vp, len) == 0);
    cpp_free_buf(out, len);
    CHECK(cpp_execute_request_sync(CW_SEED_OP_SET, kp, k.size(), nullptr, 0, nullptr, nullptr));
    CHECK(cpp_execute_request_sync(CW_SEED_OP_GET, kp, k.size(), nullptr, 0, &out, &len));
    CHECK(out != nullptr && len == 0);
    cpp_free_buf(out, len);
    CHECK(!cpp_execute_request_sync(9, kp, k.size(), nullptr, 0, &out, &len));
  }).join();  // the thread's seed handle closes as it exits
  // A thread that never called cpp_worker_thread_init still works.
  std::thread([] {
    const uint8_t key[] = {'x'};
    const uint8_t val[] = {'1'};
    CHECK(cpp_execute_request_sync(CW_SEED_OP_SET, key, 1, val, 1, nullptr, nullptr));
  }).join();
  cw_worker* w = ops.worker_open(ops.engine, 0);
  Captured c;
  CHECK_EQ(ops.get(w, 0, CS(string("se\0ed", 5)), CaptureSink, &c, nullptr), CW_OK);
  CHECK(c.pointers.back() != nullptr && c.values.back() == string(""));
  CHECK_EQ(ops.get(w, 0, CS("x"), CaptureSink, &c, nullptr), CW_OK);
  CHECK(c.values.back() == string("1"));
  ops.worker_close(w);
  // The closing thread's own seed handle is closed by engine close.
  const uint8_t key[] = {'m'};
  CHECK(cpp_execute_request_sync(CW_SEED_OP_SET, key, 1, key, 1, nullptr, nullptr));
  cw_bundled_engine_serve_seed_abi(nullptr);
  cw_bundled_engine_close(&ops);
  CHECK(ops.engine == nullptr);
}

}  // namespace

int main() {
  return RunAll("engine_test",
                {
                    {"status", TestStatus},
                    {"miss_versus_empty", TestMissVersusEmpty},
                    {"binary_keys_and_values", TestBinaryKeysAndValues},
                    {"put_conditions_and_old_sink", TestPutConditionsAndOldSink},
                    {"delete_counting", TestDeleteCounting},
                    {"exists_counts_duplicates", TestExistsCountsDuplicates},
                    {"incr_by", TestIncrBy},
                    {"multi_put_and_get", TestMultiPutAndGet},
                    {"snapshot_fallback", TestSnapshotFallback},
                    {"count_clear_and_growth", TestCountClearAndGrowth},
                    {"limits", TestLimits},
                    {"txn_read_own_writes", TestTxnReadOwnWrites},
                    {"txn_conflict_on_changed_read", TestTxnConflictOnChangedRead},
                    {"txn_conflict_on_phantom_insert", TestTxnConflictOnPhantomInsert},
                    {"txn_conflict_on_delete_reinsert", TestTxnConflictOnDeleteReinsert},
                    {"txn_own_inserts_are_not_phantoms", TestTxnOwnInsertsAreNotPhantoms},
                    {"txn_abort_and_worker_close", TestTxnAbortAndWorkerClose},
                    {"worker_slots", TestWorkerSlots},
                    {"engines_are_independent", TestEnginesAreIndependent},
                    {"ops_table", TestOpsTable},
                    {"seed_abi", TestSeedAbi},
                });
}
