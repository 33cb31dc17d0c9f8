// record.h: records, immutable values and the TID word (internal).
#ifndef COREWIRE_ENGINE_RECORD_H_
#define COREWIRE_ENGINE_RECORD_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace corewire {

// The TID word of a record: [ seq:52 | worker:9 | unlinked | absent | lock ].
// A version is the word without its three status bits. Versions of one key
// strictly grow, also across delete and re-insert (Table hands a new record
// the highest version ever unlinked from its shard), so a reader that sees
// the same unlocked version twice saw the same value. (seq, worker) makes a
// commit's TID unique in the process; higher TID = later write of a key.
constexpr uint64_t kTidLock = 1;      // a writer holds the record
constexpr uint64_t kTidAbsent = 2;    // no value: placeholder or deleted
constexpr uint64_t kTidUnlinked = 4;  // removed from the index; final
constexpr uint64_t kTidStatusMask = 7;
constexpr unsigned kTidWorkerShift = 3;
constexpr unsigned kTidSeqShift = 12;
constexpr uint64_t kTidMaxWorkers = uint64_t{1}
                                    << (kTidSeqShift - kTidWorkerShift);
constexpr uint64_t kTidMaxSeq = (uint64_t{1} << (64 - kTidSeqShift)) - 1;

inline uint64_t TidMake(uint64_t seq, uint64_t worker) {
  return (seq << kTidSeqShift) | (worker << kTidWorkerShift);
}
inline uint64_t TidVersion(uint64_t tid) { return tid & ~kTidStatusMask; }
inline uint64_t TidSeq(uint64_t tid) { return tid >> kTidSeqShift; }

// Header of every object freed through the epoch system. Intrusive, so that
// retiring never allocates (and so never fails while locks are held).
struct Retirable {
  Retirable* retired_next;
  uint64_t retired_epoch;
};

// An immutable value; a write replaces the whole object. The bytes follow
// the header. Empty values still have a non-NULL data().
struct Value : Retirable {
  size_t size_bytes;
  const uint8_t* data() const {
    return reinterpret_cast<const uint8_t*>(this + 1);
  }
};

// One key. The key bytes follow the header and never change.
struct Record : Retirable {
  std::atomic<uint64_t> tid;
  std::atomic<Value*> value;  // nullptr iff the record is absent
  // Deadline in Unix ms, 0 = none. Written under the lock; read inside the
  // seqlock window like value. 0 while absent.
  std::atomic<int64_t> expire_at_ms;
  uint64_t hash;
  size_t key_bytes;
  const uint8_t* key() const {
    return reinterpret_cast<const uint8_t*>(this + 1);
  }
};

// malloc-backed constructors; nullptr when out of memory. Free with
// FreeRetirable (directly, or after an epoch grace period).
Value* NewValue(const uint8_t* data, size_t size_bytes) noexcept;
Record* NewRecord(uint64_t hash, const uint8_t* key, size_t key_bytes,
                  uint64_t tid) noexcept;
void FreeRetirable(Retirable* object) noexcept;

bool KeyEquals(const Record* record, uint64_t hash, const uint8_t* key,
               size_t key_bytes) noexcept;
// memcmp order, shorter first on a common prefix.
int CompareKeys(const uint8_t* a, size_t a_bytes, const uint8_t* b,
                size_t b_bytes) noexcept;

// Waits politely: spins briefly, then yields. Aborts after an absurd number
// of attempts (a record lock is never held across a call, so that means a
// broken invariant, not load).
void Backoff(uint64_t attempt) noexcept;

// Acquires the record lock. Returns false (without locking) if the record
// has been unlinked: the caller must look the key up again.
bool LockRecord(Record* record, uint64_t* locked_tid) noexcept;

// Seqlock read: returns an unlocked TID word and the value and deadline
// that belong to it. Waits while a writer holds the lock. Caller must be
// inside an epoch.
uint64_t ReadStable(const Record* record, Value** value,
                    int64_t* expire_at_ms) noexcept;

// Whether a deadline has passed; now_ms() is called only for a deadline.
template <typename NowFn>
inline bool Expired(int64_t expire_at_ms, NowFn&& now_ms) {
  return expire_at_ms != 0 && expire_at_ms <= now_ms();
}

}  // namespace corewire

#endif  // COREWIRE_ENGINE_RECORD_H_
