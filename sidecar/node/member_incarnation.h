// A member's incarnation: a random non-zero 64-bit number stamped in
// <data_dir>/incarnation when the member's Raft log is created, next to the
// cluster id and member id the LogStore stamps. It names one life of one
// data directory: a member whose directory was wiped and that is started
// again under its old id gets a new incarnation, which its peers (who
// remember the old one in their PeerIncarnationBook) refuse. Peer batches
// carry the sender's incarnation (raft.proto RaftBatch.from_incarnation).
//
// Rules (Node::start applies them):
//   * the file is written, fresh, exactly when the Raft log is created
//     (bootstrap or join), before the log exists: a start that fails later
//     leaves no log, so the next start creates a new incarnation again and
//     nobody has heard of the failed one (nothing is sent before the log
//     exists);
//   * a data directory whose log exists but has no incarnation file (written
//     before incarnations existed) gets one stamped on that start;
//   * an unreadable or corrupt file refuses the start.
//
// Thread safety: free functions; only Node::start calls them, once.
#pragma once

#include <cstdint>
#include <string>

#include "sidecar/node/durable_file.h"
#include "sidecar/raft/types.h"

namespace raftmeta::node {

// A random non-zero incarnation (std::random_device).
std::uint64_t new_incarnation();

// <data_dir>/incarnation.
std::string incarnation_path(const std::string& data_dir);

// Durably writes `incarnation` for member `id` (replacing any file).
bool stamp_incarnation(const std::string& data_dir, raft::NodeId id, std::uint64_t incarnation,
                       std::string* error);

// Reads the stamped incarnation. kError also when the file names another
// member id than `id`.
DurableReadResult read_incarnation(const std::string& data_dir, raft::NodeId id,
                                   std::uint64_t* incarnation, std::string* error);

// "0123456789abcdef": how incarnations appear in files and messages.
std::string incarnation_text(std::uint64_t incarnation);

}  // namespace raftmeta::node
