// epoch.h: epoch-based memory reclamation (internal).
//
// A worker announces the global epoch while it runs one operation (Enter ..
// Exit) and announces nothing in between, so a worker blocked in epoll_wait
// never holds reclamation back. An object unlinked from every shared
// structure is retired with the global epoch read after the unlink; it is
// freed once the global epoch is two past that, i.e. once every worker that
// could have seen it has left.
#ifndef COREWIRE_ENGINE_EPOCH_H_
#define COREWIRE_ENGINE_EPOCH_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>

#include "engine/record.h"

namespace corewire {

// FIFO of retired objects. Owned by one thread (or guarded by a mutex).
class Limbo {
 public:
  Limbo() = default;
  Limbo(const Limbo&) = delete;
  Limbo& operator=(const Limbo&) = delete;
  ~Limbo() { FreeAll(); }

  void Push(Retirable* object, uint64_t epoch) noexcept;
  // Frees objects from the front retired at least two epochs before
  // global_epoch. Returns how many were freed.
  size_t Reclaim(uint64_t global_epoch) noexcept;
  // Moves all of other's objects to the back of this list.
  void Splice(Limbo* other) noexcept;
  // Frees everything immediately: only when no reader can exist.
  void FreeAll() noexcept;
  size_t size() const noexcept { return size_; }

 private:
  Retirable* head_ = nullptr;
  Retirable* tail_ = nullptr;
  size_t size_ = 0;
};

class EpochManager {
 public:
  static constexpr size_t kMaxParticipants = 512;

  EpochManager() = default;
  EpochManager(const EpochManager&) = delete;
  EpochManager& operator=(const EpochManager&) = delete;
  ~EpochManager() = default;  // orphans_ frees itself

  // Participant p starts/finishes one operation. Not reentrant.
  void Enter(size_t participant) noexcept;
  void Exit(size_t participant) noexcept;

  // The epoch to stamp an object retired now (read after the unlink).
  uint64_t epoch() const noexcept {
    return global_.load(std::memory_order_seq_cst);
  }

  // Makes Participant p visible to TryAdvance. Call before its first Enter.
  void NoteParticipant(size_t participant) noexcept;

  // Advances the global epoch if every active participant has announced
  // the current one. Returns the (possibly new) global epoch.
  uint64_t TryAdvance() noexcept;

  // Takes over a closing worker's retired objects.
  void AdoptOrphans(Limbo* limbo) noexcept;
  // Frees orphans whose grace period has passed; skips if contended.
  void ReclaimOrphans() noexcept;

 private:
  struct alignas(64) Announcement {
    std::atomic<uint64_t> epoch{0};  // 0 = not inside an operation
  };

  alignas(64) std::atomic<uint64_t> global_{1};
  std::atomic<size_t> participant_limit_{0};  // highest participant + 1
  std::atomic<size_t> orphan_count_{0};
  Announcement announcements_[kMaxParticipants];
  std::mutex orphans_mu_;
  Limbo orphans_;  // guarded by orphans_mu_
};

}  // namespace corewire

#endif  // COREWIRE_ENGINE_EPOCH_H_
