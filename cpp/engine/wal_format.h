// wal_format.h: the byte format of log and snapshot records (internal).
//
// A file is a sequence of records:
//   u32 LE payload length | payload | u32 LE CRC-32C(length bytes + payload)
// A payload is one or more items:
//   kind u8 (1 put, 2 delete) | db varint | tid u64 LE |
//   [put: expire_at_ms i64 LE] | key length varint | key |
//   [put: value length varint | value]
// A log record is one commit (all its items share the commit TID); a
// snapshot record packs many keys, each with its own TID. Replay treats
// both alike: per key, the highest TID wins.
#ifndef COREWIRE_ENGINE_WAL_FORMAT_H_
#define COREWIRE_ENGINE_WAL_FORMAT_H_

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "corewire_engine.h"

namespace corewire {

constexpr uint8_t kItemPut = 1;
constexpr uint8_t kItemDelete = 2;
constexpr size_t kRecordFramingBytes = 8;
// A record holds at most one transaction, itself bounded by max_txn_bytes.
constexpr uint64_t kMaxRecordPayloadBytes = 0xFFFFFFF0u;

struct LogItem {
  uint8_t kind;
  uint32_t db;
  uint64_t tid;
  int64_t expire_at_ms;  // put only
  cw_slice key;
  cw_slice value;        // put only
};

inline size_t VarintBytes(uint64_t v) noexcept {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

inline uint8_t* PutVarint(uint8_t* out, uint64_t v) noexcept {
  while (v >= 0x80) {
    *out++ = static_cast<uint8_t>(v | 0x80);
    v >>= 7;
  }
  *out++ = static_cast<uint8_t>(v);
  return out;
}

inline uint8_t* PutFixed32(uint8_t* out, uint32_t v) noexcept {
  for (int i = 0; i < 4; ++i) *out++ = static_cast<uint8_t>(v >> (8 * i));
  return out;
}

inline uint8_t* PutFixed64(uint8_t* out, uint64_t v) noexcept {
  for (int i = 0; i < 8; ++i) *out++ = static_cast<uint8_t>(v >> (8 * i));
  return out;
}

inline uint32_t GetFixed32(const uint8_t* in) noexcept {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t{in[i]} << (8 * i);
  return v;
}

inline uint64_t GetFixed64(const uint8_t* in) noexcept {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{in[i]} << (8 * i);
  return v;
}

// Encoded size of one item.
inline size_t ItemBytes(uint8_t kind, uint32_t db, size_t key_bytes,
                        size_t value_bytes) noexcept {
  size_t n = 1 + VarintBytes(db) + 8 + VarintBytes(key_bytes) + key_bytes;
  if (kind == kItemPut) n += 8 + VarintBytes(value_bytes) + value_bytes;
  return n;
}

// Writes one item at out (which has ItemBytes() room); returns its end.
uint8_t* EncodeItem(uint8_t* out, const LogItem& item) noexcept;

// Fills in the framing of a record whose payload_bytes of payload already
// sit at record + 4: the length in front, the CRC behind.
void SealRecord(uint8_t* record, size_t payload_bytes) noexcept;

// Calls fn(const LogItem&) for each item of a payload. Returns false on a
// malformed payload (fn may have been called for earlier items).
template <typename Fn>
bool DecodeItems(const uint8_t* payload, size_t n, Fn&& fn) {
  const uint8_t* p = payload;
  const uint8_t* end = payload + n;
  auto varint = [&](uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64 && p < end; shift += 7) {
      uint8_t byte = *p++;
      *v |= uint64_t{byte & 0x7Fu} << shift;
      if ((byte & 0x80) == 0) return true;
    }
    return false;
  };
  if (p == end) return false;  // a record is never empty
  while (p < end) {
    LogItem item{};
    item.kind = *p++;
    if (item.kind != kItemPut && item.kind != kItemDelete) return false;
    uint64_t db = 0;
    if (!varint(&db) || db > 0xFFFFFFFFu) return false;
    item.db = static_cast<uint32_t>(db);
    if (end - p < 8) return false;
    item.tid = GetFixed64(p);
    p += 8;
    if (item.kind == kItemPut) {
      if (end - p < 8) return false;
      item.expire_at_ms = static_cast<int64_t>(GetFixed64(p));
      p += 8;
    }
    uint64_t key_bytes = 0;
    if (!varint(&key_bytes) || key_bytes > uint64_t(end - p)) return false;
    item.key = cw_slice{p, static_cast<size_t>(key_bytes)};
    p += key_bytes;
    if (item.kind == kItemPut) {
      uint64_t value_bytes = 0;
      if (!varint(&value_bytes) || value_bytes > uint64_t(end - p)) {
        return false;
      }
      item.value = cw_slice{p, static_cast<size_t>(value_bytes)};
      p += value_bytes;
    }
    fn(item);
  }
  return true;
}

// What ReadRecord found at an offset of a file image.
enum class RecordRead {
  kRecord,  // a whole record whose CRC matches
  kEnd,     // offset == size
  kBad,     // incomplete, or a length or CRC that does not hold
};

// Reads the record at data[offset, size). On kRecord sets the payload and
// the offset of the next record.
RecordRead ReadRecord(const uint8_t* data, size_t size, size_t offset,
                      const uint8_t** payload, size_t* payload_bytes,
                      size_t* next) noexcept;

// Whether any whole record with a matching CRC starts after a bad one at
// offset: true means the damage is in the middle of the file, not a torn
// tail. Looks at most max_crc_bytes of candidate payloads (true if it
// gives up, so an unclear case stops recovery rather than drop data).
bool ValidRecordAfter(const uint8_t* data, size_t size, size_t offset,
                      uint64_t max_crc_bytes) noexcept;

}  // namespace corewire

#endif  // COREWIRE_ENGINE_WAL_FORMAT_H_
