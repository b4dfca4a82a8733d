// SnapshotCodec: the State <-> raftmeta.v1.StateSnapshot conversion.
//
// encode_snapshot() lists every table in key order and serializes
// deterministically, so members at the same revision produce identical bytes.
// The watch history is not part of a snapshot: a decoded State's history is
// complete from revision + 1 on.
//
// THREAD SAFETY: pure functions over values.
#pragma once

#include <string>
#include <string_view>

#include "sidecar/node/state/state.h"

namespace raftmeta::state {

inline constexpr std::uint32_t kSnapshotFormatVersion = 1;

std::string encode_snapshot(const State& state);

// Fills *out from `data`. On malformed input (unparsable, unknown format,
// duplicate or inconsistent records) returns false with *error and leaves
// *out untouched.
bool decode_snapshot(std::string_view data, State* out, std::string* error);

}  // namespace raftmeta::state
