#include "engine/epoch.h"

#include <cassert>
#include <cstdio>
#include <cstdlib>

namespace corewire {

void Limbo::Push(Retirable* object, uint64_t epoch) noexcept {
  object->retired_next = nullptr;
  object->retired_epoch = epoch;
  if (tail_ == nullptr) {
    head_ = object;
  } else {
    tail_->retired_next = object;
  }
  tail_ = object;
  ++size_;
}

size_t Limbo::Reclaim(uint64_t global_epoch) noexcept {
  size_t freed = 0;
  while (head_ != nullptr && head_->retired_epoch + 2 <= global_epoch) {
    Retirable* next = head_->retired_next;
    FreeRetirable(head_);
    head_ = next;
    ++freed;
  }
  if (head_ == nullptr) tail_ = nullptr;
  size_ -= freed;
  return freed;
}

void Limbo::Splice(Limbo* other) noexcept {
  if (other->head_ == nullptr) return;
  if (tail_ == nullptr) {
    head_ = other->head_;
  } else {
    tail_->retired_next = other->head_;
  }
  tail_ = other->tail_;
  size_ += other->size_;
  other->head_ = other->tail_ = nullptr;
  other->size_ = 0;
}

void Limbo::FreeAll() noexcept {
  while (head_ != nullptr) {
    Retirable* next = head_->retired_next;
    FreeRetirable(head_);
    head_ = next;
  }
  tail_ = nullptr;
  size_ = 0;
}

void EpochManager::Enter(size_t participant) noexcept {
  assert(participant < kMaxParticipants);
  std::atomic<uint64_t>& mine = announcements_[participant].epoch;
  assert(mine.load(std::memory_order_relaxed) == 0);
  // Re-check after announcing: if the epoch moved while we announced,
  // TryAdvance may not have seen us, so announce the newer one.
  uint64_t e = global_.load(std::memory_order_seq_cst);
  for (uint32_t attempt = 0;; ++attempt) {
    mine.store(e, std::memory_order_seq_cst);
    uint64_t now = global_.load(std::memory_order_seq_cst);
    if (now == e) return;
    e = now;
    if (attempt > (1u << 20)) {
      std::fprintf(stderr, "corewire engine: epoch never settles\n");
      std::abort();
    }
  }
}

void EpochManager::Exit(size_t participant) noexcept {
  announcements_[participant].epoch.store(0, std::memory_order_release);
}

void EpochManager::NoteParticipant(size_t participant) noexcept {
  size_t limit = participant_limit_.load(std::memory_order_relaxed);
  while (limit < participant + 1 &&
         !participant_limit_.compare_exchange_weak(
             limit, participant + 1, std::memory_order_seq_cst)) {
  }
}

uint64_t EpochManager::TryAdvance() noexcept {
  uint64_t e = global_.load(std::memory_order_seq_cst);
  size_t limit = participant_limit_.load(std::memory_order_seq_cst);
  for (size_t i = 0; i < limit; ++i) {
    uint64_t a = announcements_[i].epoch.load(std::memory_order_seq_cst);
    if (a != 0 && a != e) return e;
  }
  if (global_.compare_exchange_strong(e, e + 1, std::memory_order_seq_cst)) {
    return e + 1;
  }
  return e;  // someone else advanced; e holds the new value
}

void EpochManager::AdoptOrphans(Limbo* limbo) noexcept {
  std::lock_guard<std::mutex> guard(orphans_mu_);
  orphans_.Splice(limbo);
  orphan_count_.store(orphans_.size(), std::memory_order_relaxed);
}

void EpochManager::ReclaimOrphans() noexcept {
  if (orphan_count_.load(std::memory_order_relaxed) == 0) return;
  std::unique_lock<std::mutex> guard(orphans_mu_, std::try_to_lock);
  if (!guard.owns_lock()) return;
  // Orphans spliced from several workers are not sorted by epoch; the
  // front-first scan is conservative and close frees the rest.
  orphans_.Reclaim(epoch());
  orphan_count_.store(orphans_.size(), std::memory_order_relaxed);
}

}  // namespace corewire
