// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), table-driven.
//
// Every log entry, the hard state and the snapshot carry one: SQLite checks its
// own page structure but never notices a flipped byte inside a blob.
// Pure functions; safe for concurrent use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace raftmeta::storage {

// Continues a CRC over more bytes: crc32c_extend(crc32c(a), b) == crc32c(a + b).
std::uint32_t crc32c_extend(std::uint32_t crc, const void* data, std::size_t size);

inline std::uint32_t crc32c(std::string_view data) {
  return crc32c_extend(0, data.data(), data.size());
}

}  // namespace raftmeta::storage
