// KvStateMachine: the simulator's application, a tiny deterministic key-value
// store fed by committed entries. Besides the values it keeps a digest chained
// over every applied entry, so two members at the same applied index hold the
// same state exactly when their digests agree (the state-machine safety check).
// Its whole state serializes into Snapshot::data.
//
// Thread safety: none; owned by one SimNode.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "sidecar/raft/types.h"

namespace raftmeta::raft::sim {

// A write command as carried in Entry::data: "w<write id>:<key>".
struct WriteCommand {
  std::uint64_t write_id = 0;
  std::uint32_t key = 0;
};
std::string encode_write(const WriteCommand& w);
std::optional<WriteCommand> decode_write(std::string_view data);

// 64-bit FNV-1a: content fingerprint of an entry (type and data).
std::uint64_t entry_fingerprint(const Entry& e);

class KvStateMachine {
 public:
  // Applies the entry at applied()+1. Returns false (state unchanged) if the
  // index is not the next one.
  bool apply(const Entry& e);

  Index applied() const { return applied_; }
  std::uint64_t digest() const { return digest_; }
  // The id of the last write to `key` (0 if none).
  std::uint64_t value(std::uint32_t key) const;

  std::string serialize() const;
  // Replaces the state with a serialized one; false (state unchanged) if malformed.
  bool restore(std::string_view data);

 private:
  Index applied_ = 0;
  std::uint64_t digest_ = 0;
  std::map<std::uint32_t, std::uint64_t> values_;
};

}  // namespace raftmeta::raft::sim
