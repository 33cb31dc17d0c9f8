// recovery.cc: Storage::Recover, the replay of snapshots and logs at open.
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "engine/storage.h"
#include "engine/wal_format.h"
#include "engine/worker.h"

namespace corewire {

namespace {

// Candidate bytes ValidRecordAfter may checksum when it classifies damage.
constexpr uint64_t kMaxDamageScanBytes = uint64_t{256} << 20;
constexpr int64_t kProgressIntervalMs = 2000;

struct DirListing {
  struct Log {
    uint64_t generation;
    uint32_t slot;
    std::string name;
  };
  std::vector<Log> logs;
  std::vector<uint64_t> manifests;  // generations, newest first
  uint64_t max_generation = 0;
};

bool ParseName(const char* name, const char* format, uint64_t* generation,
               uint32_t* index, size_t expected_length) {
  if (std::strlen(name) != expected_length) return false;
  int consumed = 0;
  if (index != nullptr) {
    return std::sscanf(name, format, generation, index, &consumed) == 2 &&
           size_t(consumed) == expected_length;
  }
  return std::sscanf(name, format, generation, &consumed) == 1 &&
         size_t(consumed) == expected_length;
}

DirListing ListDir(const std::string& dir, std::vector<std::string>* stale) {
  DirListing listing;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return listing;
  while (dirent* entry = ::readdir(d)) {
    const char* name = entry->d_name;
    uint64_t generation = 0;
    uint32_t index = 0;
    if (ParseName(name, "wal-%8" SCNu64 "-%3u.log%n", &generation, &index,
                  20)) {
      listing.logs.push_back({generation, index, name});
    } else if (ParseName(name, "snap-%8" SCNu64 "-%2u.dat%n", &generation,
                         &index, 20)) {
      // Parts are found through their manifest.
    } else if (ParseName(name, "checkpoint-%8" SCNu64 "%n", &generation,
                         nullptr, 19)) {
      listing.manifests.push_back(generation);
    } else {
      size_t length = std::strlen(name);
      if (length > 4 && std::strcmp(name + length - 4, ".tmp") == 0) {
        stale->push_back(name);  // an unfinished manifest
      }
      continue;
    }
    listing.max_generation = std::max(listing.max_generation, generation);
  }
  ::closedir(d);
  std::sort(listing.manifests.rbegin(), listing.manifests.rend());
  return listing;
}

uint64_t FileSize(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size)
                                        : UINT64_MAX;
}

struct Manifest {
  uint64_t generation = 0;
  uint64_t keys = 0;
  std::vector<uint64_t> part_bytes;
};

// Reads a manifest and checks that its parts exist with their sizes.
bool LoadManifest(const std::string& dir, uint64_t generation,
                  Manifest* manifest, std::string* why) {
  std::ifstream in(dir + "/" + ManifestName(generation));
  std::string magic;
  std::getline(in, magic);
  if (magic != "corewire checkpoint 1") {
    *why = "not a corewire checkpoint manifest";
    return false;
  }
  std::string word;
  uint64_t parts = 0;
  while (in >> word) {
    if (word == "generation") {
      in >> manifest->generation;
    } else if (word == "keys") {
      in >> manifest->keys;
    } else if (word == "parts") {
      in >> parts;
    } else if (word == "part") {
      uint64_t index = 0, bytes = 0;
      in >> index >> bytes;
      if (index != manifest->part_bytes.size()) break;
      manifest->part_bytes.push_back(bytes);
    }
  }
  if (manifest->generation != generation ||
      manifest->part_bytes.size() != parts || parts == 0) {
    *why = "incomplete manifest";
    return false;
  }
  for (uint32_t part = 0; part < parts; ++part) {
    uint64_t size = FileSize(dir + "/" + SnapshotPartName(generation, part));
    if (size != manifest->part_bytes[part]) {
      *why = SnapshotPartName(generation, part) + " is missing or has the "
             "wrong size";
      return false;
    }
  }
  return true;
}

// One file to replay, mapped read-only for both passes.
struct ReplayFile {
  std::string name;
  bool snapshot;
  uint64_t bytes;
  int fd = -1;
  const uint8_t* data = nullptr;
  size_t valid_end = 0;      // whole records with good CRCs end here
  size_t cut_at = SIZE_MAX;  // truncate the file here afterwards
  std::vector<size_t> chunk_starts;  // record offsets, ~kChunkBytes apart
};

// A stretch of verified records, applied by one thread.
struct Chunk {
  size_t file;
  size_t begin;
  size_t end;
};

// What the replay threads share.
struct ReplayState {
  std::atomic<size_t> next_job{0};
  std::atomic<uint64_t> records{0};
  std::atomic<uint64_t> bytes{0};
  std::atomic<uint64_t> dropped{0};
  std::atomic<uint64_t> max_seq{0};
  std::atomic<bool> failed{false};
  std::atomic<size_t> threads_done{0};
  std::condition_variable done;  // signalled as each pool thread ends
  std::mutex mu;
  std::string error;       // guarded by mu: the first failure
  std::vector<std::string> warnings;  // guarded by mu

  void Fail(const std::string& message) {
    std::lock_guard<std::mutex> guard(mu);
    if (!failed.exchange(true)) error = message;
  }
};

// Runs fn(job) for jobs [0, n) on up to threads threads, each job once,
// calling progress() on this thread about every kProgressIntervalMs.
template <typename Fn, typename Progress>
void RunJobs(size_t threads, size_t n, ReplayState* state, Fn&& fn,
             Progress&& progress) {
  state->next_job.store(0);
  state->threads_done.store(0);
  threads = std::max<size_t>(1, std::min(threads, n));
  std::vector<std::thread> pool;
  for (size_t t = 0; t < threads && n > 0; ++t) {
    pool.emplace_back([&] {
      for (size_t i = state->next_job.fetch_add(1); i < n;
           i = state->next_job.fetch_add(1)) {
        if (state->failed.load()) break;
        fn(i);
      }
      std::lock_guard<std::mutex> guard(state->mu);
      state->threads_done.fetch_add(1);
      state->done.notify_all();
    });
  }
  std::unique_lock<std::mutex> lock(state->mu);
  while (!state->done.wait_for(
      lock, std::chrono::milliseconds(kProgressIntervalMs),
      [&] { return state->threads_done.load() == pool.size(); })) {
    lock.unlock();
    progress();
    lock.lock();
  }
  lock.unlock();
  for (std::thread& thread : pool) thread.join();
}

// Size of the stretches pass 2 hands out.
constexpr size_t kChunkBytes = size_t{16} << 20;

// Pass 1 for one file: maps it, checks every record's CRC, records chunk
// starts, and classifies damage: a torn tail (nothing valid after it, in
// a log) is cut with a warning; anything else stops recovery unless the
// operator asked to cut there too.
void VerifyFile(const std::string& path, bool truncate_corrupt,
                ReplayFile* file, ReplayState* state) {
  file->fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (file->fd < 0) {
    return state->Fail("recovery: cannot open " + path + ": " +
                       ErrnoText(errno));
  }
  struct stat st;
  if (::fstat(file->fd, &st) != 0) {
    return state->Fail("recovery: cannot stat " + path + ": " +
                       ErrnoText(errno));
  }
  file->bytes = static_cast<uint64_t>(st.st_size);
  const size_t size = static_cast<size_t>(file->bytes);
  if (size == 0) return;
  void* mapped = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, file->fd, 0);
  if (mapped == MAP_FAILED) {
    return state->Fail("recovery: cannot map " + path + ": " +
                       ErrnoText(errno));
  }
  ::madvise(mapped, size, MADV_SEQUENTIAL);
  file->data = static_cast<const uint8_t*>(mapped);
  const uint8_t* data = file->data;
  size_t offset = 0;
  size_t chunk_bytes = kChunkBytes;  // forces a chunk start at offset 0
  uint64_t pending_bytes = 0;
  RecordRead read = RecordRead::kEnd;
  while (!state->failed.load(std::memory_order_relaxed)) {
    const uint8_t* payload = nullptr;
    size_t payload_bytes = 0;
    size_t next = 0;
    read = ReadRecord(data, size, offset, &payload, &payload_bytes, &next);
    if (read != RecordRead::kRecord) break;
    if (chunk_bytes >= kChunkBytes) {
      file->chunk_starts.push_back(offset);
      chunk_bytes = 0;
    }
    chunk_bytes += next - offset;
    pending_bytes += next - offset;
    if (pending_bytes >= (1u << 24)) {
      state->bytes.fetch_add(pending_bytes, std::memory_order_relaxed);
      pending_bytes = 0;
    }
    offset = next;
  }
  state->bytes.fetch_add(pending_bytes, std::memory_order_relaxed);
  file->valid_end = offset;
  if (read != RecordRead::kBad) return;
  // Preallocated space a crash left unused: the normal end, cut quietly.
  if (std::all_of(data + offset, data + size, [](uint8_t b) { return b == 0; })) {
    file->cut_at = offset;
    return;
  }

  const size_t after = size - offset;
  const bool middle = file->snapshot || ValidRecordAfter(data, size, offset,
                                                         kMaxDamageScanBytes);
  const char* what = "CRC mismatch";
  if (after < kRecordFramingBytes || GetFixed32(data + offset) == 0 ||
      GetFixed32(data + offset) > after - kRecordFramingBytes) {
    what = "incomplete record or bad length";
  }
  std::lock_guard<std::mutex> guard(state->mu);
  if (!middle) {
    // Count the torn bytes up to the preallocated zeros behind them (a
    // long zero run; a few zeros may be the torn record's own bytes).
    size_t torn = after;
    while (torn > 0 && data[offset + torn - 1] == 0) --torn;
    if (after - torn < 4096) torn = after;
    state->dropped.fetch_add(1);
    state->warnings.push_back(
        "recovery: " + file->name + ": torn tail at byte " +
        std::to_string(offset) + ": dropped 1 record (" +
        std::to_string(torn) + " bytes), the file is cut there");
    file->cut_at = offset;
  } else if (truncate_corrupt) {
    state->dropped.fetch_add(1);
    state->warnings.push_back(
        "recovery: " + file->name + ": corrupt record at byte " +
        std::to_string(offset) + " (" + what + "): dropped the " +
        std::to_string(after) + " bytes from there on, the file is cut there");
    file->cut_at = offset;
  } else if (!state->failed.exchange(true)) {
    state->error =
        "recovery: " + file->name + ": corrupt record at byte " +
        std::to_string(offset) + " (" + what + ") with " +
        std::to_string(after) +
        " bytes after it; refusing to start. To start anyway and drop this "
        "file from byte " +
        std::to_string(offset) +
        " on, set recovery-truncate-corrupt = yes (copy the data dir first)";
  }
}

// Pass 2 for one chunk of verified records.
void ApplyChunk(Worker* worker, const ReplayFile& file, const Chunk& chunk,
                ReplayState* state) {
  uint64_t max_seq = 0;
  uint64_t records = 0;
  for (size_t offset = chunk.begin; offset < chunk.end;) {
    if (state->failed.load(std::memory_order_relaxed)) break;
    const uint32_t payload_bytes = GetFixed32(file.data + offset);
    Status applied = Status::OK();
    bool well_formed = DecodeItems(
        file.data + offset + 4, payload_bytes, [&](const LogItem& item) {
          if (!applied.ok()) return;
          applied = ReplayItem(worker, item);
          max_seq = std::max(max_seq, TidSeq(item.tid));
        });
    if (!well_formed || !applied.ok()) {
      return state->Fail("recovery: " + file.name +
                         ": cannot apply the record at byte " +
                         std::to_string(offset) + ": " +
                         (well_formed ? applied.ToString()
                                      : "malformed record"));
    }
    ++records;
    offset += kRecordFramingBytes + payload_bytes;
  }
  state->records.fetch_add(records, std::memory_order_relaxed);
  state->bytes.fetch_add(chunk.end - chunk.begin, std::memory_order_relaxed);
  uint64_t seen = state->max_seq.load();
  while (seen < max_seq && !state->max_seq.compare_exchange_weak(seen, max_seq)) {
  }
}

}  // namespace

Status Storage::Recover(std::string* error) {
  const int64_t start_ms = SteadyMs();
  std::vector<std::string> stale;
  DirListing listing = ListDir(dir_, &stale);
  for (const std::string& name : stale) ::unlink(PathOf(name).c_str());

  Manifest manifest;
  bool have_checkpoint = false;
  for (uint64_t generation : listing.manifests) {
    std::string why;
    Manifest candidate;
    if (LoadManifest(dir_, generation, &candidate, &why)) {
      manifest = candidate;
      have_checkpoint = true;
      break;
    }
    Log(CW_LOG_WARN, "recovery: skipping " + ManifestName(generation) + ": " +
                         why);
  }
  const uint64_t base = have_checkpoint ? manifest.generation : 0;

  std::vector<ReplayFile> jobs;
  uint64_t total_bytes = 0;
  uint64_t log_bytes = 0;
  for (size_t part = 0; part < manifest.part_bytes.size(); ++part) {
    ReplayFile file;
    file.name = SnapshotPartName(base, static_cast<uint32_t>(part));
    file.snapshot = true;
    file.bytes = manifest.part_bytes[part];
    jobs.push_back(std::move(file));
    total_bytes += manifest.part_bytes[part];
  }
  for (const auto& log : listing.logs) {
    if (log.generation < base) continue;  // covered by the checkpoint
    uint64_t size = FileSize(PathOf(log.name));
    if (size == UINT64_MAX || size == 0) continue;
    ReplayFile file;
    file.name = log.name;
    file.snapshot = false;
    file.bytes = size;
    jobs.push_back(std::move(file));
    total_bytes += size;
    log_bytes += size;
  }
  if (have_checkpoint) {
    Log(CW_LOG_INFO, "recovery: loading " + ManifestName(base) + " (" +
                         std::to_string(manifest.keys) + " keys) and " +
                         std::to_string(jobs.size() -
                                        manifest.part_bytes.size()) +
                         " log file(s)");
  } else if (!jobs.empty()) {
    Log(CW_LOG_INFO, "recovery: no checkpoint; replaying " +
                         std::to_string(jobs.size()) + " log file(s)");
  }

  ReplayState state;
  size_t thread_count = recovery_threads_ != 0
                            ? recovery_threads_
                            : std::max(1u, std::thread::hardware_concurrency());
  auto mb = [](uint64_t bytes) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f", double(bytes) / (1 << 20));
    return std::string(text);
  };

  // Pass 1, a thread per file: check every CRC, find where the good
  // records end, and decide what damage means. Cheap next to pass 2.
  RunJobs(
      thread_count, jobs.size(), &state,
      [&](size_t index) {
        VerifyFile(PathOf(jobs[index].name), truncate_corrupt_, &jobs[index],
                   &state);
      },
      [&] {
        Log(CW_LOG_INFO, "recovery: checking checksums, " +
                             mb(state.bytes.load()) + " of " +
                             mb(total_bytes) + " MB");
      });
  state.bytes.store(0);

  // Pass 2: apply the verified records, split into chunks so that one
  // large log is replayed by every thread (per key the highest TID wins,
  // so chunks may run in any order).
  std::vector<Chunk> chunks;
  for (size_t f = 0; f < jobs.size() && !state.failed.load(); ++f) {
    const ReplayFile& file = jobs[f];
    for (size_t c = 0; c < file.chunk_starts.size(); ++c) {
      size_t end = c + 1 < file.chunk_starts.size() ? file.chunk_starts[c + 1]
                                                    : file.valid_end;
      if (file.chunk_starts[c] < end) {
        chunks.push_back({f, file.chunk_starts[c], end});
      }
    }
  }
  std::vector<Worker*> workers;
  std::mutex workers_mu;
  thread_local Worker* replay_worker = nullptr;
  RunJobs(
      thread_count, state.failed.load() ? 0 : chunks.size(), &state,
      [&](size_t index) {
        if (replay_worker == nullptr) {
          if (!OpenWorkerHandle(engine_, rep_, Engine::kMaxWorkers,
                                &replay_worker)
                   .ok()) {
            return state.Fail("recovery: cannot open an engine worker");
          }
          std::lock_guard<std::mutex> guard(workers_mu);
          workers.push_back(replay_worker);
        }
        ApplyChunk(replay_worker, jobs[chunks[index].file], chunks[index],
                   &state);
      },
      [&] {
        Log(CW_LOG_INFO, "recovery: " + std::to_string(state.records.load()) +
                             " records, " + mb(state.bytes.load()) + " of " +
                             mb(total_bytes) + " MB replayed");
      });
  // Each pool thread left its worker in its thread_local; close them here
  // (a worker may be closed from another thread once its owner is gone).
  for (Worker* worker : workers) CloseWorkerHandle(worker);
  for (ReplayFile& file : jobs) {
    if (file.data != nullptr) {
      ::munmap(const_cast<uint8_t*>(file.data), file.bytes);
    }
    if (file.cut_at != SIZE_MAX && !state.failed.load()) {
      if (::ftruncate(file.fd, static_cast<off_t>(file.cut_at)) != 0 ||
          ::fsync(file.fd) != 0) {
        state.Fail("recovery: cannot cut " + PathOf(file.name) + ": " +
                   ErrnoText(errno));
      }
    }
    if (file.fd >= 0) ::close(file.fd);
  }
  for (const std::string& warning : state.warnings) Log(CW_LOG_WARN, warning);
  if (state.failed.load()) {
    *error = state.error;
    return Status::Internal();
  }

  // Deletes were kept as absent records so that order did not matter;
  // now they, and keys that expired meanwhile, go.
  uint64_t keys = 0;
  {
    Worker* worker = nullptr;
    Status s = OpenWorkerHandle(engine_, rep_, Engine::kMaxWorkers, &worker);
    if (!s.ok()) {
      *error = "recovery: cannot open an engine worker";
      return s;
    }
    keys = SweepRecovered(worker);
    CloseWorkerHandle(worker);
  }
  {
    std::lock_guard<std::mutex> guard(rep_->workers_mu);
    for (uint64_t& seq : rep_->worker_last_seq) {
      seq = std::max(seq, state.max_seq.load());
    }
  }
  generation_ = listing.max_generation + 1;
  old_log_bytes_.store(log_bytes);
  // Files the checkpoint covers may survive a crash right after it.
  for (const auto& log : listing.logs) {
    if (log.generation < base) ::unlink(PathOf(log.name).c_str());
  }
  for (uint64_t generation : listing.manifests) {
    if (generation >= base) continue;
    ::unlink(PathOf(ManifestName(generation)).c_str());
  }
  DeleteCovered(base);

  uint64_t elapsed_ms = static_cast<uint64_t>(SteadyMs() - start_ms);
  uint64_t records = state.records.load();
  uint64_t bytes = state.bytes.load();
  {
    std::lock_guard<std::mutex> stats(stats_mu_);
    recovered_records_ = records;
    recovered_bytes_ = bytes;
    recovered_keys_ = keys;
    recovery_ms_ = elapsed_ms;
    recovery_dropped_records_ = state.dropped.load();
    last_checkpoint_unix_s_ = UnixMs() / 1000;
    if (have_checkpoint) last_checkpoint_keys_ = manifest.keys;
  }
  double seconds = std::max<double>(double(elapsed_ms) / 1000.0, 1e-3);
  char rates[96];
  std::snprintf(rates, sizeof rates, " MB (%.1f MB/s), %" PRIu64
                " keys (%.0f keys/s), ",
                double(bytes) / (1 << 20) / seconds, keys,
                double(keys) / seconds);
  Log(CW_LOG_INFO, "recovery: done in " + std::to_string(elapsed_ms) +
                       " ms: " + std::to_string(records) + " records, " +
                       mb(bytes) + rates +
                       std::to_string(state.dropped.load()) +
                       " records dropped");
  return Status::OK();
}

}  // namespace corewire
