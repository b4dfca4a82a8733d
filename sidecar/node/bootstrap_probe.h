// The bootstrap probe's decision: before a member with an empty data
// directory bootstraps a new cluster from --initial-members, it asks its
// initial peers (Transport::hello, bounded by kBootstrapProbeTimeout; peers
// that do not answer are skipped) which incarnation they have on record for
// its id. A peer records a member's incarnation the first time it receives
// peer traffic from it, so a peer that knows this id at all has heard from an
// earlier life of this member: the cluster exists and this member took part
// in it, with a vote and a log it has now forgotten. Bootstrapping again
// would start a second cluster under the same id; it is refused.
//
// A fresh cluster whose other members started earlier and already elected a
// leader does not refuse: none of them has heard from this member yet (it
// sends nothing before its log exists).
//
// The probe is the early, clear error. The safety net is on the receive path:
// peers refuse batches from this id with another incarnation
// (PeerIncarnationBook), so a member that bootstrapped anyway (its peers were
// unreachable during the probe) never takes part.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "sidecar/node/transport.h"

namespace raftmeta::node {

// How long the probe waits for all initial peers together.
inline constexpr std::chrono::milliseconds kBootstrapProbeTimeout{3000};

// Empty when bootstrapping may proceed; otherwise the reason to refuse, for
// the operator (what happened and what to do).
std::string bootstrap_refusal(const std::vector<HelloAnswer>& answers, raft::NodeId self,
                              std::uint64_t incarnation);

}  // namespace raftmeta::node
