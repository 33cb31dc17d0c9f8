// engine_test.cc: unit tests through the C++ API and the cw_engine_ops table.
#include <atomic>
#include <climits>
#include <optional>
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

  // Insert then delete in between: missing again at the commit point, so
  // the read still holds there and the commit goes through.
  CHECK(f.engine->TxnBegin(f.w, &t).ok());
  CHECK(f.engine->TxnGet(t, 0, K("ghost2"), nullptr, nullptr).ok());
  CHECK(f.engine->Put(f.other, 0, K("ghost2"), K("boo")).ok());
  uint64_t d;
  Slice g2[] = {K("ghost2")};
  CHECK(f.engine->Delete(f.other, 0, g2, 1, &d).ok());
  CHECK(f.engine->TxnPut(t, 0, K("z"), K("1")).ok());
  CHECK(f.engine->TxnCommit(t).ok());
  CHECK(f.Get("z") == string("1"));

  // Inserts of other keys never conflict with a missing read: 3000 of
  // them surely share the read key's shard.
  CHECK(f.engine->TxnBegin(f.w, &t).ok());
  CHECK(f.engine->TxnGet(t, 0, K("ghost4"), nullptr, nullptr).ok());
  for (int i = 0; i < 3000; ++i) {
    CHECK(f.engine->Put(f.other, 0, K("other:" + std::to_string(i)), K("v")).ok());
  }
  CHECK(f.engine->TxnPut(t, 0, K("ghost4"), K("mine")).ok());
  CHECK(f.engine->TxnCommit(t).ok());
  CHECK(f.Get("ghost4") == string("mine"));

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


// ---- databases, expiry, iteration (ABI v2) --------------------------------

// A clock tests move by hand: no sleeps, no wall-clock thresholds.
std::atomic<int64_t> g_now_ms{1'700'000'000'000};
int64_t FakeNow() { return g_now_ms.load(); }
EngineOptions FakeClock() {
  EngineOptions options;
  options.now_ms = FakeNow;
  return options;
}

std::optional<int64_t> Deadline(Fixture& f, const string& key, uint32_t db = 0) {
  string v;
  int64_t at = -1;
  Status s = f.engine->Get(f.w, db, K(key), &v, &at);
  if (s.IsNotFound()) {
    CHECK_EQ(at, 0);
    return std::nullopt;
  }
  CHECK(s.ok());
  return at;
}

void TestDatabasesAreIndependent() {
  Fixture f;
  CHECK_EQ(f.engine->databases(), 16u);
  f.Put("k", "zero", 0);
  f.Put("k", "five", 5);
  CHECK(f.Get("k", 0) == string("zero"));
  CHECK(f.Get("k", 5) == string("five"));
  CHECK(!f.Get("k", 6).has_value());
  CHECK_EQ(f.Count(0), 1u);
  CHECK_EQ(f.Count(5), 1u);
  CHECK_EQ(f.Count(15), 0u);
  uint64_t d = 0;
  Slice k[] = {K("k")};
  CHECK(f.engine->Delete(f.w, 5, k, 1, &d).ok());
  CHECK_EQ(d, 1u);
  CHECK(f.Get("k", 0) == string("zero"));
  int64_t r = 0;
  CHECK(f.engine->IncrBy(f.w, 9, K("n"), 3, &r).ok());
  CHECK(!f.Get("n", 0).has_value());
  uint64_t n = 0;
  CHECK(f.engine->Exists(f.w, 9, k, 1, &n).ok());
  CHECK_EQ(n, 0u);
  // Bad db indexes.
  string v;
  CHECK(f.engine->Get(f.w, 16, K("k"), &v) == Status::InvalidArgument());
  CHECK(f.engine->Put(f.w, 16, K("k"), K("v")) == Status::InvalidArgument());
  CHECK(f.engine->Count(f.w, 16, &n) == Status::InvalidArgument());
  CHECK(f.engine->Clear(f.w, 16) == Status::InvalidArgument());
  CHECK(f.engine->Delete(f.w, 99, k, 1, &d) == Status::InvalidArgument());
  Txn* t = nullptr;
  CHECK(f.engine->TxnBegin(f.w, &t).ok());
  CHECK(f.engine->TxnGet(t, 16, K("k"), nullptr, nullptr) == Status::InvalidArgument());
  CHECK(f.engine->TxnPut(t, 16, K("k"), K("v")) == Status::InvalidArgument());
  f.engine->TxnAbort(t);

  // clear(db) vs clear(all).
  for (uint32_t db : {0u, 3u, 15u}) f.Put("a", "1", db), f.Put("b", "2", db);
  CHECK(f.engine->Clear(f.w, 3).ok());
  CHECK_EQ(f.Count(3), 0u);
  CHECK_EQ(f.Count(0), 3u);  // k, a, b
  CHECK_EQ(f.Count(15), 2u);
  CHECK(f.engine->Clear(f.w, kAllDatabases).ok());
  for (uint32_t db = 0; db < 16; ++db) CHECK_EQ(f.Count(db), 0u);
  f.Put("a", "back", 15);
  CHECK(f.Get("a", 15) == string("back"));

  // The number of databases is an option, 1..256.
  std::unique_ptr<Engine> e;
  EngineOptions options;
  options.databases = 0;
  CHECK(Engine::Open(options, &e) == Status::InvalidArgument());
  options.databases = 257;
  CHECK(Engine::Open(options, &e) == Status::InvalidArgument());
  options.databases = 256;
  Fixture big(options);
  big.Put("x", "y", 255);
  CHECK(big.Get("x", 255) == string("y"));
  CHECK(big.engine->Put(big.w, 256, K("x"), K("y")) == Status::InvalidArgument());
  options.databases = 1;
  Fixture one(options);
  CHECK(one.engine->Put(one.w, 1, K("x"), K("y")) == Status::InvalidArgument());
}

void TestExpiryReadsAndWrites() {
  Fixture f(FakeClock());
  int64_t now = g_now_ms.load();
  CHECK(f.engine->Put(f.w, 0, K("t"), K("v"), 0, now + 1000).ok());
  CHECK(Deadline(f, "t") == now + 1000);
  uint64_t keys = 0, expires = 0;
  CHECK(f.engine->Count(f.w, 0, &keys, &expires).ok());
  CHECK_EQ(keys, 1u);
  CHECK_EQ(expires, 1u);
  g_now_ms += 999;
  CHECK(f.Get("t") == string("v"));
  g_now_ms += 1;  // deadline == now: gone
  CHECK(!f.Get("t").has_value());
  CHECK(!Deadline(f, "t").has_value());
  Slice t[] = {K("t"), K("t")};
  uint64_t n = 9;
  CHECK(f.engine->Exists(f.w, 0, t, 2, &n).ok());
  CHECK_EQ(n, 0u);
  Captured c;
  CHECK(f.engine->MultiGet(f.w, 0, t, 2, CaptureSink, &c).ok());
  CHECK(!c.values[0].has_value() && !c.values[1].has_value());
  // XX sees it missing, NX sees it missing.
  CHECK(f.engine->Put(f.w, 0, K("t"), K("w"), kPutIfPresent) == Status::ConditionFailed());
  Captured old;
  CHECK(f.engine->Put(f.w, 0, K("t"), K("w"), kPutIfAbsent, 0, CaptureSink, &old).ok());
  CHECK(!old.values[0].has_value());
  CHECK(Deadline(f, "t") == 0);  // the new write has no deadline
  CHECK(f.engine->Count(f.w, 0, &keys, &expires).ok());
  CHECK_EQ(keys, 1u);
  CHECK_EQ(expires, 0u);

  // DEL of an expired key counts 0 but reclaims it.
  now = g_now_ms.load();
  CHECK(f.engine->Put(f.w, 0, K("d"), K("v"), 0, now + 5).ok());
  g_now_ms += 5;
  uint64_t deleted = 9;
  Slice d[] = {K("d")};
  CHECK(f.engine->Delete(f.w, 0, d, 1, &deleted).ok());
  CHECK_EQ(deleted, 0u);
  CHECK_EQ(f.Count(), 1u);

  // Past deadline: stores nothing, deletes the key, OK.
  now = g_now_ms.load();
  CHECK(f.engine->Put(f.w, 0, K("t"), K("x"), 0, now).ok());
  CHECK(!f.Get("t").has_value());
  CHECK_EQ(f.Count(), 0u);
  CHECK(f.engine->Put(f.w, 0, K("never"), K("x"), 0, now - 1).ok());
  CHECK(!f.Get("never").has_value());
  CHECK_EQ(f.Count(), 0u);
  f.Put("nx", "1");
  CHECK(f.engine->Put(f.w, 0, K("nx"), K("2"), kPutIfAbsent, now - 1) ==
        Status::ConditionFailed());
  CHECK(f.Get("nx") == string("1"));
  CHECK(f.engine->Put(f.w, 0, K("nx"), K("2"), kPutIfPresent, 1).ok());
  CHECK(!f.Get("nx").has_value());

  // KEEP_TTL keeps; a plain put clears; KEEP_TTL on a key without one.
  CHECK(f.engine->Put(f.w, 0, K("k"), K("1"), 0, now + 100).ok());
  CHECK(f.engine->Put(f.w, 0, K("k"), K("2"), kPutKeepTtl, now + 555).ok());
  CHECK(f.Get("k") == string("2"));
  CHECK(Deadline(f, "k") == now + 100);
  CHECK(f.engine->Put(f.w, 0, K("k"), K("3")).ok());
  CHECK(Deadline(f, "k") == 0);
  CHECK(f.engine->Put(f.w, 0, K("k2"), K("1"), kPutKeepTtl | kPutIfAbsent, 7).ok());
  CHECK(Deadline(f, "k2") == 0);
  CHECK(f.engine->Put(f.w, 0, K("k"), K("4"), kPutKeepTtl | 8) == Status::InvalidArgument());

  // INCR keeps the deadline; an expired counter restarts at 0 with none.
  int64_t r = 0;
  CHECK(f.engine->Put(f.w, 0, K("n"), K("10"), 0, now + 50).ok());
  CHECK(f.engine->IncrBy(f.w, 0, K("n"), 5, &r).ok());
  CHECK_EQ(r, 15);
  CHECK(Deadline(f, "n") == now + 50);
  g_now_ms += 50;
  CHECK(f.engine->IncrBy(f.w, 0, K("n"), 5, &r).ok());
  CHECK_EQ(r, 5);
  CHECK(Deadline(f, "n") == 0);

  // MSET clears deadlines.
  now = g_now_ms.load();
  CHECK(f.engine->Put(f.w, 0, K("m1"), K("1"), 0, now + 10).ok());
  Slice mk[] = {K("m1"), K("m2")};
  Slice mv[] = {K("a"), K("b")};
  uint32_t written = 9;
  CHECK(f.engine->MultiPut(f.w, 0, mk, mv, 2, 0, &written).ok());
  CHECK_EQ(written, 1u);
  CHECK(Deadline(f, "m1") == 0);
  CHECK(f.engine->Count(f.w, 0, &keys, &expires).ok());
  CHECK_EQ(expires, 0u);
}

// Redis 7 EXPIRE semantics, case by case (expireGenericCommand).
void TestExpireFlags() {
  Fixture f(FakeClock());
  const int64_t now = g_now_ms.load();
  const int64_t T = now + 10000;  // the current deadline, when there is one
  enum Start { kMissing, kNoTtl, kTtl };
  struct Case {
    Start start;
    uint32_t flags;
    int64_t at;
    uint32_t applied;
    std::optional<int64_t> after;  // deadline after; nullopt = key gone
  };
  const Case cases[] = {
      {kMissing, 0, T, 0, std::nullopt},
      {kMissing, kExpireNx, T, 0, std::nullopt},
      {kMissing, kExpireLt, T, 0, std::nullopt},
      {kMissing, kExpirePersist, 0, 0, std::nullopt},
      {kNoTtl, 0, T, 1, T},
      {kNoTtl, kExpireNx, T, 1, T},
      {kNoTtl, kExpireXx, T, 0, 0},
      {kNoTtl, kExpireGt, T, 0, 0},  // no TTL = infinite: never greater
      {kNoTtl, kExpireLt, T, 1, T},  // ... always less
      {kNoTtl, kExpireXx | kExpireGt, T, 0, 0},
      {kNoTtl, kExpireXx | kExpireLt, T, 0, 0},
      {kNoTtl, kExpirePersist, 0, 0, 0},
      {kNoTtl, 0, now, 1, std::nullopt},  // past: deleted
      {kNoTtl, kExpireLt, now - 5, 1, std::nullopt},
      {kNoTtl, kExpireGt, now - 5, 0, 0},
      {kNoTtl, 0, 0, 1, std::nullopt},  // 0 here is a (past) deadline
      {kTtl, 0, T + 100, 1, T + 100},
      {kTtl, kExpireNx, T + 100, 0, T},
      {kTtl, kExpireXx, T + 100, 1, T + 100},
      {kTtl, kExpireGt, T + 100, 1, T + 100},
      {kTtl, kExpireGt, T - 100, 0, T},
      {kTtl, kExpireGt, T, 0, T},
      {kTtl, kExpireLt, T - 100, 1, T - 100},
      {kTtl, kExpireLt, T + 100, 0, T},
      {kTtl, kExpireLt, T, 0, T},
      {kTtl, kExpireXx | kExpireGt, T + 1, 1, T + 1},
      {kTtl, kExpireXx | kExpireLt, T - 1, 1, T - 1},
      {kTtl, kExpireXx | kExpireLt, T + 1, 0, T},
      {kTtl, kExpirePersist, 0, 1, 0},
      {kTtl, 0, now - 1, 1, std::nullopt},
      {kTtl, kExpireLt, now - 1, 1, std::nullopt},
      {kTtl, kExpireGt, now - 1, 0, T},  // flags first, then "already past"
      {kTtl, kExpireXx, now, 1, std::nullopt},
  };
  int i = 0;
  for (const Case& c : cases) {
    string key = "e" + std::to_string(i++);
    if (c.start == kNoTtl) f.Put(key, "v");
    if (c.start == kTtl) CHECK(f.engine->Put(f.w, 0, K(key), K("v"), 0, T).ok());
    uint32_t applied = 99;
    Status s = f.engine->Expire(f.w, 0, K(key), c.at, c.flags, &applied);
    CHECK(s.ok());
    bool ok = applied == c.applied && Deadline(f, key) == c.after;
    if (!ok) std::fprintf(stderr, "  expire case %d (flags %u) wrong\n", i - 1, c.flags);
    CHECK(ok);
  }
  // Bad mixes.
  f.Put("x", "v");
  const uint32_t bad[] = {kExpireNx | kExpireXx, kExpireNx | kExpireGt,
                          kExpireNx | kExpireLt, kExpireGt | kExpireLt,
                          kExpirePersist | kExpireXx, kExpirePersist | kExpireNx,
                          32, kExpireXx | kExpireGt | kExpireLt};
  for (uint32_t flags : bad) {
    uint32_t applied = 99;
    CHECK(f.engine->Expire(f.w, 0, K("x"), T, flags, &applied) ==
          Status::InvalidArgument());
  }
  CHECK(Deadline(f, "x") == 0);
  // An expired key is missing for EXPIRE and PERSIST too (and reclaimed).
  CHECK(f.engine->Put(f.w, 0, K("gone"), K("v"), 0, now + 1).ok());
  g_now_ms += 1;
  uint32_t applied = 99;
  CHECK(f.engine->Expire(f.w, 0, K("gone"), T, 0, &applied).ok());
  CHECK_EQ(applied, 0u);
  CHECK(f.engine->Expire(f.w, 0, K("gone"), 0, kExpirePersist, &applied).ok());
  CHECK_EQ(applied, 0u);
  uint64_t with_deadline = 0;
  for (const Case& c : cases) with_deadline += c.after.has_value() && *c.after != 0;
  uint64_t keys = 0, expires = 0;
  CHECK(f.engine->Count(f.w, 0, &keys, &expires).ok());
  CHECK_EQ(expires, with_deadline);  // the expired one was reclaimed
}

void TestMultiPutIfNoneExist() {
  Fixture f(FakeClock());
  f.Put("b", "old");
  Slice keys[] = {K("a"), K("b"), K("c")};
  Slice values[] = {K("1"), K("2"), K("3")};
  uint32_t written = 9;
  CHECK(f.engine->MultiPut(f.w, 0, keys, values, 3, kMultiPutIfNoneExist, &written).ok());
  CHECK_EQ(written, 0u);
  CHECK(!f.Get("a").has_value());
  CHECK(f.Get("b") == string("old"));
  CHECK(!f.Get("c").has_value());
  CHECK_EQ(f.Count(), 1u);  // no placeholder survived
  // An expired key does not exist.
  CHECK(f.engine->Put(f.w, 0, K("b"), K("old"), 0, g_now_ms.load() + 1).ok());
  g_now_ms += 1;
  CHECK(f.engine->MultiPut(f.w, 0, keys, values, 3, kMultiPutIfNoneExist, &written).ok());
  CHECK_EQ(written, 1u);
  CHECK(f.Get("a") == string("1"));
  CHECK(f.Get("b") == string("2"));
  CHECK(Deadline(f, "b") == 0);
  // Same keys again: all exist now.
  CHECK(f.engine->MultiPut(f.w, 0, keys, keys, 3, kMultiPutIfNoneExist, &written).ok());
  CHECK_EQ(written, 0u);
  CHECK(f.Get("c") == string("3"));
  // A key named twice in one MSETNX: later wins.
  Slice dk[] = {K("d"), K("d")};
  CHECK(f.engine->MultiPut(f.w, 0, dk, values, 2, kMultiPutIfNoneExist, &written).ok());
  CHECK_EQ(written, 1u);
  CHECK(f.Get("d") == string("2"));
  CHECK(f.engine->MultiPut(f.w, 0, dk, values, 2, 2, &written) == Status::InvalidArgument());
}

void TestTake() {
  Fixture f(FakeClock());
  f.Put("k", "v");
  f.Put("k", "other", 1);
  Captured c;
  CHECK(f.engine->Take(f.w, 0, K("k"), CaptureSink, &c).ok());
  CHECK(c.values.back() == string("v"));
  CHECK(!f.Get("k").has_value());
  CHECK(f.Get("k", 1) == string("other"));
  CHECK(f.engine->Take(f.w, 0, K("k"), CaptureSink, &c).ok());
  CHECK(!c.values.back().has_value());
  CHECK(f.engine->Take(f.w, 4, K("k"), CaptureSink, &c).ok());  // unused db
  CHECK(!c.values.back().has_value());
  f.Put("e", "");
  CHECK(f.engine->Take(f.w, 0, K("e"), CaptureSink, &c).ok());
  CHECK(c.pointers.back() != nullptr && c.values.back() == string(""));
  CHECK(f.engine->Put(f.w, 0, K("x"), K("v"), 0, g_now_ms.load() + 1).ok());
  g_now_ms += 1;
  CHECK_EQ(f.Count(), 1u);  // not reclaimed yet
  CHECK(f.engine->Take(f.w, 0, K("x"), CaptureSink, &c).ok());
  CHECK(!c.values.back().has_value());
  CHECK_EQ(f.Count(), 0u);  // reclaimed by the take
  CHECK(f.engine->Take(f.w, 0, K("x"), nullptr, nullptr) == Status::InvalidArgument());
}

struct TwoWorkersClock : Fixture {
  Worker* other = nullptr;
  TwoWorkersClock() : Fixture(FakeClock()) {
    CHECK(engine->OpenWorker(1, &other).ok());
  }
  ~TwoWorkersClock() { engine->CloseWorker(other); }
};

void TestTxnAndExpiry() {
  TwoWorkersClock f;
  Txn* t = nullptr;
  int64_t at = -1;
  Captured c;
  uint64_t n = 0;
  // A key read live that expires before commit: the read no longer holds.
  CHECK(f.engine->Put(f.w, 0, K("a"), K("1"), 0, g_now_ms.load() + 10).ok());
  CHECK(f.engine->TxnBegin(f.w, &t).ok());
  CHECK(f.engine->TxnGet(t, 0, K("a"), CaptureSink, &c, &at).ok());
  CHECK(c.values.back() == string("1"));
  CHECK_EQ(at, g_now_ms.load() + 10);
  g_now_ms += 10;
  CHECK(f.engine->TxnPut(t, 0, K("z"), K("1")).ok());
  CHECK(f.engine->TxnCommit(t) == Status::Conflict());
  CHECK(!f.Get("z").has_value());

  // An expired key reads as missing and commits while nothing changes.
  CHECK(f.engine->TxnBegin(f.w, &t).ok());
  CHECK(f.engine->TxnGet(t, 0, K("a"), CaptureSink, &c, &at).ok());
  CHECK(!c.values.back().has_value());
  CHECK_EQ(at, 0);
  CHECK(f.engine->TxnPut(t, 0, K("z"), K("1")).ok());
  CHECK(f.engine->TxnCommit(t).ok());
  CHECK(f.Get("z") == string("1"));

  // ... and still commits after expiry reclaimed it (still missing).
  CHECK(f.engine->TxnBegin(f.w, &t).ok());
  CHECK(f.engine->TxnGet(t, 0, K("a"), nullptr, nullptr).ok());
  CHECK_EQ(f.Count(), 2u);
  uint64_t expired = 0;
  for (int i = 0; i < 100 && f.Count() > 1; ++i) {
    CHECK(f.engine->ExpireCycle(f.other, 1 << 16, &expired).ok());
  }
  CHECK_EQ(f.Count(), 1u);
  CHECK(f.engine->TxnPut(t, 0, K("z"), K("2")).ok());
  CHECK(f.engine->TxnCommit(t).ok());

  // But a write over the expired record is a conflict...
  CHECK(f.engine->Put(f.w, 0, K("b"), K("1"), 0, g_now_ms.load() + 1).ok());
  g_now_ms += 1;
  CHECK(f.engine->TxnBegin(f.w, &t).ok());
  CHECK(f.engine->TxnGet(t, 0, K("b"), nullptr, nullptr).ok());
  CHECK(f.engine->Put(f.other, 0, K("b"), K("new")).ok());
  CHECK(f.engine->TxnPut(t, 0, K("z"), K("3")).ok());
  CHECK(f.engine->TxnCommit(t) == Status::Conflict());
  // ... and so is a re-insert after the reclaim.
  CHECK(f.engine->Put(f.w, 0, K("b"), K("1"), 0, g_now_ms.load() + 1).ok());
  g_now_ms += 1;
  CHECK(f.engine->TxnBegin(f.w, &t).ok());
  CHECK(f.engine->TxnGet(t, 0, K("b"), nullptr, nullptr).ok());
  Slice b[] = {K("b")};
  CHECK(f.engine->Delete(f.other, 0, b, 1, &n).ok());  // reclaims
  CHECK_EQ(n, 0u);
  CHECK(f.engine->Put(f.other, 0, K("b"), K("again")).ok());
  CHECK(f.engine->TxnCommit(t) == Status::Conflict());

  // Changing a deadline is a write: WATCH sees it.
  CHECK(f.engine->TxnBegin(f.w, &t).ok());
  CHECK(f.engine->TxnGet(t, 0, K("b"), nullptr, nullptr).ok());
  uint32_t applied = 0;
  CHECK(f.engine->Expire(f.other, 0, K("b"), g_now_ms.load() + 100, 0, &applied).ok());
  CHECK_EQ(applied, 1u);
  CHECK(f.engine->TxnCommit(t) == Status::Conflict());

  // Deadlines through a transaction: set, keep, past = delete.
  int64_t now = g_now_ms.load();
  CHECK(f.engine->TxnBegin(f.w, &t).ok());
  CHECK(f.engine->TxnPut(t, 0, K("b"), K("kept"), kPutKeepTtl).ok());
  CHECK(f.engine->TxnGet(t, 0, K("b"), CaptureSink, &c, &at).ok());
  CHECK(c.values.back() == string("kept"));
  CHECK_EQ(at, now + 100);  // the stored key's deadline
  CHECK(f.engine->TxnPut(t, 0, K("c"), K("ttl"), 0, now + 7).ok());
  CHECK(f.engine->TxnPut(t, 0, K("c"), K("ttl2"), kPutKeepTtl).ok());  // keeps own
  CHECK(f.engine->TxnGet(t, 0, K("c"), CaptureSink, &c, &at).ok());
  CHECK(c.values.back() == string("ttl2"));
  CHECK_EQ(at, now + 7);
  CHECK(f.engine->TxnPut(t, 0, K("z"), K("past"), 0, now - 1).ok());
  CHECK(f.engine->TxnGet(t, 0, K("z"), CaptureSink, &c, &at).ok());
  CHECK(!c.values.back().has_value());
  CHECK(f.engine->TxnPut(t, 0, K("d"), K("v"), kPutIfAbsent) == Status::InvalidArgument());
  CHECK(f.engine->TxnCommit(t).ok());
  CHECK(f.Get("b") == string("kept"));
  CHECK(Deadline(f, "b") == now + 100);
  CHECK(Deadline(f, "c") == now + 7);
  CHECK(!f.Get("z").has_value());

  // One transaction across databases (MOVE): the same key in db 0 and 2.
  f.Put("m", "moved");
  CHECK(f.engine->TxnBegin(f.w, &t).ok());
  CHECK(f.engine->TxnGet(t, 0, K("m"), CaptureSink, &c).ok());
  CHECK(f.engine->TxnGet(t, 2, K("m"), CaptureSink, &c).ok());
  CHECK(!c.values.back().has_value());
  CHECK(f.engine->TxnPut(t, 2, K("m"), K("moved")).ok());
  CHECK(f.engine->TxnDelete(t, 0, K("m")).ok());
  CHECK(f.engine->TxnGet(t, 0, K("m"), CaptureSink, &c).ok());
  CHECK(!c.values.back().has_value());
  CHECK(f.engine->TxnGet(t, 2, K("m"), CaptureSink, &c).ok());
  CHECK(c.values.back() == string("moved"));
  CHECK(f.engine->TxnCommit(t).ok());
  CHECK(!f.Get("m", 0).has_value());
  CHECK(f.Get("m", 2) == string("moved"));
  // A phantom in another database conflicts too.
  CHECK(f.engine->TxnBegin(f.w, &t).ok());
  CHECK(f.engine->TxnGet(t, 7, K("m"), nullptr, nullptr).ok());  // db 7 unused
  CHECK(f.engine->Put(f.other, 7, K("m"), K("x")).ok());
  CHECK(f.engine->TxnPut(t, 2, K("m"), K("y")).ok());
  CHECK(f.engine->TxnCommit(t) == Status::Conflict());
  CHECK(f.Get("m", 2) == string("moved"));
}

void CollectKey(void* ctx, const uint8_t* p, size_t n) {
  static_cast<std::vector<string>*>(ctx)->emplace_back(
      reinterpret_cast<const char*>(p), n);
}

// Runs a full scan of db, calling between(step) after every step.
template <typename Between>
std::set<string> FullScan(Engine* engine, Worker* w, uint32_t db, size_t count,
                          Between&& between, size_t* steps = nullptr) {
  std::vector<string> keys;
  uint64_t cursor = 0;
  size_t n = 0;
  do {
    CHECK(engine->Scan(w, db, cursor, count, CollectKey, &keys, &cursor).ok());
    between(n++);
  } while (cursor != 0 && n < 10'000'000);
  if (steps != nullptr) *steps = n;
  return std::set<string>(keys.begin(), keys.end());
}

void TestScan() {
  Fixture f(FakeClock());
  uint64_t next = 99;
  std::vector<string> keys;
  CHECK(f.engine->Scan(f.w, 4, 0, 10, CollectKey, &keys, &next).ok());  // unused
  CHECK_EQ(next, 0u);
  CHECK(keys.empty());
  CHECK(f.engine->Scan(f.w, 0, 0, 10, CollectKey, &keys, &next).ok());  // empty
  CHECK_EQ(next, 0u);
  CHECK(keys.empty());
  // A small database comes back in one call.
  f.Put("a", "1", 3);
  f.Put("b", "1", 3);
  f.Put("c", "1", 0);
  CHECK(f.engine->Scan(f.w, 3, 0, 10, CollectKey, &keys, &next).ok());
  CHECK_EQ(next, 0u);
  CHECK(std::set<string>(keys.begin(), keys.end()) == std::set<string>({"a", "b"}));

  // Many keys, some expired: every live key once at least, no expired one.
  const int kKeys = 20000;
  int64_t now = g_now_ms.load();
  for (int i = 0; i < kKeys; ++i) {
    string k = "s:" + std::to_string(i);
    CHECK(f.engine->Put(f.w, 1, K(k), K("v"), 0, i % 10 == 0 ? now + 1 : 0).ok());
  }
  g_now_ms += 1;
  size_t steps = 0;
  std::set<string> seen = FullScan(f.engine.get(), f.w, 1, 100, [](size_t) {}, &steps);
  CHECK_EQ(seen.size(), size_t(kKeys - kKeys / 10));
  CHECK(seen.count("s:0") == 0 && seen.count("s:1") == 1);
  CHECK(steps > 10);  // it really was incremental
  CHECK(steps < 2000);

  // The guarantee while the table grows and shrinks between steps: keys
  // present throughout are all returned. Churn keys come and go in bursts
  // as large as the stable set, so shards resize both ways mid-scan.
  const int kStable = 5000;
  std::set<string> stable;
  for (int i = 0; i < kStable; ++i) {
    stable.insert("st:" + std::to_string(i));
    f.Put("st:" + std::to_string(i), "v", 2);
  }
  int churn = 0;
  int bursts = 0;
  seen = FullScan(f.engine.get(), f.w, 2, 200, [&](size_t step) {
    if (step % 2 == 0) {
      for (int j = 0; j < kStable; ++j) {
        f.Put("churn:" + std::to_string(churn + j), "x", 2);
      }
      ++bursts;
    } else {
      uint64_t d = 0;
      for (int j = 0; j < kStable; ++j) {
        string k = "churn:" + std::to_string(churn + j);
        Slice s[] = {K(k)};
        CHECK(f.engine->Delete(f.w, 2, s, 1, &d).ok());
      }
      churn += kStable;
      // Short-lived keys fill shards with tombstones until they rehash at
      // their small live size: the next step sees shrunken arrays.
      for (int j = 0; j < 3 * kStable; ++j) {
        string k = "tmp:" + std::to_string(j);
        f.Put(k, "x", 2);
        Slice s[] = {K(k)};
        CHECK(f.engine->Delete(f.w, 2, s, 1, &d).ok());
      }
    }
  });
  bool all = true;
  for (const string& k : stable) all = all && seen.count(k) == 1;
  CHECK(all);
  CHECK(bursts > 5);
  CHECK(f.engine->Scan(f.w, 1, 0, 10, nullptr, nullptr, &next) == Status::InvalidArgument());
  CHECK(f.engine->Scan(f.w, 16, 0, 10, CollectKey, &keys, &next) == Status::InvalidArgument());
}

void TestRandomKey() {
  Fixture f(FakeClock());
  Captured c;
  CHECK(f.engine->RandomKey(f.w, 0, CaptureSink, &c).ok());
  CHECK(!c.values.back().has_value());
  CHECK(f.engine->RandomKey(f.w, 9, CaptureSink, &c).ok());
  CHECK(!c.values.back().has_value());
  f.Put("only", "v", 2);
  for (int i = 0; i < 20; ++i) {
    CHECK(f.engine->RandomKey(f.w, 2, CaptureSink, &c).ok());
    CHECK(c.values.back() == string("only"));
  }
  // Only expired keys: the db is logically empty.
  CHECK(f.engine->Put(f.w, 3, K("x"), K("v"), 0, g_now_ms.load() + 1).ok());
  g_now_ms += 1;
  CHECK(f.engine->RandomKey(f.w, 3, CaptureSink, &c).ok());
  CHECK(!c.values.back().has_value());
  // Many keys: only live ones, and a good spread of them.
  for (int i = 0; i < 1000; ++i) f.Put("r:" + std::to_string(i), "v", 4);
  for (int i = 0; i < 100; ++i) {
    CHECK(f.engine->Put(f.w, 4, K("dead:" + std::to_string(i)), K("v"), 0,
                        g_now_ms.load() + 1).ok());
  }
  g_now_ms += 1;
  std::set<string> distinct;
  bool only_live = true;
  for (int i = 0; i < 2000; ++i) {
    Captured one;
    CHECK(f.engine->RandomKey(f.w, 4, CaptureSink, &one).ok());
    CHECK_EQ(one.values.size(), 1u);
    only_live = only_live && one.values[0] && one.values[0]->compare(0, 2, "r:") == 0;
    if (one.values[0]) distinct.insert(*one.values[0]);
  }
  CHECK(only_live);
  CHECK(distinct.size() > 600);  // 2000 uniform draws of 1000 hit ~865
}

void TestExpireCycleReclaims() {
  Fixture f(FakeClock());
  const int kExpiring = 100000;
  int64_t now = g_now_ms.load();
  for (int i = 0; i < kExpiring; ++i) {
    string k = "x:" + std::to_string(i);
    CHECK(f.engine->Put(f.w, i % 2 == 0 ? 0 : 7, K(k), K(string(32, 'v')), 0, now + 1).ok());
  }
  for (int i = 0; i < 1000; ++i) f.Put("keep:" + std::to_string(i), "v", 7);
  uint64_t expired = 0;
  CHECK(f.engine->ExpireCycle(f.w, 100000, &expired).ok());
  CHECK_EQ(expired, 0u);  // nothing is due yet
  CHECK_EQ(f.Count(0) + f.Count(7), uint64_t(kExpiring + 1000));
  g_now_ms += 1;
  // Bounded work per call: never more deletions than checks.
  CHECK(f.engine->ExpireCycle(f.w, 10, &expired).ok());
  CHECK(expired <= 10);
  uint64_t total = expired;
  int calls = 1;
  while (f.Count(0) + f.Count(7) > 1000 && calls < 100000) {
    CHECK(f.engine->ExpireCycle(f.w, 1000, &expired).ok());
    CHECK(expired <= 1000);
    total += expired;
    ++calls;
  }
  CHECK_EQ(total, uint64_t(kExpiring));
  CHECK_EQ(f.Count(0), 0u);
  CHECK_EQ(f.Count(7), 1000u);
  uint64_t keys = 0, expires = 9;
  CHECK(f.engine->Count(f.w, 7, &keys, &expires).ok());
  CHECK_EQ(expires, 0u);
  CHECK(calls > 50);  // it took many bounded steps, not one sweep
  // Nothing left to do: a call still ends (one lap at most).
  CHECK(f.engine->ExpireCycle(f.w, SIZE_MAX, &expired).ok());
  CHECK_EQ(expired, 0u);
  CHECK(f.Get("keep:5", 7) == string("v"));
  CHECK(f.engine->ExpireCycle(f.w, 10, nullptr) == Status::InvalidArgument());
}

void TestOpsTableV2() {
  OpsFixture f;
  cw_engine_ops& ops = f.ops;
  CHECK_EQ(ops.databases, 16u);
  CHECK_EQ(ops.reserved, 0u);
  Captured c;
  int64_t at = -1;
  CHECK_EQ(ops.put(f.w, 3, CS("k"), CS("v"), 0, INT64_MAX, nullptr, nullptr), CW_OK);
  CHECK_EQ(ops.get(f.w, 3, CS("k"), CaptureSink, &c, &at), CW_OK);
  CHECK(c.values.back() == string("v"));
  CHECK_EQ(at, INT64_MAX);
  CHECK_EQ(ops.get(f.w, 0, CS("k"), CaptureSink, &c, &at), CW_OK);
  CHECK(!c.values.back().has_value());
  CHECK_EQ(at, 0);
  uint64_t n = 0, e = 0;
  CHECK_EQ(ops.count(f.w, 3, &n, &e), CW_OK);
  CHECK(n == 1 && e == 1);
  uint32_t applied = 9;
  CHECK_EQ(ops.expire(f.w, 3, CS("k"), 0, CW_EXPIRE_PERSIST, &applied), CW_OK);
  CHECK_EQ(applied, 1u);
  CHECK_EQ(ops.expire(f.w, 3, CS("k"), 1, CW_EXPIRE_NX | CW_EXPIRE_XX, &applied),
           CW_INVALID_ARGUMENT);
  CHECK_EQ(ops.put(f.w, 3, CS("k"), CS("w"), CW_PUT_KEEP_TTL, 5, CaptureSink, &c), CW_OK);
  CHECK(c.values.back() == string("v"));
  CHECK_EQ(ops.take(f.w, 3, CS("k"), CaptureSink, &c), CW_OK);
  CHECK(c.values.back() == string("w"));
  cw_slice keys[] = {CS("a"), CS("b")};
  uint32_t written = 9;
  CHECK_EQ(ops.multi_put(f.w, 3, keys, keys, 2, CW_MPUT_IF_NONE_EXIST, &written), CW_OK);
  CHECK_EQ(written, 1u);
  CHECK_EQ(ops.multi_put(f.w, 3, keys, keys, 2, CW_MPUT_IF_NONE_EXIST, &written), CW_OK);
  CHECK_EQ(written, 0u);
  std::vector<string> scanned;
  uint64_t cursor = 0;
  do {
    CHECK_EQ(ops.scan(f.w, 3, cursor, 10, CollectKey, &scanned, &cursor), CW_OK);
  } while (cursor != 0);
  CHECK(std::set<string>(scanned.begin(), scanned.end()) == std::set<string>({"a", "b"}));
  CHECK_EQ(ops.random_key(f.w, 3, CaptureSink, &c), CW_OK);
  CHECK(c.values.back() == string("a") || c.values.back() == string("b"));
  uint64_t expired = 9;
  CHECK_EQ(ops.expire_cycle(f.w, 1000, &expired), CW_OK);
  CHECK_EQ(expired, 0u);
  cw_txn* t = ops.txn_begin(f.w);
  CHECK_EQ(ops.txn_get(t, 3, CS("a"), CaptureSink, &c, &at), CW_OK);
  CHECK(c.values.back() == string("a"));
  CHECK_EQ(ops.txn_put(t, 4, CS("a"), CS("a"), CW_PUT_KEEP_TTL, 0), CW_OK);
  CHECK_EQ(ops.txn_del(t, 3, CS("a")), CW_OK);
  CHECK_EQ(ops.txn_commit(t), CW_OK);
  CHECK_EQ(ops.count(f.w, 4, &n, nullptr), CW_OK);
  CHECK_EQ(n, 1u);
  CHECK_EQ(ops.count(f.w, 4, nullptr, nullptr), CW_INVALID_ARGUMENT);
  CHECK_EQ(ops.clear(f.w, CW_ALL_DATABASES), CW_OK);
  CHECK_EQ(ops.count(f.w, 3, &n, nullptr), CW_OK);
  CHECK_EQ(n, 0u);
  CHECK_EQ(ops.get(f.w, 16, CS("k"), CaptureSink, &c, nullptr), CW_INVALID_ARGUMENT);
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
                    {"databases_are_independent", TestDatabasesAreIndependent},
                    {"expiry_reads_and_writes", TestExpiryReadsAndWrites},
                    {"expire_flags", TestExpireFlags},
                    {"multi_put_if_none_exist", TestMultiPutIfNoneExist},
                    {"take", TestTake},
                    {"txn_and_expiry", TestTxnAndExpiry},
                    {"scan", TestScan},
                    {"random_key", TestRandomKey},
                    {"expire_cycle_reclaims", TestExpireCycleReclaims},
                    {"ops_table_v2", TestOpsTableV2},
                });
}
