// Value types shared by the Raft core, its storage and the node runtime.
//
// These are plain values: no behaviour beyond comparison and the small
// encode/decode helpers for configuration changes. Every component that talks
// to the core (storage, transport, loops) uses exactly these types, so a field
// added here is a wire/storage change: update raft.proto, the SQLite schema and
// their tests together.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace raftmeta::raft {

using NodeId = std::uint64_t;
using Term = std::uint64_t;
using Index = std::uint64_t;

// Id 0 is never a member: it means "nobody" (no vote, no known leader).
inline constexpr NodeId kNoNode = 0;

enum class EntryType : std::uint8_t {
  kNormal = 0,      // application command (may be empty: a leader's no-op)
  kConfChange = 1,  // data is an encoded ConfChange
};

struct Entry {
  Term term = 0;
  Index index = 0;
  EntryType type = EntryType::kNormal;
  std::string data;

  bool operator==(const Entry&) const = default;
};

// What must be durable before a vote is cast or an append acknowledged.
struct HardState {
  Term term = 0;
  NodeId vote = kNoNode;
  Index commit = 0;

  bool operator==(const HardState&) const = default;
  bool empty() const { return term == 0 && vote == kNoNode && commit == 0; }
};

// The membership at some index. `removed` remembers every id that was ever
// removed so that it is refused forever (ids are never reused).
struct ConfState {
  std::vector<NodeId> voters;    // sorted, unique
  std::vector<NodeId> learners;  // sorted, unique, disjoint from voters
  std::vector<NodeId> removed;   // sorted, unique, disjoint from both

  bool operator==(const ConfState&) const = default;
};

enum class ConfChangeType : std::uint8_t {
  kAddLearner = 0,  // add a new id as a non-voting learner
  kPromote = 1,     // turn a learner into a voter
  kRemove = 2,      // remove a voter or learner; the id is never reusable
};

// One membership step. `context` is opaque to the core (the node stores the
// member's peer address there).
struct ConfChange {
  ConfChangeType type = ConfChangeType::kAddLearner;
  NodeId node_id = kNoNode;
  std::string context;

  bool operator==(const ConfChange&) const = default;
};

// Stable binary encoding of a ConfChange for an entry's data. decode returns
// nullopt on malformed input (never throws).
std::string encode_conf_change(const ConfChange& cc);
std::optional<ConfChange> decode_conf_change(std::string_view data);

struct SnapshotMeta {
  Index index = 0;
  Term term = 0;
  ConfState conf;

  bool operator==(const SnapshotMeta&) const = default;
};

// A state-machine snapshot at meta.index. `data` is opaque to the core.
struct Snapshot {
  SnapshotMeta meta;
  std::string data;

  bool empty() const { return meta.index == 0; }
  bool operator==(const Snapshot&) const = default;
};

}  // namespace raftmeta::raft
