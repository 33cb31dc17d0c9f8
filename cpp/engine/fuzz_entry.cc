// fuzz_entry.cc: C entry points for the wal_reader fuzz target
// (tests/fuzz). They run the record reader and item decoder that recovery
// uses (ReadRecord, DecodeItems, ValidRecordAfter) over a buffer in
// memory, so the fuzzer reaches them without a data dir. Not part of the
// engine ABI (include/corewire_engine.h); nothing else calls them.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "engine/crc32c.h"
#include "engine/wal_format.h"

namespace {

// The cap recovery.cc gives ValidRecordAfter (kMaxDamageScanBytes).
constexpr uint64_t kDamageScanBytes = uint64_t{256} << 20;

bool SameSlice(cw_slice a, cw_slice b) {
  return a.len == b.len && (a.len == 0 || std::memcmp(a.ptr, b.ptr, a.len) == 0);
}

// Whether an item survives EncodeItem then DecodeItems unchanged, in
// exactly ItemBytes() bytes.
bool RoundTrips(const corewire::LogItem& item) {
  const size_t n = corewire::ItemBytes(item.kind, item.db, item.key.len,
                                       item.value.len);
  std::vector<uint8_t> buffer(n);
  if (corewire::EncodeItem(buffer.data(), item) != buffer.data() + n) {
    return false;
  }
  size_t seen = 0;
  bool same = false;
  bool ok = corewire::DecodeItems(
      buffer.data(), n, [&](const corewire::LogItem& decoded) {
        ++seen;
        same = decoded.kind == item.kind && decoded.db == item.db &&
               decoded.tid == item.tid &&
               (item.kind != corewire::kItemPut ||
                decoded.expire_at_ms == item.expire_at_ms) &&
               SameSlice(decoded.key, item.key) &&
               (item.kind != corewire::kItemPut ||
                SameSlice(decoded.value, item.value));
      });
  return ok && seen == 1 && same;
}

}  // namespace

extern "C" {

// What cw_fuzz_read_log found in a file image.
typedef struct cw_fuzz_log_summary {
  uint64_t records;    // whole records with good CRCs from the start
  uint64_t valid_end;  // where they end
  // After them: 0 the end, 1 only zeros (unused preallocation), 2 a torn
  // tail (no good record after it), 3 damage with a good record after it.
  uint32_t tail;
  // Index of the first good-CRC record whose payload DecodeItems refused,
  // or UINT64_MAX.
  uint64_t malformed_record;
  uint64_t items;
  // Number of items that did not survive EncodeItem + DecodeItems.
  uint64_t roundtrip_failures;
} cw_fuzz_log_summary;

typedef void (*cw_fuzz_item_fn)(void* ctx, uint8_t kind, uint32_t db,
                                uint64_t tid, int64_t expire_at_ms,
                                const uint8_t* key, size_t key_len,
                                const uint8_t* value, size_t value_len);

uint32_t cw_fuzz_crc32c(const uint8_t* data, size_t n) {
  return corewire::Crc32c(data, n);
}

// Reads a log or snapshot part image as recovery does: records up to the
// first bad one (VerifyFile), the kind of damage there, and every item of
// the good records (ApplyChunk's DecodeItems), passed to fn, decoding
// stopping after the first malformed payload. Returns 0, or -1 if an
// exception escaped (it should not).
int cw_fuzz_read_log(const uint8_t* data, size_t size, cw_fuzz_item_fn fn,
                     void* ctx, cw_fuzz_log_summary* out) {
  try {
    cw_fuzz_log_summary summary{};
    summary.malformed_record = UINT64_MAX;
    size_t offset = 0;
    corewire::RecordRead read = corewire::RecordRead::kEnd;
    for (;;) {
      const uint8_t* payload = nullptr;
      size_t payload_bytes = 0;
      size_t next = 0;
      read = corewire::ReadRecord(data, size, offset, &payload, &payload_bytes,
                                  &next);
      if (read != corewire::RecordRead::kRecord) break;
      if (next <= offset || next > size || payload != data + offset + 4 ||
          payload_bytes + corewire::kRecordFramingBytes != next - offset) {
        return -1;  // ReadRecord broke its contract
      }
      if (summary.malformed_record == UINT64_MAX) {
        bool well_formed = corewire::DecodeItems(
            payload, payload_bytes, [&](const corewire::LogItem& item) {
              ++summary.items;
              if (!RoundTrips(item)) ++summary.roundtrip_failures;
              fn(ctx, item.kind, item.db, item.tid, item.expire_at_ms,
                 item.key.ptr, item.key.len, item.value.ptr, item.value.len);
            });
        if (!well_formed) summary.malformed_record = summary.records;
      }
      ++summary.records;
      offset = next;
    }
    summary.valid_end = offset;
    if (read == corewire::RecordRead::kEnd) {
      summary.tail = 0;
    } else if (std::all_of(data + offset, data + size,
                           [](uint8_t b) { return b == 0; })) {
      summary.tail = 1;
    } else {
      summary.tail = corewire::ValidRecordAfter(data, size, offset,
                                                kDamageScanBytes)
                         ? 3
                         : 2;
    }
    *out = summary;
    return 0;
  } catch (...) {
    return -1;
  }
}

}  // extern "C"
