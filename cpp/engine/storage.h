// storage.h: durability for the engine (internal): per-worker write-ahead
// logs with group commit, background checkpoints, and recovery at open.
//
// Logging: every commit appends one redo record to the log buffer of the
// worker that commits it, before it installs anything (so a record is in
// a buffer before any reader can see its writes), and under that worker's
// own mutex only: no lock is shared between workers. The worker writes its
// buffer once per event-loop batch (Flush), before the batch's replies.
//
// Files in the data dir:
//   wal-GGGGGGGG-SSS.log   log of worker slot S, generation G
//   snap-GGGGGGGG-PP.dat   part P of the snapshot of checkpoint G
//   checkpoint-GGGGGGGG    manifest of checkpoint G; written last, so a
//                          checkpoint exists only once it is complete
//   LOCK                   flock'd by the owning process
//
// A checkpoint G rotates every log to generation G, writes a fuzzy snapshot
// of the store (each key with its TID), makes every record appended so far
// durable, writes the manifest, then deletes the logs of generations < G.
// Recovery loads the newest checkpoint and replays every log of generation
// >= it; per key the highest TID wins, so order across files is free.
#ifndef COREWIRE_ENGINE_STORAGE_H_
#define COREWIRE_ENGINE_STORAGE_H_

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "corewire_engine.h"
#include "engine/status.h"

namespace corewire {

class Engine;
class Worker;
struct EngineRep;
struct WriteItem;

// One open log segment. Shared, so that a background fsync can finish on a
// file a checkpoint has just rotated away from.
struct LogFile {
  LogFile(int fd, std::string path) noexcept : fd(fd), path(std::move(path)) {}
  LogFile(const LogFile&) = delete;
  LogFile& operator=(const LogFile&) = delete;
  ~LogFile();

  const int fd;
  const std::string path;
  std::atomic<uint64_t> written_bytes{0};  // whole records on disk
  std::atomic<uint64_t> synced_bytes{0};   // of which fsynced
  // Preallocated (zero) size: appends inside it do not change the file
  // size, so their fdatasync need not commit metadata (~10x cheaper on
  // ext4). Guarded by its log's mu. 0 once preallocation failed.
  uint64_t allocated_bytes = 0;
  bool preallocate = true;
};

// The log of one worker slot. Its worker appends and flushes; the
// background thread fsyncs, retries and rotates, rarely, under mu.
struct WorkerLog {
  std::mutex mu;
  std::shared_ptr<LogFile> file;  // guarded by mu
  std::vector<uint8_t> buffer;    // guarded by mu: records not yet written
  std::atomic<uint64_t> appended{0};  // records appended since attach
  // `appended` as of the worker's last finished install: a record counted
  // in appended but not here is buffered (maybe even written, by another
  // thread's flush) while its writes are not installed yet. RotateLogs
  // waits for those, so a snapshot sees every record its old logs hold.
  std::atomic<uint64_t> installed{0};
  // Bytes written over every file of this log, and how many of them are
  // known fsynced: the sync tickets of fsync always.
  std::atomic<uint64_t> written_total{0};  // changed under mu
  std::atomic<uint64_t> synced_total{0};
};

class Storage {
 public:
  // Opens options.data_dir and recovers it into rep's (empty) tables. On
  // failure *error says why in one line.
  static Status Open(Engine* engine, EngineRep* rep,
                     const cw_storage_options& options, std::string* error,
                     std::unique_ptr<Storage>* storage);
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  // Stops the background thread. Every worker must be detached.
  ~Storage();

  // Gives a worker its log (file wal-G-slot of the current generation).
  Status Attach(Worker* worker);
  // Writes and fsyncs what the worker's log holds, then drops it.
  void Detach(Worker* worker);

  // False once a log write or fsync failed: writes are then refused.
  bool writable() const noexcept {
    return failure_errno_.load(std::memory_order_acquire) == 0;
  }
  // Buffers the redo record of a locked write set about to be installed
  // with tid. NoMemory or LogFailed: nothing was buffered.
  Status Append(Worker* worker, const WriteItem* items, size_t n,
                uint64_t tid) noexcept;
  // The writes of the worker's last Append are installed.
  void Installed(Worker* worker) noexcept;
  // Writes the worker's buffer. Under CW_FSYNC_ALWAYS *sync_ticket is what
  // Sync must reach before the batch is durable (0: nothing to wait for).
  Status Flush(Worker* worker, uint64_t* sync_ticket) noexcept;
  // fsyncs the worker's log up to ticket. Any thread, even while the
  // worker appends and flushes.
  Status Sync(Worker* worker, uint64_t ticket) noexcept;

  // Runs a checkpoint: on this thread if wait, else in the background.
  Status Checkpoint(bool wait);
  void Tune(const cw_storage_options& options) noexcept;
  void Info(cw_storage_info* info);

 private:
  Storage(Engine* engine, EngineRep* rep, const cw_storage_options& options);

  // recovery.cc
  Status Recover(std::string* error);
  // checkpoint.cc
  Status RunCheckpoint();
  Status RotateLogs(uint64_t generation);
  Status WriteSnapshot(uint64_t generation, uint64_t* keys, uint64_t* bytes,
                       std::vector<uint64_t>* part_bytes);
  Status MakeAllDurable();
  void DeleteCovered(uint64_t generation);

  void BackgroundLoop();
  void SyncAll();          // everysec
  void RetryFailedWrites();
  bool CheckpointDue();
  // Writes log->buffer to its file; caller holds log->mu. errno or 0.
  int WriteBufferLocked(WorkerLog* log) noexcept;
  // The same, and a failure puts the log in the failed state. False then.
  bool WritePendingLocked(WorkerLog* log) noexcept;
  // Cuts the preallocated zeros off a file that is done being written.
  void TrimLocked(LogFile* file) noexcept;
  int SyncFile(LogFile* file) noexcept;
  void Fail(int error_number, bool retryable, const std::string& what);
  void Log(int32_t level, const std::string& message) const;
  std::string PathOf(const std::string& name) const;
  Status OpenLogFile(uint64_t generation, uint32_t slot,
                     std::shared_ptr<LogFile>* file);
  uint64_t AppendedTotal();
  // Log bytes on disk since the last checkpoint.
  uint64_t LogBytes();

  Engine* const engine_;
  EngineRep* const rep_;
  const std::string dir_;
  const uint32_t recovery_threads_;
  const bool truncate_corrupt_;
  void (*const log_fn_)(void*, int32_t, const char*);
  void* const log_ctx_;
  int lock_fd_ = -1;

  std::atomic<uint32_t> fsync_policy_;
  std::atomic<uint64_t> checkpoint_log_bytes_;
  std::atomic<uint64_t> checkpoint_interval_ms_;

  // 0 while logs work; else the errno of the failure.
  std::atomic<int> failure_errno_{0};
  std::atomic<bool> failure_retryable_{false};

  std::mutex logs_mu_;                 // attach, detach, rotate
  std::vector<WorkerLog*> logs_;       // by worker slot; guarded by logs_mu_
  uint64_t generation_ = 0;            // guarded by logs_mu_
  uint64_t detached_appended_ = 0;     // guarded by logs_mu_
  std::atomic<uint64_t> old_log_bytes_{0};  // of generations before this run

  // Background thread and checkpoint state, guarded by mu_.
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  bool checkpoint_requested_ = false;
  bool checkpoint_running_ = false;
  std::thread background_;

  // Figures for Info.
  std::atomic<uint64_t> log_bytes_written_{0};
  std::atomic<uint64_t> log_records_written_{0};
  std::atomic<uint64_t> log_writes_{0};
  std::atomic<uint64_t> fsyncs_{0};
  std::atomic<uint64_t> fsync_time_us_{0};
  std::atomic<int64_t> checkpoint_started_unix_ms_{0};
  std::atomic<int64_t> last_checkpoint_end_ms_{0};  // steady clock
  std::mutex stats_mu_;                // the fields below
  int64_t last_checkpoint_unix_s_ = 0;
  int64_t last_checkpoint_duration_ms_ = -1;
  bool last_checkpoint_ok_ = true;
  uint64_t checkpoints_ = 0;
  uint64_t checkpoint_failures_ = 0;
  uint64_t last_checkpoint_keys_ = 0;
  uint64_t last_checkpoint_bytes_ = 0;
  uint64_t appended_at_checkpoint_ = 0;
  uint64_t recovered_records_ = 0;
  uint64_t recovered_bytes_ = 0;
  uint64_t recovered_keys_ = 0;
  uint64_t recovery_ms_ = 0;
  uint64_t recovery_dropped_records_ = 0;
};

// Helpers shared by storage.cc, recovery.cc and checkpoint.cc.
int64_t UnixMs() noexcept;
int64_t SteadyMs() noexcept;
// Writes all of data, retrying short writes and EINTR. errno or 0.
int WriteAll(int fd, const uint8_t* data, size_t n) noexcept;
// The same at a file offset.
int WriteAllAt(int fd, const uint8_t* data, size_t n, uint64_t offset) noexcept;
// fsyncs a directory so that file creations and renames in it last.
int SyncDir(const std::string& dir) noexcept;
std::string ErrnoText(int error_number);
// "wal-00000003-001.log" etc.
std::string LogFileName(uint64_t generation, uint32_t slot);
std::string SnapshotPartName(uint64_t generation, uint32_t part);
std::string ManifestName(uint64_t generation);

}  // namespace corewire

#endif  // COREWIRE_ENGINE_STORAGE_H_
