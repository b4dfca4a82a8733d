// Stable encodings and checksums of the records LogStore keeps in SQLite.
//
// The byte layouts here are part of the on-disk format (schema version 1):
// change them only together with a migration in schema.cpp.
// Pure functions; safe for concurrent use.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sidecar/raft/types.h"

namespace raftmeta::storage {

// ConfState: a format byte (1), then voters, learners and removed, each as a
// varint count followed by varint ids.
std::string encode_conf_state(const raft::ConfState& conf);
// nullopt on malformed input (unknown format, truncated, trailing bytes).
std::optional<raft::ConfState> decode_conf_state(std::string_view data);

// CRC32C over index, term and type (fixed 64/64/8-bit little-endian) followed
// by the payload, so a damaged header field is caught as well as a damaged
// payload.
std::uint32_t entry_crc(raft::Index index, raft::Term term, std::uint8_t type,
                        std::string_view data);
std::uint32_t hard_state_crc(const raft::HardState& hs);
// Over index, term, the encoded conf state, the data size and the data CRC.
std::uint32_t snapshot_meta_crc(raft::Index index, raft::Term term, std::string_view conf,
                                std::uint64_t data_size, std::uint32_t data_crc);

}  // namespace raftmeta::storage
