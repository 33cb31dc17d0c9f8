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

  uint64_t Hash(const uint8_t* key, size_t key_bytes) const noexcept;
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

  // Calls fn(Record*) for every record in the shard's current array.
  // Caller must be inside an epoch; fn may lock and unlink records.
  template <typename Fn>
  void ForEachInShard(size_t shard, Fn&& fn) const {
    const SlotArray* array =
        shards_[shard].slots.load(std::memory_order_acquire);
    for (size_t i = 0; i < array->capacity; ++i) {
      uint64_t entry = array->slot(i).load(std::memory_order_acquire);
      if (entry > kTombstone) fn(EntryRecord(entry));
    }
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
    size_t used = 0;                   // non-empty slots; guarded by mu
    size_t records = 0;                // linked records; guarded by mu
    uint64_t max_unlinked_version = 0; // guarded by mu
  };

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
