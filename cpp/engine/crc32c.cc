#include "engine/crc32c.h"

#include <cstring>

namespace corewire {

namespace {

constexpr uint32_t kPolynomial = 0x82F63B78u;  // reflected Castagnoli

struct Table {
  uint32_t entries[256];
  Table() {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t crc = i;
      for (int bit = 0; bit < 8; ++bit) {
        crc = (crc >> 1) ^ ((crc & 1) ? kPolynomial : 0);
      }
      entries[i] = crc;
    }
  }
};

uint32_t Software(uint32_t crc, const uint8_t* data, size_t n) noexcept {
  static const Table table;
  for (size_t i = 0; i < n; ++i) {
    crc = table.entries[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
  }
  return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t Hardware(uint32_t crc,
                                                    const uint8_t* data,
                                                    size_t n) noexcept {
  uint64_t crc64 = crc;
  while (n >= 8) {
    uint64_t word;
    std::memcpy(&word, data, 8);
    crc64 = __builtin_ia32_crc32di(crc64, word);
    data += 8;
    n -= 8;
  }
  uint32_t crc32 = static_cast<uint32_t>(crc64);
  while (n > 0) {
    crc32 = __builtin_ia32_crc32qi(crc32, *data++);
    --n;
  }
  return crc32;
}

bool HasHardware() noexcept {
  static const bool has = __builtin_cpu_supports("sse4.2");
  return has;
}
#endif

}  // namespace

uint32_t Crc32cExtend(uint32_t crc, const uint8_t* data, size_t n) noexcept {
  crc = ~crc;
#if defined(__x86_64__)
  crc = HasHardware() ? Hardware(crc, data, n) : Software(crc, data, n);
#else
  crc = Software(crc, data, n);
#endif
  return ~crc;
}

}  // namespace corewire
