// ConfChange encoding and the to_string helpers of the Raft core's value types.
#include "sidecar/raft/types.h"

#include "sidecar/raft/message.h"
#include "sidecar/raft/raw_node.h"

namespace raftmeta::raft {
namespace {

// Layout (version 1), all integers little-endian:
//   u8 version(=1) | u8 type | u64 node_id | u32 context length | context bytes
constexpr std::uint8_t kConfChangeVersion = 1;
constexpr std::size_t kConfChangeHeader = 1 + 1 + 8 + 4;

void put_le(std::string* out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::uint64_t get_le(std::string_view in, std::size_t pos, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) {
    v |= static_cast<std::uint64_t>(static_cast<unsigned char>(in[pos + i])) << (8 * i);
  }
  return v;
}

}  // namespace

std::string encode_conf_change(const ConfChange& cc) {
  std::string out;
  out.reserve(kConfChangeHeader + cc.context.size());
  out.push_back(static_cast<char>(kConfChangeVersion));
  out.push_back(static_cast<char>(cc.type));
  put_le(&out, cc.node_id, 8);
  put_le(&out, cc.context.size(), 4);
  out.append(cc.context);
  return out;
}

std::optional<ConfChange> decode_conf_change(std::string_view data) {
  if (data.size() < kConfChangeHeader) return std::nullopt;
  if (static_cast<std::uint8_t>(data[0]) != kConfChangeVersion) return std::nullopt;
  const auto type = static_cast<std::uint8_t>(data[1]);
  if (type > static_cast<std::uint8_t>(ConfChangeType::kRemove)) return std::nullopt;
  const std::uint64_t len = get_le(data, 10, 4);
  if (data.size() - kConfChangeHeader != len) return std::nullopt;
  ConfChange cc;
  cc.type = static_cast<ConfChangeType>(type);
  cc.node_id = get_le(data, 2, 8);
  cc.context.assign(data.substr(kConfChangeHeader));
  return cc;
}

std::string_view to_string(MessageType type) {
  switch (type) {
    case MessageType::kAppend:
      return "Append";
    case MessageType::kAppendResponse:
      return "AppendResponse";
    case MessageType::kVote:
      return "Vote";
    case MessageType::kVoteResponse:
      return "VoteResponse";
    case MessageType::kPreVote:
      return "PreVote";
    case MessageType::kPreVoteResponse:
      return "PreVoteResponse";
    case MessageType::kHeartbeat:
      return "Heartbeat";
    case MessageType::kHeartbeatResponse:
      return "HeartbeatResponse";
    case MessageType::kSnapshot:
      return "Snapshot";
    case MessageType::kTimeoutNow:
      return "TimeoutNow";
    case MessageType::kReadIndex:
      return "ReadIndex";
    case MessageType::kReadIndexResponse:
      return "ReadIndexResponse";
    case MessageType::kTransferLeader:
      return "TransferLeader";
  }
  return "Unknown";
}

bool is_response_after_persist(MessageType type) {
  // Votes promise the vote (and term) are durable; append responses promise
  // the entries are. Pre-votes promise nothing, but they carry the term and
  // must not overtake the vote they might follow, so they wait too (harmless).
  switch (type) {
    case MessageType::kAppendResponse:
    case MessageType::kVoteResponse:
    case MessageType::kPreVoteResponse:
      return true;
    default:
      return false;
  }
}

std::string_view to_string(Role role) {
  switch (role) {
    case Role::kFollower:
      return "follower";
    case Role::kPreCandidate:
      return "pre-candidate";
    case Role::kCandidate:
      return "candidate";
    case Role::kLeader:
      return "leader";
    case Role::kLearner:
      return "learner";
  }
  return "unknown";
}

std::string_view to_string(ProposeStatus status) {
  switch (status) {
    case ProposeStatus::kOk:
      return "ok";
    case ProposeStatus::kNotLeader:
      return "not leader";
    case ProposeStatus::kDropped:
      return "dropped";
    case ProposeStatus::kTransferring:
      return "leader transfer in flight";
    case ProposeStatus::kConfPending:
      return "configuration change pending";
    case ProposeStatus::kInvalid:
      return "invalid";
  }
  return "unknown";
}

}  // namespace raftmeta::raft
