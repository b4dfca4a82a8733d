// Messages exchanged between Raft cores (and a few local-only inputs).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sidecar/raft/types.h"

namespace raftmeta::raft {

enum class MessageType : std::uint8_t {
  kAppend = 0,          // leader -> follower: entries after (log_term, index)
  kAppendResponse = 1,  // follower -> leader: index = last matching index, or reject + hint
  kVote = 2,
  kVoteResponse = 3,
  kPreVote = 4,
  kPreVoteResponse = 5,
  kHeartbeat = 6,            // leader -> follower: commit (capped by match), context = read round
  kHeartbeatResponse = 7,    // follower -> leader: echoes context
  kSnapshot = 8,             // leader -> follower: InstallSnapshot (snapshot set)
  kTimeoutNow = 9,           // leader -> transferee: campaign now (leader transfer)
  kReadIndex = 10,           // follower -> leader: context of a read request
  kReadIndexResponse = 11,   // leader -> follower: index for that context (reject if refused)
  kTransferLeader = 12,      // follower -> leader: please transfer to `from`
};

std::string_view to_string(MessageType type);

// True for the responses a member sends about its own log or vote; these may
// only leave once the Ready that produced them is durable.
bool is_response_after_persist(MessageType type);

struct Message {
  MessageType type = MessageType::kAppend;
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  Term term = 0;        // sender's term (0 only for local messages)
  Term log_term = 0;    // kAppend: term at `index`; kVote/kPreVote: term of last entry
  Index index = 0;      // kAppend: index before entries; responses: see above
  std::vector<Entry> entries;
  Index commit = 0;
  bool reject = false;
  Index reject_hint = 0;     // kAppendResponse reject: follower's last index (fast backtracking)
  Term reject_hint_term = 0; // kAppendResponse reject: term at reject_hint on the follower
  std::string context;       // kReadIndex*, kHeartbeat*: opaque request context / round
  std::optional<Snapshot> snapshot;  // kSnapshot only

  bool operator==(const Message&) const = default;
};

}  // namespace raftmeta::raft
