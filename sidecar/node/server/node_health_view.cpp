#include "sidecar/node/server/node_health_view.h"

#include "sidecar/health/progress.h"

namespace raftmeta::node::server {

std::string_view role_name(raft::Role role) {
  switch (role) {
    case raft::Role::kLeader:
      return "leader";
    case raft::Role::kFollower:
      return "follower";
    case raft::Role::kPreCandidate:
      return "pre_candidate";
    case raft::Role::kCandidate:
      return "candidate";
    case raft::Role::kLearner:
      return "learner";
  }
  return "unknown";
}

health::MemberHealthView health_view_of(const NodeStatus& s, std::int64_t now_ns) {
  health::MemberHealthView v;
  v.id = s.id;
  v.role = std::string(role_name(s.role));
  v.term = s.term;
  v.leader = s.leader_id;
  v.commit_index = s.commit;
  v.applied_index = s.applied;
  // A follower's commit index is what it learned from the leader.
  v.leader_commit = s.commit;
  v.last_index = s.last_index;
  v.snapshot_index = s.snapshot_index;
  v.voter = false;
  nlohmann::json members = nlohmann::json::array();
  nlohmann::json followers = nlohmann::json::array();
  for (const MemberStatus& m : s.members) {
    if (m.id == s.id) v.voter = m.voter;
    members.push_back({{"id", m.id},
                       {"peer_address", m.peer_address},
                       {"client_address", m.client_address},
                       {"voter", m.voter}});
    if (s.role == raft::Role::kLeader && m.id != s.id) {
      followers.push_back(
          {{"id", m.id},
           {"voter", m.voter},
           {"match", m.match},
           {"next", m.next},
           {"state", m.progress_state},
           {"replicating", m.progress_state == "replicate"},
           {"recent_active", m.recent_active},
           {"last_contact_ms",
            m.last_contact_ns == 0 ? -1 : (now_ns - m.last_contact_ns) / 1'000'000}});
    }
  }
  v.extra["cluster_id"] = s.cluster_id;
  v.extra["leader_client_address"] = s.leader_client_address;
  v.extra["members"] = std::move(members);
  if (s.role == raft::Role::kLeader) v.extra["followers"] = std::move(followers);
  v.extra["transferring_to"] = s.transferring_to;
  v.extra["lease_valid"] = s.lease_valid;
  v.extra["stepping_aside"] = s.stepping_aside;
  v.extra["started"] = s.started;
  v.extra["status_age_ms"] = s.published_ns == 0 ? -1 : (now_ns - s.published_ns) / 1'000'000;
  return v;
}

health::StatusProvider status_provider_for(const std::atomic<Node*>* node, raft::NodeId id) {
  return [node, id] {
    const Node* n = node->load(std::memory_order_acquire);
    std::shared_ptr<const NodeStatus> status = n != nullptr ? n->status() : nullptr;
    if (!status) {
      health::MemberHealthView starting;
      starting.id = id;
      starting.role = "starting";
      return starting;
    }
    const std::int64_t now_ns = health::monotonic_ns();
    health::MemberHealthView view = health_view_of(*status, now_ns);
    // InstallSnapshot progress as the peer transport counts it (its leaf
    // locks only; never a loop's).
    nlohmann::json transfers = nlohmann::json::array();
    for (const SnapshotTransfer& t : n->snapshot_transfers()) {
      transfers.push_back(
          {{"peer", t.peer},
           {"direction", t.outgoing ? "sending" : "receiving"},
           {"snapshot_index", t.index},
           {"bytes_done", t.bytes_done},
           {"bytes_total", t.bytes_total},
           {"finished", t.finished},
           {"last_chunk_ms", t.updated_ns == 0 ? -1 : (now_ns - t.updated_ns) / 1'000'000}});
    }
    view.extra["snapshot_transfers"] = std::move(transfers);
    return view;
  };
}

}  // namespace raftmeta::node::server
