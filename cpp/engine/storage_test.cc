// storage_test.cc: write-ahead logs, checkpoints and recovery of the
// engine, through its public API, on real files in a temp directory.
#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "engine/crc32c.h"
#include "engine/engine.h"
#include "engine/test_util.h"

using namespace corewire;
using namespace corewire::test;

namespace {

// Log lines the engine reported, for checks on warnings.
struct LogLines {
  std::mutex mu;
  std::vector<std::string> lines;
  bool Contains(const std::string& needle) {
    std::lock_guard<std::mutex> guard(mu);
    for (const auto& line : lines) {
      if (line.find(needle) != std::string::npos) return true;
    }
    return false;
  }
};

void CollectLog(void* ctx, int32_t, const char* message) {
  auto* lines = static_cast<LogLines*>(ctx);
  std::lock_guard<std::mutex> guard(lines->mu);
  lines->lines.push_back(message);
}

std::string MakeTempDir() {
  char pattern[] = "/tmp/cw-storage-test-XXXXXX";
  char* dir = mkdtemp(pattern);
  CHECK(dir != nullptr);
  return dir == nullptr ? std::string() : std::string(dir);
}

void RemoveDir(const std::string& dir) {
  std::string command = "rm -rf '" + dir + "'";
  CHECK(std::system(command.c_str()) == 0);
}

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  while (dirent* e = d ? readdir(d) : nullptr) {
    if (e->d_name[0] != '.') names.push_back(e->d_name);
  }
  if (d) closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

std::string NewestLog(const std::string& dir) {
  std::string newest;
  for (const auto& name : ListDir(dir)) {
    if (name.rfind("wal-", 0) == 0 && name > newest) {
      struct stat st;
      if (stat((dir + "/" + name).c_str(), &st) == 0 && st.st_size > 0) {
        newest = name;
      }
    }
  }
  return dir + "/" + newest;
}

uint64_t FileBytes(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? uint64_t(st.st_size) : 0;
}

// The group commit a server does after a batch: write, then sync.
Status Commit(Engine* engine, Worker* worker) {
  uint64_t ticket = 0;
  Status s = engine->FlushLog(worker, &ticket);
  if (!s.ok() || ticket == 0) return s;
  return engine->SyncLog(worker, ticket);
}

// An engine with storage on dir and one worker.
struct Durable {
  std::unique_ptr<Engine> engine;
  Worker* worker = nullptr;
  LogLines log;
  Status open_status;
  std::string error;

  explicit Durable(const std::string& dir, uint32_t fsync = CW_FSYNC_ALWAYS,
                   uint32_t truncate_corrupt = 0) {
    CHECK(Engine::Open(EngineOptions(), &engine).ok());
    cw_storage_options options{};
    options.struct_size = sizeof options;
    options.fsync_policy = fsync;
    options.data_dir = dir.c_str();
    options.truncate_corrupt = truncate_corrupt;
    options.recovery_threads = 2;
    options.log = CollectLog;
    options.log_ctx = &log;
    open_status = engine->OpenStorage(options, &error);
    if (open_status.ok()) CHECK(engine->OpenWorker(0, &worker).ok());
  }
  ~Durable() {
    if (worker != nullptr) engine->CloseWorker(worker);
  }
  Status Put(const std::string& k, const std::string& v, int64_t deadline = 0) {
    Status s = engine->Put(worker, 0, ToSlice(k), ToSlice(v), 0, deadline);
    Status f = Commit(engine.get(), worker);
    return s.ok() ? f : s;
  }
  std::optional<std::string> Get(const std::string& k, uint32_t db = 0) {
    std::string v;
    Status s = engine->Get(worker, db, ToSlice(k), &v);
    if (s.IsNotFound()) return std::nullopt;
    return v;
  }
};

void TestCrc32cKnownValue() {
  const char* text = "123456789";
  CHECK_EQ(Crc32c(reinterpret_cast<const uint8_t*>(text), 9), 0xE3069283u);
  // Extending in pieces gives the same checksum.
  uint32_t crc = Crc32cExtend(0, reinterpret_cast<const uint8_t*>(text), 4);
  crc = Crc32cExtend(crc, reinterpret_cast<const uint8_t*>(text) + 4, 5);
  CHECK_EQ(crc, 0xE3069283u);
}

void TestEveryWriteKindSurvivesReopen() {
  std::string dir = MakeTempDir();
  int64_t far = 4102444800000;  // 2100-01-01
  {
    Durable d(dir);
    CHECK(d.open_status.ok());
    CHECK(d.Put("plain", "v1").ok());
    CHECK(d.Put("plain", "v2").ok());
    CHECK(d.Put("gone", "x").ok());
    Slice gone = ToSlice("gone");
    uint64_t deleted = 0;
    CHECK(d.engine->Delete(d.worker, 0, &gone, 1, &deleted).ok());
    CHECK_EQ(deleted, 1u);
    CHECK(d.Put("ttl", "t", far).ok());
    CHECK(d.Put("short", "s", 1).ok());  // deadline long past: a delete
    int64_t counter = 0;
    CHECK(d.engine->IncrBy(d.worker, 0, ToSlice("n"), 41, &counter).ok());
    CHECK(d.engine->IncrBy(d.worker, 0, ToSlice("n"), 1, &counter).ok());
    Slice keys[2] = {ToSlice("m1"), ToSlice("m2")};
    Slice values[2] = {ToSlice("a"), ToSlice("b")};
    CHECK(d.engine->MultiPut(d.worker, 3, keys, values, 2).ok());
    Txn* txn = nullptr;
    CHECK(d.engine->TxnBegin(d.worker, &txn).ok());
    CHECK(d.engine->TxnPut(txn, 0, ToSlice("t1"), ToSlice("one")).ok());
    CHECK(d.engine->TxnPut(txn, 1, ToSlice("t2"), ToSlice("two")).ok());
    CHECK(d.engine->TxnDelete(txn, 0, ToSlice("plain")).ok());
    CHECK(d.engine->TxnCommit(txn).ok());
    uint32_t applied = 0;
    CHECK(d.engine->Expire(d.worker, 0, ToSlice("t1"), far, 0, &applied).ok());
    CHECK(Commit(d.engine.get(), d.worker).ok());
  }
  {
  Durable d(dir);
  CHECK(d.open_status.ok());
  CHECK(d.Get("plain") == std::nullopt);
  CHECK(d.Get("gone") == std::nullopt);
  CHECK(d.Get("short") == std::nullopt);
  CHECK(d.Get("ttl") == std::optional<std::string>("t"));
  CHECK(d.Get("n") == std::optional<std::string>("42"));
  CHECK(d.Get("m1", 3) == std::optional<std::string>("a"));
  CHECK(d.Get("m2", 3) == std::optional<std::string>("b"));
  CHECK(d.Get("t1") == std::optional<std::string>("one"));
  CHECK(d.Get("t2", 1) == std::optional<std::string>("two"));
  std::string value;
  int64_t deadline = 0;
  CHECK(d.engine->Get(d.worker, 0, ToSlice("t1"), &value, &deadline).ok());
  CHECK_EQ(deadline, far);
  uint64_t keys = 0;
  CHECK(d.engine->Count(d.worker, 0, &keys).ok());
  CHECK_EQ(keys, 3u);  // ttl, n, t1
  // Writes after recovery get higher TIDs than anything recovered.
  CHECK(d.Put("t1", "after").ok());
  }
  Durable d(dir);
  CHECK(d.Get("t1") == std::optional<std::string>("after"));
  RemoveDir(dir);
}

void TestClearIsLogged() {
  std::string dir = MakeTempDir();
  {
    Durable d(dir);
    for (int i = 0; i < 100; ++i) CHECK(d.Put("k" + std::to_string(i), "v").ok());
    CHECK(d.engine->Clear(d.worker, kAllDatabases).ok());
    CHECK(d.Put("k7", "back").ok());
  }
  Durable d(dir);
  uint64_t keys = 0;
  CHECK(d.engine->Count(d.worker, 0, &keys).ok());
  CHECK_EQ(keys, 1u);
  CHECK(d.Get("k7") == std::optional<std::string>("back"));
  RemoveDir(dir);
}

void TestCheckpointDeletesCoveredLogs() {
  std::string dir = MakeTempDir();
  {
    Durable d(dir);
    for (int i = 0; i < 1000; ++i) {
      CHECK(d.Put("k" + std::to_string(i), std::string(100, 'a' + i % 26)).ok());
    }
    CHECK(d.engine->Checkpoint(true).ok());
    for (int i = 0; i < 10; ++i) CHECK(d.Put("k" + std::to_string(i), "new").ok());
    cw_storage_info info{};
    info.struct_size = sizeof info;
    CHECK(d.engine->StorageInfo(&info).ok());
    CHECK_EQ(info.checkpoints, 1u);
    CHECK_EQ(info.last_checkpoint_keys, 1000u);
    CHECK_EQ(info.changes_since_checkpoint, 10u);
    CHECK(info.log_ok == 1);
    // Generation 1's logs are gone; the checkpoint and generation 2 remain.
    for (const auto& name : ListDir(dir)) {
      CHECK(name.rfind("wal-00000001", 0) != 0);
    }
    CHECK(FileBytes(dir + "/checkpoint-00000002") > 0);
  }
  Durable d(dir);
  CHECK(d.open_status.ok());
  CHECK(d.log.Contains("recovery: loading checkpoint-00000002 (1000 keys)"));
  CHECK(d.Get("k5") == std::optional<std::string>("new"));
  CHECK(d.Get("k500") == std::optional<std::string>(std::string(100, 'a' + 500 % 26)));
  uint64_t keys = 0;
  CHECK(d.engine->Count(d.worker, 0, &keys).ok());
  CHECK_EQ(keys, 1000u);
  RemoveDir(dir);
}

void TestTornTailIsCut() {
  std::string dir = MakeTempDir();
  {
    Durable d(dir);
    CHECK(d.Put("a", "1").ok());
    CHECK(d.Put("b", "2").ok());
    CHECK(d.Put("c", std::string(1000, 'c')).ok());
  }
  std::string log = NewestLog(dir);
  uint64_t size = FileBytes(log);
  CHECK(truncate(log.c_str(), off_t(size - 10)) == 0);
  {
    Durable d(dir);
    CHECK(d.open_status.ok());
    CHECK(d.Get("a") == std::optional<std::string>("1"));
    CHECK(d.Get("b") == std::optional<std::string>("2"));
    CHECK(d.Get("c") == std::nullopt);
    // The last record (key "c", 1000-byte value) is 1030 bytes long.
    CHECK(d.log.Contains("torn tail at byte " + std::to_string(size - 1030) +
                         ": dropped 1 record (1020 bytes)"));
  }
  // The file was cut, so the next start is clean.
  Durable again(dir);
  CHECK(again.open_status.ok());
  CHECK(!again.log.Contains("torn tail"));
  CHECK(again.Get("b") == std::optional<std::string>("2"));
  RemoveDir(dir);
}

// A crash leaves a log's preallocated zeros behind its last record: that
// is its normal end, not damage.
void TestPreallocatedZerosAreNotATornTail() {
  std::string dir = MakeTempDir();
  std::string copy = MakeTempDir();
  {
    Durable d(dir);
    CHECK(d.Put("a", "1").ok());
    CHECK(d.Put("b", "2").ok());
    // What a SIGKILL would leave: the files as they are while running.
    CHECK(std::system(("cp -a '" + dir + "/.' '" + copy + "/'").c_str()) == 0);
  }
  CHECK(FileBytes(NewestLog(copy)) >= (uint64_t{16} << 20));
  ::unlink((copy + "/LOCK").c_str());
  Durable d(copy);
  CHECK(d.open_status.ok());
  CHECK(!d.log.Contains("torn tail"));
  CHECK(d.Get("a") == std::optional<std::string>("1"));
  CHECK(d.Get("b") == std::optional<std::string>("2"));
  RemoveDir(dir);
  RemoveDir(copy);
}

void FlipByte(const std::string& path, uint64_t offset) {
  int fd = open(path.c_str(), O_RDWR);
  uint8_t byte = 0;
  CHECK(pread(fd, &byte, 1, off_t(offset)) == 1);
  byte ^= 0x10;
  CHECK(pwrite(fd, &byte, 1, off_t(offset)) == 1);
  close(fd);
}

void TestCorruptionInTheMiddleStopsRecovery() {
  std::string dir = MakeTempDir();
  {
    Durable d(dir);
    for (int i = 0; i < 10; ++i) CHECK(d.Put("k" + std::to_string(i), "v").ok());
  }
  std::string log = NewestLog(dir);
  FlipByte(log, 10);  // inside the first record's payload
  {
    Durable d(dir);
    CHECK(d.open_status == Status::Internal());
    CHECK(d.error.find("corrupt record at byte 0 (CRC mismatch)") !=
          std::string::npos);
    CHECK(d.error.find("recovery-truncate-corrupt") != std::string::npos);
  }
  // The way out: cut the log at the damage.
  {
    Durable d(dir, CW_FSYNC_ALWAYS, 1);
    CHECK(d.open_status.ok());
    CHECK(d.log.Contains("corrupt record at byte 0"));
    CHECK(d.Get("k0") == std::nullopt);
  }
  RemoveDir(dir);
}

void TestFlippedLastRecordIsATornTail() {
  std::string dir = MakeTempDir();
  {
    Durable d(dir);
    CHECK(d.Put("a", "1").ok());
    CHECK(d.Put("b", "2").ok());
  }
  std::string log = NewestLog(dir);
  FlipByte(log, FileBytes(log) - 6);
  Durable d(dir);
  CHECK(d.open_status.ok());
  CHECK(d.log.Contains("torn tail"));
  CHECK(d.Get("a") == std::optional<std::string>("1"));
  CHECK(d.Get("b") == std::nullopt);
  RemoveDir(dir);
}

void TestSecondOpenerIsRefused() {
  std::string dir = MakeTempDir();
  Durable first(dir);
  CHECK(first.open_status.ok());
  Durable second(dir);
  CHECK(second.open_status == Status::Busy());
  CHECK(second.error.find("in use by another corewire process") !=
        std::string::npos);
  RemoveDir(dir);
}

// Writers on several threads (single keys, and multi-key transactions
// whose keys always carry one tag) while checkpoints run; then the store
// is reopened and must equal what was in memory, key for key.
void TestCheckpointsUnderLoadRecoverExactly() {
  std::string dir = MakeTempDir();
  std::map<std::string, std::string> expected;
  {
    Durable d(dir, CW_FSYNC_NO);
    std::atomic<bool> stop{false};
    std::vector<std::thread> writers;
    for (int t = 0; t < 3; ++t) {
      writers.emplace_back([&, t] {
        Worker* w = nullptr;
        CHECK(d.engine->OpenWorker(size_t(t + 1), &w).ok());
        std::mt19937 rng(t);
        for (int i = 0; i < 3000; ++i) {
          std::string tag = std::to_string(t) + ":" + std::to_string(i);
          int choice = rng() % 3;
          if (choice == 0) {
            std::string key = "s" + std::to_string(rng() % 200);
            d.engine->Put(w, 0, ToSlice(key), ToSlice(tag));
          } else if (choice == 1) {
            Txn* txn = nullptr;
            CHECK(d.engine->TxnBegin(w, &txn).ok());
            int group = rng() % 20;
            for (int k = 0; k < 3; ++k) {
              std::string key = "g" + std::to_string(group) + "." + std::to_string(k);
              d.engine->TxnPut(txn, 0, ToSlice(key), ToSlice(tag));
            }
            Status s = d.engine->TxnCommit(txn);
            CHECK(s.ok() || s.IsConflict());
          } else {
            std::string key = "s" + std::to_string(rng() % 200);
            Slice k = ToSlice(key);
            uint64_t deleted = 0;
            d.engine->Delete(w, 0, &k, 1, &deleted);
          }
          if (i % 50 == 0) CHECK(Commit(d.engine.get(), w).ok());
        }
        CHECK(Commit(d.engine.get(), w).ok());
        d.engine->CloseWorker(w);
      });
    }
    std::thread checkpointer([&] {
      while (!stop.load()) {
        Status s = d.engine->Checkpoint(true);
        CHECK(s.ok() || s == Status::Busy());
      }
    });
    for (auto& w : writers) w.join();
    stop.store(true);
    checkpointer.join();
    for (int i = 0; i < 200; ++i) {
      auto v = d.Get("s" + std::to_string(i));
      if (v) expected["s" + std::to_string(i)] = *v;
    }
    for (int g = 0; g < 20; ++g) {
      for (int k = 0; k < 3; ++k) {
        std::string key = "g" + std::to_string(g) + "." + std::to_string(k);
        auto v = d.Get(key);
        if (v) expected[key] = *v;
      }
    }
  }
  Durable d(dir);
  CHECK(d.open_status.ok());
  size_t found = 0;
  for (const auto& [key, value] : expected) {
    auto v = d.Get(key);
    CHECK(v == std::optional<std::string>(value));
    found += v.has_value();
  }
  for (int i = 0; i < 200; ++i) {
    std::string key = "s" + std::to_string(i);
    if (!expected.count(key)) CHECK(d.Get(key) == std::nullopt);
  }
  CHECK_EQ(found, expected.size());
  RemoveDir(dir);
}

// A log larger than one replay chunk (16 MiB) is applied by several
// threads in any order; the last write of each key must still win.
void TestLargeLogReplaysInChunks() {
  std::string dir = MakeTempDir();
  {
    Durable d(dir, CW_FSYNC_NO);
    for (int round = 0; round < 10; ++round) {
      for (int i = 0; i < 1000; ++i) {
        std::string key = "k" + std::to_string(i);
        std::string value = std::to_string(round) + std::string(4000, 'v');
        CHECK(d.engine->Put(d.worker, 0, ToSlice(key), ToSlice(value)).ok());
      }
      CHECK(Commit(d.engine.get(), d.worker).ok());
    }
    for (int i = 0; i < 1000; i += 7) {
      std::string key = "k" + std::to_string(i);
      Slice k = ToSlice(key);
      uint64_t deleted = 0;
      CHECK(d.engine->Delete(d.worker, 0, &k, 1, &deleted).ok());
    }
    CHECK(Commit(d.engine.get(), d.worker).ok());
  }
  CHECK(FileBytes(NewestLog(dir)) > (uint64_t{32} << 20));
  Durable d(dir);
  CHECK(d.open_status.ok());
  for (int i = 0; i < 1000; ++i) {
    auto v = d.Get("k" + std::to_string(i));
    if (i % 7 == 0) {
      CHECK(v == std::nullopt);
    } else {
      CHECK(v == std::optional<std::string>("9" + std::string(4000, 'v')));
    }
  }
  uint64_t keys = 0;
  CHECK(d.engine->Count(d.worker, 0, &keys).ok());
  CHECK_EQ(keys, 1000u - 143u);
  RemoveDir(dir);
}

// fsync always as the server runs it: the worker writes each batch and a
// helper thread fsyncs up to the batch's ticket while the worker goes on,
// with checkpoints rotating the files meanwhile.
void TestSyncOnAnotherThreadWhileWorkerWrites() {
  std::string dir = MakeTempDir();
  {
    Durable d(dir, CW_FSYNC_ALWAYS);
    std::atomic<uint64_t> wanted{0};
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> syncs{0};
    std::thread syncer([&] {
      uint64_t done = 0;
      while (!stop.load() || done < wanted.load()) {
        uint64_t ticket = wanted.load();
        if (ticket <= done) {
          std::this_thread::yield();
          continue;
        }
        CHECK(d.engine->SyncLog(d.worker, ticket).ok());
        done = ticket;
        syncs.fetch_add(1);
      }
    });
    std::thread checkpointer([&] {
      for (int i = 0; i < 5; ++i) {
        Status s = d.engine->Checkpoint(true);
        CHECK(s.ok() || s == Status::Busy());
      }
    });
    for (int i = 0; i < 2000; ++i) {
      std::string key = "k" + std::to_string(i % 300);
      CHECK(d.engine->Put(d.worker, 0, ToSlice(key), ToSlice(std::to_string(i))).ok());
      uint64_t ticket = 0;
      CHECK(d.engine->FlushLog(d.worker, &ticket).ok());
      if (ticket > wanted.load()) wanted.store(ticket);
    }
    checkpointer.join();
    stop.store(true);
    syncer.join();
    CHECK(syncs.load() > 0);
    // Everything written is durable now: no ticket is left to wait for.
    uint64_t ticket = 1;
    CHECK(d.engine->FlushLog(d.worker, &ticket).ok());
    CHECK_EQ(ticket, 0u);
  }
  Durable d(dir);
  for (int i = 1700; i < 2000; ++i) {
    CHECK(d.Get("k" + std::to_string(i % 300)) ==
          std::optional<std::string>(std::to_string(i)));
  }
  RemoveDir(dir);
}

// A full disk, simulated with RLIMIT_FSIZE (EFBIG): the flush fails,
// writes are refused while reads go on, and once the file may grow again
// the background retry writes the kept buffer and writes are accepted.
void TestFailedWriteRefusesWritesUntilRetried() {
  std::string dir = MakeTempDir();
  std::signal(SIGXFSZ, SIG_IGN);
  rlimit saved{};
  CHECK(getrlimit(RLIMIT_FSIZE, &saved) == 0);
  {
    Durable d(dir, CW_FSYNC_EVERYSEC);
    CHECK(d.Put("before", "1").ok());
    cw_storage_info before{};
    before.struct_size = sizeof before;
    CHECK(d.engine->StorageInfo(&before).ok());
    // The next record goes at offset log_bytes: past the limit, whether
    // or not the file has preallocated space there.
    rlimit tight = saved;
    tight.rlim_cur = before.log_bytes;
    CHECK(setrlimit(RLIMIT_FSIZE, &tight) == 0);
    CHECK(d.engine->Put(d.worker, 0, ToSlice("big"), ToSlice(std::string(4096, 'b')))
              .ok());  // buffered
    CHECK(Commit(d.engine.get(), d.worker) == Status::LogFailed());
    CHECK(d.log.Contains("write-ahead log: write to"));
    CHECK(d.log.Contains("File too large; writes are refused until it succeeds"));
    cw_storage_info info{};
    info.struct_size = sizeof info;
    CHECK(d.engine->StorageInfo(&info).ok());
    CHECK_EQ(info.log_ok, 0u);
    CHECK_EQ(info.log_errno, EFBIG);
    CHECK(d.engine->Put(d.worker, 0, ToSlice("refused"), ToSlice("x")) ==
          Status::LogFailed());
    CHECK(d.engine->Clear(d.worker, 0) == Status::LogFailed());
    CHECK(d.Get("before") == std::optional<std::string>("1"));
    CHECK(setrlimit(RLIMIT_FSIZE, &saved) == 0);
    bool writable = false;
    for (int i = 0; i < 100 && !writable; ++i) {  // retried every second
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      writable = d.engine->Put(d.worker, 0, ToSlice("after"), ToSlice("2")).ok();
    }
    CHECK(writable);
    CHECK(d.log.Contains("writable again"));
    CHECK(Commit(d.engine.get(), d.worker).ok());
  }
  Durable d(dir);
  CHECK(d.Get("before") == std::optional<std::string>("1"));
  CHECK(d.Get("big") == std::optional<std::string>(std::string(4096, 'b')));
  CHECK(d.Get("refused") == std::nullopt);
  CHECK(d.Get("after") == std::optional<std::string>("2"));
  RemoveDir(dir);
}

}  // namespace

int main() {
  return RunAll("storage_test",
                {
                    {"crc32c_known_value", TestCrc32cKnownValue},
                    {"every_write_kind_survives_reopen",
                     TestEveryWriteKindSurvivesReopen},
                    {"clear_is_logged", TestClearIsLogged},
                    {"checkpoint_deletes_covered_logs",
                     TestCheckpointDeletesCoveredLogs},
                    {"torn_tail_is_cut", TestTornTailIsCut},
                    {"corruption_in_the_middle_stops_recovery",
                     TestCorruptionInTheMiddleStopsRecovery},
                    {"preallocated_zeros_are_not_a_torn_tail",
                     TestPreallocatedZerosAreNotATornTail},
                    {"flipped_last_record_is_a_torn_tail",
                     TestFlippedLastRecordIsATornTail},
                    {"second_opener_is_refused", TestSecondOpenerIsRefused},
                    {"checkpoints_under_load_recover_exactly",
                     TestCheckpointsUnderLoadRecoverExactly},
                    {"sync_on_another_thread_while_worker_writes",
                     TestSyncOnAnotherThreadWhileWorkerWrites},
                    {"large_log_replays_in_chunks",
                     TestLargeLogReplaysInChunks},
                    {"failed_write_refuses_writes_until_retried",
                     TestFailedWriteRefusesWritesUntilRetried},
                });
}
