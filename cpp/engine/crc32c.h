// crc32c.h: CRC-32C (Castagnoli), the checksum of every log and snapshot
// record (internal). Uses the SSE4.2 instruction when the CPU has it.
#ifndef COREWIRE_ENGINE_CRC32C_H_
#define COREWIRE_ENGINE_CRC32C_H_

#include <cstddef>
#include <cstdint>

namespace corewire {

// Returns the CRC-32C of data[0, n) continuing from crc (0 to start).
uint32_t Crc32cExtend(uint32_t crc, const uint8_t* data, size_t n) noexcept;

inline uint32_t Crc32c(const uint8_t* data, size_t n) noexcept {
  return Crc32cExtend(0, data, n);
}

}  // namespace corewire

#endif  // COREWIRE_ENGINE_CRC32C_H_
