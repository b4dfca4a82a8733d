#include "sidecar/node/node_snapshot.h"

#include "raftmeta/v1/raft.pb.h"

namespace raftmeta::node {

std::string encode_node_snapshot(const NodeSnapshotData& data) {
  raftmeta::v1::NodeSnapshot pb;
  for (const auto& [id, address] : data.peer_addresses)
    (*pb.mutable_peer_addresses())[id] = address;
  pb.set_state(data.state);
  return pb.SerializeAsString();
}

bool decode_node_snapshot(std::string_view bytes, NodeSnapshotData* out, std::string* error) {
  raftmeta::v1::NodeSnapshot pb;
  if (!pb.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    *error = "snapshot data is not a raftmeta.v1.NodeSnapshot";
    return false;
  }
  out->peer_addresses.clear();
  for (const auto& [id, address] : pb.peer_addresses()) out->peer_addresses[id] = address;
  out->state = pb.state();
  return true;
}

}  // namespace raftmeta::node
