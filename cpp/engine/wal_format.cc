#include "engine/wal_format.h"

#include "engine/crc32c.h"

namespace corewire {

uint8_t* EncodeItem(uint8_t* out, const LogItem& item) noexcept {
  *out++ = item.kind;
  out = PutVarint(out, item.db);
  out = PutFixed64(out, item.tid);
  if (item.kind == kItemPut) {
    out = PutFixed64(out, static_cast<uint64_t>(item.expire_at_ms));
  }
  out = PutVarint(out, item.key.len);
  if (item.key.len != 0) std::memcpy(out, item.key.ptr, item.key.len);
  out += item.key.len;
  if (item.kind == kItemPut) {
    out = PutVarint(out, item.value.len);
    if (item.value.len != 0) std::memcpy(out, item.value.ptr, item.value.len);
    out += item.value.len;
  }
  return out;
}

void SealRecord(uint8_t* record, size_t payload_bytes) noexcept {
  PutFixed32(record, static_cast<uint32_t>(payload_bytes));
  uint32_t crc = Crc32c(record, 4 + payload_bytes);
  PutFixed32(record + 4 + payload_bytes, crc);
}

RecordRead ReadRecord(const uint8_t* data, size_t size, size_t offset,
                      const uint8_t** payload, size_t* payload_bytes,
                      size_t* next) noexcept {
  if (offset == size) return RecordRead::kEnd;
  if (size - offset < kRecordFramingBytes) return RecordRead::kBad;
  uint32_t length = GetFixed32(data + offset);
  if (length == 0 || length > size - offset - kRecordFramingBytes) {
    return RecordRead::kBad;
  }
  uint32_t stored = GetFixed32(data + offset + 4 + length);
  if (Crc32c(data + offset, 4 + size_t{length}) != stored) {
    return RecordRead::kBad;
  }
  *payload = data + offset + 4;
  *payload_bytes = length;
  *next = offset + kRecordFramingBytes + length;
  return RecordRead::kRecord;
}

bool ValidRecordAfter(const uint8_t* data, size_t size, size_t offset,
                      uint64_t max_crc_bytes) noexcept {
  uint64_t crc_bytes = 0;
  for (size_t at = offset + 1; at + kRecordFramingBytes < size; ++at) {
    uint32_t length = GetFixed32(data + at);
    if (length == 0 || length > size - at - kRecordFramingBytes) continue;
    uint8_t kind = data[at + 4];  // a payload starts with an item kind
    if (kind != kItemPut && kind != kItemDelete) continue;
    crc_bytes += length;
    if (crc_bytes > max_crc_bytes) return true;
    if (Crc32c(data + at, 4 + size_t{length}) ==
        GetFixed32(data + at + 4 + length)) {
      return true;
    }
  }
  return false;
}

}  // namespace corewire
