// checkpoint.cc: Storage::RunCheckpoint, a fuzzy snapshot taken while the
// workers keep writing, and the deletion of the logs it covers.
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "engine/storage.h"
#include "engine/wal_format.h"
#include "engine/worker.h"

namespace corewire {

namespace {

// Snapshot parts, written one after the other and loaded in parallel.
constexpr uint32_t kSnapshotParts = 4;
// Keys are packed into records of about this many payload bytes.
constexpr size_t kSnapshotRecordBytes = size_t{64} << 10;
// A part's output buffer is written out past this.
constexpr size_t kSnapshotBufferBytes = size_t{1} << 20;

// Buffered writer of one snapshot part: packs items into records.
class PartWriter {
 public:
  explicit PartWriter(int fd) : fd_(fd) {}

  // False on a write error (error_number() says which) or no memory.
  bool Add(const LogItem& item) {
    size_t item_bytes =
        ItemBytes(item.kind, item.db, item.key.len, item.value.len);
    if (record_start_ != kNone &&
        buffer_.size() - record_start_ - 4 + item_bytes >
            kSnapshotRecordBytes &&
        !Seal()) {
      return false;
    }
    if (record_start_ == kNone) {
      if (buffer_.size() >= kSnapshotBufferBytes && !Write()) return false;
      record_start_ = buffer_.size();
      if (!Grow(4)) return false;
    }
    size_t at = buffer_.size();
    if (!Grow(item_bytes)) return false;
    EncodeItem(buffer_.data() + at, item);
    return true;
  }

  bool Finish() {
    if (record_start_ != kNone && !Seal()) return false;
    return Write() && (::fdatasync(fd_) == 0 || Failed(errno));
  }

  uint64_t bytes() const { return bytes_; }
  int error_number() const { return error_number_; }

 private:
  static constexpr size_t kNone = SIZE_MAX;

  bool Grow(size_t n) {
    try {
      buffer_.resize(buffer_.size() + n);
      return true;
    } catch (...) {
      return Failed(ENOMEM);
    }
  }
  bool Seal() {
    size_t payload_bytes = buffer_.size() - record_start_ - 4;
    if (!Grow(4)) return false;
    SealRecord(buffer_.data() + record_start_, payload_bytes);
    record_start_ = kNone;
    return true;
  }
  bool Write() {
    int error_number = WriteAll(fd_, buffer_.data(), buffer_.size());
    if (error_number != 0) return Failed(error_number);
    bytes_ += buffer_.size();
    buffer_.clear();
    return true;
  }
  bool Failed(int error_number) {
    error_number_ = error_number;
    return false;
  }

  const int fd_;
  std::vector<uint8_t> buffer_;
  size_t record_start_ = kNone;  // offset of the open record's length
  uint64_t bytes_ = 0;
  int error_number_ = 0;
};

}  // namespace

Status Storage::RotateLogs(uint64_t generation) {
  std::lock_guard<std::mutex> guard(logs_mu_);
  generation_ = generation;  // workers attaching from now on use it
  std::vector<std::pair<WorkerLog*, std::shared_ptr<LogFile>>> rotations;
  for (size_t slot = 0; slot < logs_.size(); ++slot) {
    WorkerLog* log = logs_[slot];
    if (log == nullptr) continue;
    std::shared_ptr<LogFile> next;
    Status s = OpenLogFile(generation, static_cast<uint32_t>(slot), &next);
    if (!s.ok()) return s;
    rotations.emplace_back(log, std::move(next));
  }
  // One cut for every log: all their locks are held while any is swapped,
  // so a record appended before the cut is in an old file and one after it
  // in a new file, on every log alike. (Cut log by log, a put that came
  // after the cut on one log could precede a delete still before it on
  // another; the snapshot records no deletes, so replay brought the key
  // back.) Workers take only their own log's lock: no lock order issue.
  std::vector<std::unique_lock<std::mutex>> locks;
  locks.reserve(rotations.size());
  for (auto& rotation : rotations) locks.emplace_back(rotation.first->mu);
  // Per log, the records appended before the cut: the snapshot may start
  // only once their writes are installed.
  std::vector<std::pair<WorkerLog*, uint64_t>> to_install;
  for (auto& [log, next] : rotations) {
    // Buffered records belong before the cut: to the old file.
    if (!WritePendingLocked(log)) return Status::LogFailed();
    // Sync tickets count bytes over all files but Sync fsyncs the current
    // one: the old file is made durable here, before it stops being it.
    int error_number = SyncFile(log->file.get());
    if (error_number != 0) {
      Fail(error_number, false, "fsync of " + log->file->path);
      return Status::LogFailed();
    }
    log->synced_total.store(log->written_total.load());
    TrimLocked(log->file.get());
    log->file.swap(next);
    to_install.emplace_back(log, log->appended.load(std::memory_order_relaxed));
  }
  locks.clear();
  // What the old files hold is installed before the snapshot starts, so
  // the snapshot sees it all. A worker installs right after it appends,
  // without blocking: this waits for at most one install per worker.
  // Detach needs logs_mu_, so no log goes away meanwhile.
  for (const auto& [log, appended] : to_install) {
    while (log->installed.load(std::memory_order_acquire) < appended) {
      std::this_thread::yield();
    }
  }
  int error_number = SyncDir(dir_);
  if (error_number != 0) {
    Log(CW_LOG_ERROR, "checkpoint: fsync of " + dir_ + " failed: " +
                          ErrnoText(error_number));
    return Status::LogFailed();
  }
  return Status::OK();
}

Status Storage::WriteSnapshot(uint64_t generation, uint64_t* keys,
                              uint64_t* bytes,
                              std::vector<uint64_t>* part_bytes) {
  Worker* worker = nullptr;
  Status s = OpenWorkerHandle(engine_, rep_, Engine::kMaxWorkers, &worker);
  if (!s.ok()) return s;
  *keys = 0;
  *bytes = 0;
  for (uint32_t part = 0; part < kSnapshotParts && s.ok(); ++part) {
    std::string path = PathOf(SnapshotPartName(generation, part));
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                    0644);
    if (fd < 0) {
      Log(CW_LOG_ERROR, "checkpoint: cannot create " + path + ": " +
                            ErrnoText(errno));
      s = Status::LogFailed();
      break;
    }
    PartWriter writer(fd);
    bool ok = true;
    const size_t first = Table::kShardCount * part / kSnapshotParts;
    const size_t last = Table::kShardCount * (part + 1) / kSnapshotParts;
    for (uint32_t db = 0; db < rep_->options.databases && ok; ++db) {
      Table* table = rep_->table(db);
      if (table == nullptr) continue;
      for (size_t shard = first; shard < last && ok; ++shard) {
        EpochGuard epoch(worker);
        table->ForEachInShard(shard, [&](Record* record) noexcept {
          if (!ok) return;
          Value* value = nullptr;
          int64_t deadline = 0;
          uint64_t word = ReadStable(record, &value, &deadline);
          if (value == nullptr || (word & kTidAbsent) ||
              Expired(deadline, [worker] { return worker->NowMs(); })) {
            return;
          }
          LogItem item{};
          item.kind = kItemPut;
          item.db = db;
          item.tid = TidVersion(word);
          item.expire_at_ms = deadline;
          item.key = cw_slice{record->key(), record->key_bytes};
          item.value = cw_slice{value->data(), value->size_bytes};
          ok = writer.Add(item);
          *keys += ok;
        });
      }
    }
    ok = ok && writer.Finish();
    ::close(fd);
    if (!ok) {
      Log(CW_LOG_ERROR, "checkpoint: writing " + path + " failed: " +
                            ErrnoText(writer.error_number()));
      s = Status::LogFailed();
      break;
    }
    part_bytes->push_back(writer.bytes());
    *bytes += writer.bytes();
  }
  CloseWorkerHandle(worker);
  return s;
}

Status Storage::MakeAllDurable() {
  // Every commit the snapshot saw has its record in some worker's buffer
  // or file (Append runs before install); this makes them all durable, so
  // a transaction the snapshot caught half-way is completed by replay.
  std::lock_guard<std::mutex> guard(logs_mu_);
  for (WorkerLog* log : logs_) {
    if (log == nullptr) continue;
    std::lock_guard<std::mutex> lock(log->mu);
    if (!WritePendingLocked(log)) return Status::LogFailed();
    int error_number = SyncFile(log->file.get());
    if (error_number != 0) {
      Fail(error_number, false, "fsync of " + log->file->path);
      return Status::LogFailed();
    }
  }
  return Status::OK();
}

void Storage::DeleteCovered(uint64_t generation) {
  DIR* d = ::opendir(dir_.c_str());
  if (d == nullptr) return;
  std::vector<std::string> doomed;
  while (dirent* entry = ::readdir(d)) {
    uint64_t found = 0;
    uint32_t index = 0;
    const char* name = entry->d_name;
    bool ours =
        std::sscanf(name, "wal-%8" SCNu64 "-%3u.log", &found, &index) == 2 ||
        std::sscanf(name, "snap-%8" SCNu64 "-%2u.dat", &found, &index) == 2 ||
        std::sscanf(name, "checkpoint-%8" SCNu64, &found) == 1;
    if (ours && found < generation) doomed.push_back(name);
  }
  ::closedir(d);
  for (const std::string& name : doomed) ::unlink(PathOf(name).c_str());
  if (!doomed.empty()) SyncDir(dir_);
}

Status Storage::RunCheckpoint() {
  const int64_t start_ms = SteadyMs();
  checkpoint_started_unix_ms_.store(UnixMs());
  uint64_t generation = 0;
  {
    std::lock_guard<std::mutex> guard(logs_mu_);
    generation = generation_ + 1;
  }
  // Records appended before the rotation are what this checkpoint covers.
  uint64_t appended = AppendedTotal();
  uint64_t old_bytes = old_log_bytes_.load();
  uint64_t keys = 0;
  uint64_t bytes = 0;
  std::vector<uint64_t> part_bytes;
  Status s = RotateLogs(generation);
  if (s.ok()) s = WriteSnapshot(generation, &keys, &bytes, &part_bytes);
  if (s.ok()) s = MakeAllDurable();
  if (s.ok()) {
    // The manifest is the commit point: written whole, then renamed.
    std::string text = "corewire checkpoint 1\ngeneration " +
                       std::to_string(generation) + "\nkeys " +
                       std::to_string(keys) + "\nparts " +
                       std::to_string(part_bytes.size()) + "\n";
    for (size_t part = 0; part < part_bytes.size(); ++part) {
      text += "part " + std::to_string(part) + " " +
              std::to_string(part_bytes[part]) + "\n";
    }
    std::string final_path = PathOf(ManifestName(generation));
    std::string temp_path = final_path + ".tmp";
    int fd = ::open(temp_path.c_str(),
                    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int error_number = fd < 0 ? errno : 0;
    if (error_number == 0) {
      error_number = WriteAll(fd, reinterpret_cast<const uint8_t*>(text.data()),
                              text.size());
      if (error_number == 0 && ::fdatasync(fd) != 0) error_number = errno;
      ::close(fd);
    }
    if (error_number == 0 &&
        ::rename(temp_path.c_str(), final_path.c_str()) != 0) {
      error_number = errno;
    }
    if (error_number == 0) error_number = SyncDir(dir_);
    if (error_number != 0) {
      ::unlink(temp_path.c_str());
      Log(CW_LOG_ERROR, "checkpoint: writing " + final_path + " failed: " +
                            ErrnoText(error_number));
      s = Status::LogFailed();
    }
  }
  const int64_t end_ms = SteadyMs();
  last_checkpoint_end_ms_.store(end_ms);
  checkpoint_started_unix_ms_.store(0);
  if (!s.ok()) {
    for (uint32_t part = 0; part < kSnapshotParts; ++part) {
      ::unlink(PathOf(SnapshotPartName(generation, part)).c_str());
    }
    std::lock_guard<std::mutex> stats(stats_mu_);
    last_checkpoint_ok_ = false;
    ++checkpoint_failures_;
    return s;
  }
  DeleteCovered(generation);
  old_log_bytes_.fetch_sub(old_bytes);
  {
    std::lock_guard<std::mutex> stats(stats_mu_);
    last_checkpoint_ok_ = true;
    ++checkpoints_;
    last_checkpoint_unix_s_ = UnixMs() / 1000;
    last_checkpoint_duration_ms_ = end_ms - start_ms;
    last_checkpoint_keys_ = keys;
    last_checkpoint_bytes_ = bytes;
    appended_at_checkpoint_ = appended;
  }
  char text[160];
  std::snprintf(text, sizeof text,
                "checkpoint %" PRIu64 ": %" PRIu64 " keys, %.1f MB in %" PRId64
                " ms; older logs deleted",
                generation, keys, double(bytes) / (1 << 20), end_ms - start_ms);
  Log(CW_LOG_INFO, text);
  return Status::OK();
}

}  // namespace corewire
