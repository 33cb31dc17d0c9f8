#include "engine/table.h"

#include <cassert>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

namespace corewire {

namespace {

inline uint64_t Mum(uint64_t a, uint64_t b) {
  __uint128_t product = static_cast<__uint128_t>(a) * b;
  return static_cast<uint64_t>(product) ^ static_cast<uint64_t>(product >> 64);
}

inline uint64_t Load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

constexpr uint64_t kP0 = 0xa0761d6478bd642full;
constexpr uint64_t kP1 = 0xe7037ed1a0b428dbull;
constexpr uint64_t kP2 = 0x8ebc6af09c88c6e3ull;

}  // namespace

Table::Table(uint64_t seed) noexcept : seed_(seed) {}

Table::~Table() {
  if (shards_ == nullptr) return;
  for (size_t s = 0; s < kShardCount; ++s) {
    SlotArray* array = shards_[s].slots.load(std::memory_order_relaxed);
    if (array == nullptr) continue;
    for (size_t i = 0; i < array->capacity; ++i) {
      uint64_t entry = array->slot(i).load(std::memory_order_relaxed);
      if (entry <= kTombstone) continue;
      Record* record = EntryRecord(entry);
      Value* value = record->value.load(std::memory_order_relaxed);
      if (value != nullptr) FreeRetirable(value);
      FreeRetirable(record);
    }
    FreeRetirable(array);
  }
  for (size_t s = 0; s < kShardCount; ++s) shards_[s].~Shard();
  ::operator delete(shards_, std::align_val_t(alignof(Shard)));
}

bool Table::Init() noexcept {
  void* memory = ::operator new(sizeof(Shard) * kShardCount,
                                std::align_val_t(alignof(Shard)),
                                std::nothrow);
  if (memory == nullptr) return false;
  shards_ = static_cast<Shard*>(memory);
  for (size_t s = 0; s < kShardCount; ++s) new (&shards_[s]) Shard;
  for (size_t s = 0; s < kShardCount; ++s) {
    SlotArray* array = NewArray(kMinCapacity);
    if (array == nullptr) return false;  // destructor frees the rest
    shards_[s].slots.store(array, std::memory_order_release);
  }
  return true;
}

uint64_t Table::HashKey(uint64_t seed, const uint8_t* key,
                        size_t key_bytes) noexcept {
  uint64_t h = seed ^ Mum(key_bytes ^ kP0, kP1);
  size_t n = key_bytes;
  const uint8_t* p = key;
  for (; n >= 16; n -= 16, p += 16) {
    h = Mum(Load64(p) ^ kP1 ^ h, Load64(p + 8) ^ kP2);
  }
  if (n >= 8) {
    h = Mum(Load64(p) ^ kP1 ^ h, kP2);
    n -= 8;
    p += 8;
  }
  if (n > 0) {
    uint64_t tail = 0;
    std::memcpy(&tail, p, n);
    h = Mum(tail ^ kP2 ^ h, kP0);
  }
  // Final avalanche (murmur3 fmix64): shard, tag and slot bits all mix.
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

uint64_t Table::MakeEntry(const Record* record) noexcept {
  uint64_t pointer = reinterpret_cast<uintptr_t>(record);
  // Needs 48-bit user addresses (x86-64 and aarch64 Linux defaults).
  if ((pointer & ~kPointerMask) != 0) {
    std::fprintf(stderr, "corewire engine: pointer above 48 bits\n");
    std::abort();
  }
  return (Tag(record->hash) << 48) | pointer;
}

Table::SlotArray* Table::NewArray(size_t capacity) noexcept {
  assert((capacity & (capacity - 1)) == 0);
  if (capacity > (SIZE_MAX - sizeof(SlotArray)) / sizeof(uint64_t)) {
    return nullptr;
  }
  void* memory =
      std::malloc(sizeof(SlotArray) + capacity * sizeof(std::atomic<uint64_t>));
  if (memory == nullptr) return nullptr;
  SlotArray* array = new (memory) SlotArray;
  array->retired_next = nullptr;
  array->retired_epoch = 0;
  array->capacity = capacity;
  auto* slots = reinterpret_cast<std::atomic<uint64_t>*>(array + 1);
  for (size_t i = 0; i < capacity; ++i) new (&slots[i]) std::atomic<uint64_t>(kEmpty);
  return array;
}

Record* Table::Find(uint64_t hash, const uint8_t* key, size_t key_bytes) const
    noexcept {
  const Shard& shard = shards_[ShardOf(hash)];
  const SlotArray* array = shard.slots.load(std::memory_order_acquire);
  size_t mask = array->capacity - 1;
  uint64_t tag = Tag(hash);
  size_t i = hash & mask;
  for (size_t probes = 0; probes < array->capacity; ++probes) {
    uint64_t entry = array->slot(i).load(std::memory_order_acquire);
    if (entry == kEmpty) return nullptr;
    if (entry != kTombstone && (entry >> 48) == tag) {
      Record* record = EntryRecord(entry);
      if (KeyEquals(record, hash, key, key_bytes)) return record;
    }
    i = (i + 1) & mask;
  }
  return nullptr;
}

bool Table::Rehash(Shard* shard, EpochManager* epochs, Limbo* limbo) noexcept {
  SlotArray* old_array = shard->slots.load(std::memory_order_relaxed);
  // Half full at most after the rebuild; shrinks when tombstones dominated.
  size_t capacity = kMinCapacity;
  while (capacity < (shard->records + 1) * 2) {
    if (capacity > (SIZE_MAX >> 2)) return false;
    capacity <<= 1;
  }
  SlotArray* array = NewArray(capacity);
  if (array == nullptr) return false;
  size_t mask = capacity - 1;
  size_t moved = 0;
  for (size_t i = 0; i < old_array->capacity; ++i) {
    uint64_t entry = old_array->slot(i).load(std::memory_order_relaxed);
    if (entry <= kTombstone) continue;
    size_t j = EntryRecord(entry)->hash & mask;
    while (array->slot(j).load(std::memory_order_relaxed) != kEmpty) {
      j = (j + 1) & mask;
    }
    array->slot(j).store(entry, std::memory_order_relaxed);
    ++moved;
  }
  assert(moved == shard->records);
  shard->slots.store(array, std::memory_order_release);
  shard->used = moved;
  limbo->Push(old_array, epochs->epoch());
  return true;
}

Record* Table::FindOrInsert(uint64_t hash, const uint8_t* key,
                            size_t key_bytes, EpochManager* epochs,
                            Limbo* limbo, bool* inserted) noexcept {
  *inserted = false;
  if (Record* record = Find(hash, key, key_bytes)) return record;
  Shard& shard = shards_[ShardOf(hash)];
  std::lock_guard<std::mutex> guard(shard.mu);
  if (Record* record = Find(hash, key, key_bytes)) return record;
  SlotArray* array = shard.slots.load(std::memory_order_relaxed);
  if ((shard.used + 1) * 4 > array->capacity * 3) {
    if (!Rehash(&shard, epochs, limbo)) return nullptr;
    array = shard.slots.load(std::memory_order_relaxed);
  }
  Record* record = NewRecord(hash, key, key_bytes,
                             shard.max_unlinked_version | kTidAbsent | kTidLock);
  if (record == nullptr) return nullptr;
  size_t mask = array->capacity - 1;
  size_t i = hash & mask;
  for (size_t probes = 0;; ++probes) {
    assert(probes < array->capacity);
    uint64_t entry = array->slot(i).load(std::memory_order_relaxed);
    if (entry <= kTombstone) {
      if (entry == kEmpty) ++shard.used;
      array->slot(i).store(MakeEntry(record), std::memory_order_release);
      break;
    }
    i = (i + 1) & mask;
  }
  ++shard.records;
  shard.insert_version.fetch_add(1, std::memory_order_release);
  *inserted = true;
  return record;
}

void Table::Unlink(Record* record, uint64_t version) noexcept {
  Shard& shard = shards_[ShardOf(record->hash)];
  std::lock_guard<std::mutex> guard(shard.mu);
  SlotArray* array = shard.slots.load(std::memory_order_relaxed);
  size_t mask = array->capacity - 1;
  size_t i = record->hash & mask;
  uint64_t wanted = MakeEntry(record);
  for (size_t probes = 0;; ++probes) {
    if (probes >= array->capacity) {
      std::fprintf(stderr, "corewire engine: unlink of unknown record\n");
      std::abort();
    }
    uint64_t entry = array->slot(i).load(std::memory_order_relaxed);
    if (entry == wanted) {
      array->slot(i).store(kTombstone, std::memory_order_release);
      break;
    }
    i = (i + 1) & mask;
  }
  assert(shard.records > 0);
  --shard.records;
  if (TidVersion(version) > shard.max_unlinked_version) {
    shard.max_unlinked_version = TidVersion(version);
  }
}

uint64_t Table::LiveCount() const noexcept {
  int64_t total = 0;
  for (size_t s = 0; s < kShardCount; ++s) {
    total += shards_[s].live.load(std::memory_order_relaxed);
  }
  return total < 0 ? 0 : static_cast<uint64_t>(total);
}

uint64_t Table::ExpiresCount() const noexcept {
  int64_t total = 0;
  for (size_t s = 0; s < kShardCount; ++s) {
    total += shards_[s].expires.load(std::memory_order_relaxed);
  }
  return total < 0 ? 0 : static_cast<uint64_t>(total);
}

}  // namespace corewire
