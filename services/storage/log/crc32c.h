#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ensemble::storage {

// CRC-32C (Castagnoli, reflected polynomial 0x82f63b78), the checksum LevelDB
// and iSCSI use. Crc32c("123456789") == 0xe3069283.
//
// Extend(crc, data) continues a checksum: Extend(Crc32c(a), b) == Crc32c(a + b).
uint32_t Crc32cExtend(uint32_t crc, const char* data, size_t n);

inline uint32_t Crc32c(std::string_view data) { return Crc32cExtend(0, data.data(), data.size()); }

}  // namespace ensemble::storage
