// The data of a Raft snapshot as the node stores it: the state machine's own
// snapshot plus the members' peer addresses at that index (so a member that
// restarts from a snapshot, or a learner that installs one, knows where its
// peers are). Encoded as raftmeta.v1.NodeSnapshot (raft.proto).
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "sidecar/raft/types.h"

namespace raftmeta::node {

struct NodeSnapshotData {
  std::map<raft::NodeId, std::string> peer_addresses;
  // Applier::snapshot(); empty for the bootstrap snapshot (the empty state a
  // fresh Applier already holds: nothing to restore).
  std::string state;
};

std::string encode_node_snapshot(const NodeSnapshotData& data);
// False (with *error) on malformed data; never throws.
bool decode_node_snapshot(std::string_view bytes, NodeSnapshotData* out, std::string* error);

}  // namespace raftmeta::node
