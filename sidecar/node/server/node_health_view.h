// The bridge from the node's published NodeStatus to the health endpoints'
// MemberHealthView (see sidecar/health/member_health_view.h).
//
// The StatusProvider it returns only loads the node's atomically published
// status and asks the peer transport for its snapshot transfers (leaf locks
// held for a copy), so /status, /livez and /readyz answer while the loops are
// stuck.
#pragma once

#include <atomic>
#include <string_view>

#include "sidecar/health/member_health_view.h"
#include "sidecar/node/node.h"

namespace raftmeta::node::server {

// "leader", "follower", "pre_candidate", "candidate", "learner".
std::string_view role_name(raft::Role role);

// The view of one published status at `now_ns` (monotonic), with the leader's
// per-follower progress under "followers" and the leader's client address.
health::MemberHealthView health_view_of(const NodeStatus& status, std::int64_t now_ns);

// A provider over the node published in `node` (null while Node::start is
// still opening storage and replaying: then the view says "starting"). The
// atomic, and any node stored in it, must outlive every call.
health::StatusProvider status_provider_for(const std::atomic<Node*>* node, raft::NodeId id);

}  // namespace raftmeta::node::server
