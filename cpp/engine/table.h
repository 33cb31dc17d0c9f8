// table.h: the sharded concurrent hash index (internal).
//
// 1024 shards, each an open-addressing array of tagged record pointers with
// linear probing. Readers take no lock: they load the shard's current array
// and probe. Structural changes (insert, unlink, resize) take the shard's
// mutex. A resize builds a new array, publishes it and retires the old one
// through the epoch system; records themselves never move, so a reader in an
// old array still finds valid (possibly unlinked) records.
//
// Lock order: a thread may take a shard mutex while holding record locks,
// but never waits for a record lock while holding a shard mutex.
#ifndef COREWIRE_ENGINE_TABLE_H_
#define COREWIRE_ENGINE_TABLE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>

#include "engine/epoch.h"
#include "engine/record.h"

namespace corewire {

class Table {
 public:
  static constexpr unsigned kShardBits = 10;
  static constexpr size_t kShardCount = size_t{1} << kShardBits;

  explicit Table(uint64_t seed) noexcept;
  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;
  // Frees every record, value and array. No other thread may be inside.
  ~Table();

  // Allocates the initial arrays; false when out of memory.
  bool Init() noexcept;

  uint64_t Hash(const uint8_t* key, size_t key_bytes) const noexcept {
    return HashKey(seed_, key, key_bytes);
  }
  // The same function, for callers without a table at hand.
  static uint64_t HashKey(uint64_t seed, const uint8_t* key,
                          size_t key_bytes) noexcept;
  static size_t ShardOf(uint64_t hash) noexcept {
    return static_cast<size_t>(hash >> (64 - kShardBits));
  }

  // Bumped (release) after every record insert into the shard. A reader
  // that loads it before a lookup that misses, and finds it unchanged
  // later, knows no record was inserted in between (phantom check).
  uint64_t InsertVersion(size_t shard) const noexcept {
    return shards_[shard].insert_version.load(std::memory_order_acquire);
  }

  // Lock-free lookup; caller must be inside an epoch. May return a record
  // that is absent or being unlinked: check its TID.
  Record* Find(uint64_t hash, const uint8_t* key, size_t key_bytes) const
      noexcept;

  // Returns the key's record (unlocked, *inserted = false) or inserts a new
  // absent record that is already locked by the caller (*inserted = true)
  // with a version above any version ever unlinked from this shard.
  // nullptr when out of memory. Caller must be inside an epoch; a replaced
  // array goes to limbo.
  Record* FindOrInsert(uint64_t hash, const uint8_t* key, size_t key_bytes,
                       EpochManager* epochs, Limbo* limbo,
                       bool* inserted) noexcept;

  // Removes a locked, absent record from the index. version is the
  // record's final version. The caller then marks it unlinked and retires it.
  void Unlink(Record* record, uint64_t version) noexcept;

  // Live-key accounting, updated on absent <-> present transitions.
  void AddLive(uint64_t hash, int64_t delta) noexcept {
    shards_[ShardOf(hash)].live.fetch_add(delta, std::memory_order_relaxed);
  }
  uint64_t LiveCount() const noexcept;
  int64_t ShardLive(size_t shard) const noexcept {
    return shards_[shard].live.load(std::memory_order_acquire);
  }
  // Present records with a deadline, updated like live.
  void AddExpires(uint64_t hash, int64_t delta) noexcept {
    if (delta != 0) {
      shards_[ShardOf(hash)].expires.fetch_add(delta,
                                               std::memory_order_relaxed);
    }
  }
  uint64_t ExpiresCount() const noexcept;
  int64_t ShardExpires(size_t shard) const noexcept {
    return shards_[shard].expires.load(std::memory_order_acquire);
  }

  // Calls fn(Record*) for every record in the shard's current array.
  // Caller must be inside an epoch; fn may lock and unlink records.
  template <typename Fn>
  void ForEachInShard(size_t shard, Fn&& fn) const {
    size_t visited = 0;
    VisitSlots(shard, 0, SIZE_MAX, &visited, fn);
  }

  // Calls fn(Record*) for the records in slots [first, first + max_slots)
  // of the shard's current array. Returns the slot after the last one
  // visited, or 0 once the array's end was reached; *visited += slots
  // visited. Same rules as above.
  template <typename Fn>
  size_t VisitSlots(size_t shard, size_t first, size_t max_slots,
                    size_t* visited, Fn&& fn) const {
    const SlotArray* array =
        shards_[shard].slots.load(std::memory_order_acquire);
    if (first >= array->capacity) return 0;  // shrank since the last call
    size_t end = array->capacity - first < max_slots ? array->capacity
                                                     : first + max_slots;
    *visited += end - first;
    for (size_t i = first; i < end; ++i) {
      uint64_t entry = array->slot(i).load(std::memory_order_acquire);
      if (entry > kTombstone) fn(EntryRecord(entry));
    }
    return end >= array->capacity ? 0 : end;
  }

  // Calls fn(Record*) for records in the shard's current array starting at
  // slot start % capacity and wrapping around, until fn returns true.
  // Returns whether it did.
  template <typename Fn>
  bool ProbeFrom(size_t shard, uint64_t start, Fn&& fn) const {
    const SlotArray* array =
        shards_[shard].slots.load(std::memory_order_acquire);
    size_t mask = array->capacity - 1;
    for (size_t n = 0, i = start & mask; n < array->capacity;
         ++n, i = (i + 1) & mask) {
      uint64_t entry = array->slot(i).load(std::memory_order_acquire);
      if (entry > kTombstone && fn(EntryRecord(entry))) return true;
    }
    return false;
  }

  // One step of a reverse-binary scan of a shard (Redis's dictScan):
  // calls fn(Record*) for every record whose home bucket in the current
  // array is cursor & mask, and returns the next cursor (0 once the
  // shard is done). Records never move within an array and empty slots
  // never reappear in one, so a linked record is always in the probe run
  // that starts at its home bucket; and home buckets under a growing or
  // shrinking power-of-two mask are exactly Redis's buckets. *probed
  // += slots examined. Caller inside an epoch.
  template <typename Fn>
  uint64_t ScanStep(size_t shard, uint64_t cursor, size_t* probed,
                    Fn&& fn) const {
    const SlotArray* array =
        shards_[shard].slots.load(std::memory_order_acquire);
    uint64_t mask = array->capacity - 1;
    uint64_t bucket = cursor & mask;
    size_t i = bucket;
    for (size_t n = 0; n < array->capacity; ++n, i = (i + 1) & mask) {
      uint64_t entry = array->slot(i).load(std::memory_order_acquire);
      ++*probed;
      if (entry == kEmpty) break;
      if (entry == kTombstone) continue;
      Record* record = EntryRecord(entry);
      if ((record->hash & mask) == bucket) fn(record);
    }
    // Increment the reversed cursor (bits above mask set so they carry).
    cursor |= ~mask;
    cursor = ReverseBits(cursor);
    ++cursor;
    return ReverseBits(cursor);
  }

 private:
  // Slot entry: 0 empty, 1 tombstone, else (16-bit hash tag << 48) | ptr.
  static constexpr uint64_t kEmpty = 0;
  static constexpr uint64_t kTombstone = 1;
  static constexpr uint64_t kPointerMask = (uint64_t{1} << 48) - 1;
  static constexpr size_t kMinCapacity = 8;

  struct SlotArray : Retirable {
    size_t capacity;  // power of two
    std::atomic<uint64_t>& slot(size_t i) const {
      return reinterpret_cast<std::atomic<uint64_t>*>(
          const_cast<SlotArray*>(this) + 1)[i];
    }
  };

  struct alignas(64) Shard {
    // Read by every lookup; written only on structural changes.
    std::atomic<SlotArray*> slots{nullptr};
    std::atomic<uint64_t> insert_version{0};
    // Written by writers.
    alignas(64) std::mutex mu;
    std::atomic<int64_t> live{0};
    std::atomic<int64_t> expires{0};
    size_t used = 0;                   // non-empty slots; guarded by mu
    size_t records = 0;                // linked records; guarded by mu
    uint64_t max_unlinked_version = 0; // guarded by mu
  };

  static uint64_t ReverseBits(uint64_t v) noexcept {
    v = ((v >> 1) & 0x5555555555555555ull) | ((v & 0x5555555555555555ull) << 1);
    v = ((v >> 2) & 0x3333333333333333ull) | ((v & 0x3333333333333333ull) << 2);
    v = ((v >> 4) & 0x0f0f0f0f0f0f0f0full) | ((v & 0x0f0f0f0f0f0f0f0full) << 4);
    return __builtin_bswap64(v);
  }
  static uint64_t Tag(uint64_t hash) noexcept { return (hash >> 32) & 0xffff; }
  static uint64_t MakeEntry(const Record* record) noexcept;
  static Record* EntryRecord(uint64_t entry) noexcept {
    return reinterpret_cast<Record*>(entry & kPointerMask);
  }
  static SlotArray* NewArray(size_t capacity) noexcept;
  // Rebuilds the shard's array for its live records; false on no memory.
  bool Rehash(Shard* shard, EpochManager* epochs, Limbo* limbo) noexcept;

  const uint64_t seed_;
  Shard* shards_ = nullptr;  // kShardCount entries
};

}  // namespace corewire

#endif  // COREWIRE_ENGINE_TABLE_H_
