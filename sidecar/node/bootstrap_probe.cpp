#include "sidecar/node/bootstrap_probe.h"

#include "sidecar/node/member_incarnation.h"

namespace raftmeta::node {

std::string bootstrap_refusal(const std::vector<HelloAnswer>& answers, raft::NodeId self,
                              std::uint64_t incarnation) {
  for (const HelloAnswer& a : answers) {
    if (a.known_incarnation == 0 || a.known_incarnation == incarnation) continue;
    const std::string id = std::to_string(self);
    return "refusing to bootstrap a new cluster: member " + std::to_string(a.peer) +
           " already knows member " + id + " (incarnation " +
           incarnation_text(a.known_incarnation) + "), so this cluster exists and member " + id +
           " took part in it, but this data directory is empty (wiped or replaced). Starting "
           "again would forget its vote and log. Remove member " +
           id + " (raftmetactl member remove --id " + id +
           ") and add this node back as a new member with a new id (raftmetactl member add), "
           "started with --join";
  }
  return {};
}

}  // namespace raftmeta::node
