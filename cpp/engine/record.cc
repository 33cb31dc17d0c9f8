#include "engine/record.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <thread>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace corewire {

namespace {
constexpr uint64_t kSpinAttempts = 64;
// ~minutes of yielding; only a lost lock gets here.
constexpr uint64_t kMaxWaitAttempts = uint64_t{1} << 31;
}  // namespace

Value* NewValue(const uint8_t* data, size_t size_bytes) noexcept {
  void* memory = std::malloc(sizeof(Value) + size_bytes);
  if (memory == nullptr) return nullptr;
  Value* value = new (memory) Value;
  value->retired_next = nullptr;
  value->retired_epoch = 0;
  value->size_bytes = size_bytes;
  if (size_bytes > 0) {
    std::memcpy(const_cast<uint8_t*>(value->data()), data, size_bytes);
  }
  return value;
}

Record* NewRecord(uint64_t hash, const uint8_t* key, size_t key_bytes,
                  uint64_t tid) noexcept {
  void* memory = std::malloc(sizeof(Record) + key_bytes);
  if (memory == nullptr) return nullptr;
  Record* record = new (memory) Record;
  record->retired_next = nullptr;
  record->retired_epoch = 0;
  record->tid.store(tid, std::memory_order_relaxed);
  record->value.store(nullptr, std::memory_order_relaxed);
  record->expire_at_ms.store(0, std::memory_order_relaxed);
  record->hash = hash;
  record->key_bytes = key_bytes;
  if (key_bytes > 0) {
    std::memcpy(const_cast<uint8_t*>(record->key()), key, key_bytes);
  }
  return record;
}

void FreeRetirable(Retirable* object) noexcept { std::free(object); }

bool KeyEquals(const Record* record, uint64_t hash, const uint8_t* key,
               size_t key_bytes) noexcept {
  return record->hash == hash && record->key_bytes == key_bytes &&
         (key_bytes == 0 || std::memcmp(record->key(), key, key_bytes) == 0);
}

int CompareKeys(const uint8_t* a, size_t a_bytes, const uint8_t* b,
                size_t b_bytes) noexcept {
  size_t common = a_bytes < b_bytes ? a_bytes : b_bytes;
  int c = common == 0 ? 0 : std::memcmp(a, b, common);
  if (c != 0) return c;
  return a_bytes < b_bytes ? -1 : (a_bytes > b_bytes ? 1 : 0);
}

void Backoff(uint64_t attempt) noexcept {
  if (attempt >= kMaxWaitAttempts) {
    std::fprintf(stderr, "corewire engine: record lock never released\n");
    std::abort();
  }
  if (attempt < kSpinAttempts) {
#if defined(__x86_64__)
    _mm_pause();
#endif
    return;
  }
  std::this_thread::yield();
}

bool LockRecord(Record* record, uint64_t* locked_tid) noexcept {
  for (uint64_t attempt = 0;; ++attempt) {
    uint64_t tid = record->tid.load(std::memory_order_relaxed);
    if (tid & kTidUnlinked) return false;
    if (!(tid & kTidLock) &&
        record->tid.compare_exchange_weak(tid, tid | kTidLock,
                                          std::memory_order_acquire,
                                          std::memory_order_relaxed)) {
      *locked_tid = tid | kTidLock;
      return true;
    }
    Backoff(attempt);
  }
}

uint64_t ReadStable(const Record* record, Value** value,
                    int64_t* expire_at_ms) noexcept {
  for (uint64_t attempt = 0;; ++attempt) {
    uint64_t before = record->tid.load(std::memory_order_acquire);
    if (!(before & kTidLock)) {
      Value* seen = record->value.load(std::memory_order_acquire);
      int64_t deadline = record->expire_at_ms.load(std::memory_order_acquire);
      // Acquire above keeps this load after the value and deadline loads.
      uint64_t after = record->tid.load(std::memory_order_acquire);
      if (before == after) {
        *value = seen;
        *expire_at_ms = deadline;
        return before;
      }
    }
    Backoff(attempt);
  }
}

}  // namespace corewire
