#include "engine/storage.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <new>

#include "engine/wal_format.h"
#include "engine/worker.h"

namespace corewire {

namespace {
// A worker's buffer past this is written out at the next append, so one
// huge batch cannot hold unbounded memory.
constexpr size_t kBufferWriteBytes = size_t{8} << 20;
// A buffer that grew past this is shrunk after it is written.
constexpr size_t kBufferKeepBytes = size_t{4} << 20;
// Log files grow by preallocated steps of this much.
constexpr uint64_t kPreallocateBytes = uint64_t{16} << 20;
// After a failed checkpoint, automatic ones wait this long.
constexpr int64_t kCheckpointRetryMs = 10000;
}  // namespace

LogFile::~LogFile() {
  if (fd >= 0) ::close(fd);
}

int64_t UnixMs() noexcept {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t SteadyMs() noexcept {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int WriteAll(int fd, const uint8_t* data, size_t n) noexcept {
  while (n > 0) {
    ssize_t written = ::write(fd, data, n);
    if (written < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (written == 0) return EIO;
    data += written;
    n -= static_cast<size_t>(written);
  }
  return 0;
}

int WriteAllAt(int fd, const uint8_t* data, size_t n,
               uint64_t offset) noexcept {
  while (n > 0) {
    ssize_t written = ::pwrite(fd, data, n, static_cast<off_t>(offset));
    if (written < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (written == 0) return EIO;
    data += written;
    offset += static_cast<uint64_t>(written);
    n -= static_cast<size_t>(written);
  }
  return 0;
}

int SyncDir(const std::string& dir) noexcept {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno;
  int result = ::fsync(fd) == 0 ? 0 : errno;
  ::close(fd);
  return result;
}

std::string ErrnoText(int error_number) {
  char buffer[128];
  // GNU strerror_r returns the text (possibly not in buffer).
  return std::string(strerror_r(error_number, buffer, sizeof buffer));
}

std::string LogFileName(uint64_t generation, uint32_t slot) {
  char name[64];
  std::snprintf(name, sizeof name, "wal-%08" PRIu64 "-%03u.log", generation,
                slot);
  return name;
}

std::string SnapshotPartName(uint64_t generation, uint32_t part) {
  char name[64];
  std::snprintf(name, sizeof name, "snap-%08" PRIu64 "-%02u.dat", generation,
                part);
  return name;
}

std::string ManifestName(uint64_t generation) {
  char name[64];
  std::snprintf(name, sizeof name, "checkpoint-%08" PRIu64, generation);
  return name;
}

Storage::Storage(Engine* engine, EngineRep* rep,
                 const cw_storage_options& options)
    : engine_(engine),
      rep_(rep),
      dir_(options.data_dir),
      recovery_threads_(options.recovery_threads),
      truncate_corrupt_(options.truncate_corrupt != 0),
      log_fn_(options.log),
      log_ctx_(options.log_ctx),
      fsync_policy_(options.fsync_policy),
      checkpoint_log_bytes_(options.checkpoint_log_bytes),
      checkpoint_interval_ms_(options.checkpoint_interval_ms),
      logs_(Engine::kMaxWorkers, nullptr) {}

Status Storage::Open(Engine* engine, EngineRep* rep,
                     const cw_storage_options& options, std::string* error,
                     std::unique_ptr<Storage>* storage) {
  if (options.data_dir == nullptr || options.data_dir[0] == '\0' ||
      options.fsync_policy > CW_FSYNC_ALWAYS) {
    *error = "invalid storage options";
    return Status::InvalidArgument();
  }
  std::unique_ptr<Storage> created(new Storage(engine, rep, options));
  if (::mkdir(created->dir_.c_str(), 0755) != 0 && errno != EEXIST) {
    *error = "cannot create data dir " + created->dir_ + ": " +
             ErrnoText(errno);
    return Status::LogFailed();
  }
  std::string lock_path = created->PathOf("LOCK");
  created->lock_fd_ =
      ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (created->lock_fd_ < 0) {
    *error = "cannot open " + lock_path + ": " + ErrnoText(errno);
    return Status::LogFailed();
  }
  if (::flock(created->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    *error = "data dir " + created->dir_ +
             " is in use by another corewire process (" + lock_path +
             " is locked)";
    return Status::Busy();
  }
  Status s = created->Recover(error);
  if (!s.ok()) return s;
  created->last_checkpoint_end_ms_.store(SteadyMs());
  created->background_ = std::thread([raw = created.get()] {
    raw->BackgroundLoop();
  });
  *storage = std::move(created);
  return Status::OK();
}

Storage::~Storage() {
  {
    std::lock_guard<std::mutex> guard(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (background_.joinable()) background_.join();
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

std::string Storage::PathOf(const std::string& name) const {
  return dir_ + "/" + name;
}

void Storage::Log(int32_t level, const std::string& message) const {
  if (log_fn_ != nullptr) log_fn_(log_ctx_, level, message.c_str());
}

Status Storage::OpenLogFile(uint64_t generation, uint32_t slot,
                            std::shared_ptr<LogFile>* file) {
  std::string path = PathOf(LogFileName(generation, slot));
  // Not O_APPEND: records go at written_bytes, inside preallocated space.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    Log(CW_LOG_ERROR, "write-ahead log: cannot open " + path + ": " +
                          ErrnoText(errno));
    return Status::LogFailed();
  }
  struct stat st;
  uint64_t size = ::fstat(fd, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
  auto opened = std::make_shared<LogFile>(fd, path);
  // An existing file of this generation was trimmed when it was closed.
  opened->written_bytes.store(size);
  opened->synced_bytes.store(size);
  opened->allocated_bytes = size;
  *file = std::move(opened);
  return Status::OK();
}

Status Storage::Attach(Worker* worker) {
  std::unique_ptr<WorkerLog> log(new WorkerLog());
  std::lock_guard<std::mutex> guard(logs_mu_);
  Status s = OpenLogFile(generation_, worker->id, &log->file);
  if (!s.ok()) return s;
  logs_[worker->id] = log.get();
  worker->log = log.release();
  return Status::OK();
}

void Storage::TrimLocked(LogFile* file) noexcept {
  if (file->allocated_bytes > file->written_bytes.load() &&
      ::ftruncate(file->fd, static_cast<off_t>(file->written_bytes.load())) == 0) {
    file->allocated_bytes = file->written_bytes.load();
  }
}

void Storage::Detach(Worker* worker) {
  WorkerLog* log = worker->log;
  if (log == nullptr) return;
  uint64_t ticket = 0;
  Flush(worker, &ticket);
  {
    std::lock_guard<std::mutex> lock(log->mu);
    if (fsync_policy_.load() != CW_FSYNC_NO) SyncFile(log->file.get());
    TrimLocked(log->file.get());
  }
  std::lock_guard<std::mutex> guard(logs_mu_);
  detached_appended_ += log->appended.load(std::memory_order_relaxed);
  logs_[worker->id] = nullptr;
  worker->log = nullptr;
  delete log;
}

Status Storage::Append(Worker* worker, const WriteItem* items, size_t n,
                       uint64_t tid) noexcept {
  WorkerLog* log = worker->log;
  if (log == nullptr) return Status::OK();  // internal worker: never writes
  if (!writable()) return Status::LogFailed();
  // What each item installs (InstallAndRelease's cases), as redo items.
  auto redo = [tid](const WriteItem& item, LogItem* out) {
    const Record* record = item.record;
    out->db = item.db;
    out->tid = TidVersion(tid);
    out->key = cw_slice{record->key(), record->key_bytes};
    if (item.kind == WriteItem::kPut ||
        (item.kind == WriteItem::kExpire && item.stored_value != nullptr)) {
      const Value* value =
          item.kind == WriteItem::kPut ? item.new_value : item.stored_value;
      out->kind = kItemPut;
      out->expire_at_ms = item.new_expire_at_ms;
      out->value = cw_slice{value->data(), value->size_bytes};
      return true;
    }
    if (item.kind == WriteItem::kDelete && item.stored_value != nullptr) {
      out->kind = kItemDelete;
      return true;
    }
    return false;  // lock only, or a delete of a missing key
  };
  size_t payload_bytes = 0;
  for (size_t i = 0; i < n; ++i) {
    LogItem item{};
    if (redo(items[i], &item)) {
      payload_bytes += ItemBytes(item.kind, item.db, item.key.len,
                                 item.value.len);
    }
  }
  if (payload_bytes == 0) return Status::OK();
  if (payload_bytes > kMaxRecordPayloadBytes) return Status::InvalidArgument();
  std::lock_guard<std::mutex> lock(log->mu);
  if (log->buffer.size() > kBufferWriteBytes && !WritePendingLocked(log)) {
    return Status::LogFailed();
  }
  size_t start = log->buffer.size();
  try {
    log->buffer.resize(start + kRecordFramingBytes + payload_bytes);
  } catch (...) {
    return Status::NoMemory();
  }
  uint8_t* record = log->buffer.data() + start;
  uint8_t* out = record + 4;
  for (size_t i = 0; i < n; ++i) {
    LogItem item{};
    if (redo(items[i], &item)) out = EncodeItem(out, item);
  }
  assert(size_t(out - record - 4) == payload_bytes);
  SealRecord(record, payload_bytes);
  log->appended.store(log->appended.load(std::memory_order_relaxed) + 1,
                      std::memory_order_relaxed);
  return Status::OK();
}

void Storage::Installed(Worker* worker) noexcept {
  WorkerLog* log = worker->log;
  if (log == nullptr) return;
  log->installed.store(log->appended.load(std::memory_order_relaxed),
                       std::memory_order_release);
}

int Storage::WriteBufferLocked(WorkerLog* log) noexcept {
  LogFile* file = log->file.get();
  size_t n = log->buffer.size();
  uint64_t at = file->written_bytes.load();
  if (file->preallocate && at + n > file->allocated_bytes) {
    uint64_t grow = std::max<uint64_t>(kPreallocateBytes, at + n - file->allocated_bytes);
    if (::fallocate(file->fd, 0, static_cast<off_t>(file->allocated_bytes),
                    static_cast<off_t>(grow)) == 0) {
      file->allocated_bytes += grow;
    } else {
      file->preallocate = false;  // plain appends from now on (tmpfs full, ...)
    }
  }
  // A failed or partial write leaves written_bytes where it was: the retry
  // writes the whole buffer again at the same offset.
  int error_number = WriteAllAt(file->fd, log->buffer.data(), n, at);
  if (error_number != 0) return error_number;
  file->written_bytes.fetch_add(n);
  log->written_total.fetch_add(n);
  log_bytes_written_.fetch_add(n, std::memory_order_relaxed);
  log_writes_.fetch_add(1, std::memory_order_relaxed);
  // Count records by walking the framing: cheap, and keeps Append lean.
  uint64_t records = 0;
  for (size_t at = 0; at + kRecordFramingBytes <= n;) {
    at += kRecordFramingBytes + GetFixed32(log->buffer.data() + at);
    ++records;
  }
  log_records_written_.fetch_add(records, std::memory_order_relaxed);
  log->buffer.clear();
  if (log->buffer.capacity() > kBufferKeepBytes) {
    std::vector<uint8_t>().swap(log->buffer);
  }
  return 0;
}

bool Storage::WritePendingLocked(WorkerLog* log) noexcept {
  if (log->buffer.empty()) return true;
  int error_number = WriteBufferLocked(log);
  if (error_number == 0) return true;
  Fail(error_number, true, "write to " + log->file->path);
  return false;
}

int Storage::SyncFile(LogFile* file) noexcept {
  uint64_t target = file->written_bytes.load();
  if (file->synced_bytes.load() >= target) return 0;
  auto t0 = std::chrono::steady_clock::now();
  int result = ::fdatasync(file->fd) == 0 ? 0 : errno;
  auto elapsed = std::chrono::steady_clock::now() - t0;
  fsyncs_.fetch_add(1, std::memory_order_relaxed);
  fsync_time_us_.fetch_add(
      std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count(),
      std::memory_order_relaxed);
  if (result == 0) {
    uint64_t synced = file->synced_bytes.load();
    while (synced < target &&
           !file->synced_bytes.compare_exchange_weak(synced, target)) {
    }
  }
  return result;
}

Status Storage::Flush(Worker* worker, uint64_t* sync_ticket) noexcept {
  *sync_ticket = 0;
  WorkerLog* log = worker->log;
  if (log == nullptr) return Status::OK();
  std::lock_guard<std::mutex> lock(log->mu);
  if (!WritePendingLocked(log)) return Status::LogFailed();
  if (fsync_policy_.load(std::memory_order_relaxed) == CW_FSYNC_ALWAYS) {
    uint64_t written = log->written_total.load();
    if (log->synced_total.load() < written) *sync_ticket = written;
  }
  return Status::OK();
}

Status Storage::Sync(Worker* worker, uint64_t ticket) noexcept {
  WorkerLog* log = worker->log;
  if (log == nullptr) return Status::OK();
  std::shared_ptr<LogFile> file;
  uint64_t target = 0;
  {
    std::lock_guard<std::mutex> lock(log->mu);
    if (log->synced_total.load() >= ticket) return Status::OK();
    file = log->file;
    target = log->written_total.load();
  }
  // Outside mu: the worker keeps appending and writing meanwhile. A
  // rotation in between syncs the old file itself (RotateLogs).
  int error_number = SyncFile(file.get());
  if (error_number != 0) {
    Fail(error_number, false, "fsync of " + file->path);
    return Status::LogFailed();
  }
  uint64_t synced = log->synced_total.load();
  while (synced < target &&
         !log->synced_total.compare_exchange_weak(synced, target)) {
  }
  return Status::OK();
}

void Storage::Fail(int error_number, bool retryable, const std::string& what) {
  int expected = 0;
  if (failure_errno_.compare_exchange_strong(expected, error_number)) {
    failure_retryable_.store(retryable);
    Log(CW_LOG_ERROR,
        "write-ahead log: " + what + " failed: " + ErrnoText(error_number) +
            (retryable ? "; writes are refused until it succeeds (retried "
                         "every second)"
                       : "; writes are refused until a restart"));
  } else if (!retryable) {
    failure_retryable_.store(false);
  }
}

void Storage::SyncAll() {
  std::vector<std::shared_ptr<LogFile>> files;
  {
    std::lock_guard<std::mutex> guard(logs_mu_);
    for (WorkerLog* log : logs_) {
      if (log == nullptr) continue;
      std::lock_guard<std::mutex> lock(log->mu);
      files.push_back(log->file);
    }
  }
  for (const auto& file : files) {
    int error_number = SyncFile(file.get());
    if (error_number != 0) Fail(error_number, false, "fsync of " + file->path);
  }
}

void Storage::RetryFailedWrites() {
  if (!failure_retryable_.load()) return;
  std::lock_guard<std::mutex> guard(logs_mu_);
  for (WorkerLog* log : logs_) {
    if (log == nullptr) continue;
    std::lock_guard<std::mutex> lock(log->mu);
    if (log->buffer.empty()) continue;
    if (WriteBufferLocked(log) != 0) return;  // still failing
    if (SyncFile(log->file.get()) != 0) return;
  }
  if (failure_retryable_.load()) {
    failure_errno_.store(0, std::memory_order_release);
    Log(CW_LOG_WARN, "write-ahead log: writable again; writes are accepted");
  }
}

uint64_t Storage::LogBytes() {
  uint64_t bytes = old_log_bytes_.load();
  std::lock_guard<std::mutex> guard(logs_mu_);
  for (WorkerLog* log : logs_) {
    if (log == nullptr) continue;
    std::lock_guard<std::mutex> lock(log->mu);
    bytes += log->file->written_bytes.load();
  }
  return bytes;
}

uint64_t Storage::AppendedTotal() {
  std::lock_guard<std::mutex> guard(logs_mu_);
  uint64_t total = detached_appended_;
  for (WorkerLog* log : logs_) {
    if (log != nullptr) total += log->appended.load(std::memory_order_relaxed);
  }
  return total;
}

bool Storage::CheckpointDue() {
  if (!writable()) return false;
  {
    std::lock_guard<std::mutex> stats(stats_mu_);
    if (!last_checkpoint_ok_ &&
        SteadyMs() - last_checkpoint_end_ms_.load() < kCheckpointRetryMs) {
      return false;
    }
  }
  uint64_t limit_bytes = checkpoint_log_bytes_.load();
  if (limit_bytes != 0 && LogBytes() >= limit_bytes) return true;
  uint64_t interval_ms = checkpoint_interval_ms_.load();
  if (interval_ms != 0 &&
      SteadyMs() - last_checkpoint_end_ms_.load() >=
          static_cast<int64_t>(interval_ms)) {
    uint64_t appended = AppendedTotal();
    std::lock_guard<std::mutex> stats(stats_mu_);
    return appended != appended_at_checkpoint_ || old_log_bytes_.load() != 0;
  }
  return false;
}

void Storage::BackgroundLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    wake_.wait_for(lock, std::chrono::seconds(1),
                   [this] { return stop_ || checkpoint_requested_; });
    if (stop_) break;
    bool requested = checkpoint_requested_;
    lock.unlock();
    // A checkpoint runs on its own thread so that everysec keeps its
    // one-second rhythm while a large snapshot is written.
    if (fsync_policy_.load() == CW_FSYNC_EVERYSEC) SyncAll();
    if (!writable()) RetryFailedWrites();
    bool due = requested || CheckpointDue();
    lock.lock();
    checkpoint_requested_ = false;
    if (due && !checkpoint_running_) {
      checkpoint_running_ = true;
      std::thread([this] {
        RunCheckpoint();
        std::lock_guard<std::mutex> guard(mu_);
        checkpoint_running_ = false;
        wake_.notify_all();
      }).detach();
    }
  }
  // Wait for a detached checkpoint thread before the storage goes away.
  wake_.wait(lock, [this] { return !checkpoint_running_; });
}

Status Storage::Checkpoint(bool wait) {
  std::unique_lock<std::mutex> lock(mu_);
  if (checkpoint_running_ || stop_) return Status::Busy();
  if (!wait) {
    checkpoint_requested_ = true;
    wake_.notify_all();
    return Status::OK();
  }
  checkpoint_running_ = true;
  lock.unlock();
  Status s = RunCheckpoint();
  lock.lock();
  checkpoint_running_ = false;
  wake_.notify_all();
  return s;
}

void Storage::Tune(const cw_storage_options& options) noexcept {
  if (options.fsync_policy <= CW_FSYNC_ALWAYS) {
    fsync_policy_.store(options.fsync_policy);
  }
  checkpoint_log_bytes_.store(options.checkpoint_log_bytes);
  checkpoint_interval_ms_.store(options.checkpoint_interval_ms);
}

void Storage::Info(cw_storage_info* info) {
  info->fsync_policy = fsync_policy_.load();
  {
    std::lock_guard<std::mutex> guard(mu_);
    info->checkpoint_running = checkpoint_running_ ? 1 : 0;
  }
  int error_number = failure_errno_.load();
  info->log_ok = error_number == 0 ? 1 : 0;
  info->log_errno = error_number;
  info->checkpoint_started_unix_ms =
      info->checkpoint_running ? checkpoint_started_unix_ms_.load() : 0;
  info->log_bytes_written = log_bytes_written_.load();
  info->log_records_written = log_records_written_.load();
  info->log_writes = log_writes_.load();
  info->fsyncs = fsyncs_.load();
  info->fsync_time_us = fsync_time_us_.load();
  info->log_bytes = LogBytes();
  uint64_t appended = AppendedTotal();
  std::lock_guard<std::mutex> stats(stats_mu_);
  info->last_checkpoint_ok = last_checkpoint_ok_ ? 1 : 0;
  info->last_checkpoint_unix_s = last_checkpoint_unix_s_;
  info->last_checkpoint_duration_ms = last_checkpoint_duration_ms_;
  info->checkpoints = checkpoints_;
  info->checkpoint_failures = checkpoint_failures_;
  info->last_checkpoint_keys = last_checkpoint_keys_;
  info->last_checkpoint_bytes = last_checkpoint_bytes_;
  info->changes_since_checkpoint = appended - appended_at_checkpoint_;
  info->recovered_records = recovered_records_;
  info->recovered_bytes = recovered_bytes_;
  info->recovered_keys = recovered_keys_;
  info->recovery_ms = recovery_ms_;
  info->recovery_dropped_records = recovery_dropped_records_;
}

}  // namespace corewire
