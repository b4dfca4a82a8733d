// ReadIndex bookkeeping on the leader: read requests waiting for the leader's
// first commit in its term, and requests waiting for a quorum to acknowledge a
// heartbeat round started after they arrived.
//
// A request registered while round r is the next round to start is safe to
// answer with its recorded commit index once a quorum has acknowledged round
// r or later in the current term: each of those acknowledgements was given
// after the request arrived, so no other leader can have committed anything
// the recorded index does not cover.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sidecar/raft/types.h"

namespace raftmeta::raft {

struct PendingRead {
  std::string context;
  NodeId from = kNoNode;  // who asked (the leader itself for local requests)
  Index index = 0;        // the commit index when the request was registered
  std::uint64_t round = 0;
};

// Heartbeat round numbers travel in Message::context as 8 little-endian bytes.
std::string encode_round(std::uint64_t round);
std::optional<std::uint64_t> decode_round(std::string_view context);

class ReadOnly {
 public:
  // Before the leader has committed an entry of its term.
  void wait_for_commit(PendingRead read) { waiting_commit_.push_back(std::move(read)); }
  std::vector<PendingRead> take_waiting_for_commit();

  // read.round and read.index are set.
  void wait_for_round(PendingRead read) { waiting_round_.push_back(std::move(read)); }
  // Removes and returns the reads whose round <= confirmed_round, in order.
  std::vector<PendingRead> release(std::uint64_t confirmed_round);

  // Everything still pending (leadership lost): the caller fails them.
  std::vector<PendingRead> take_all();
  std::size_t size() const { return waiting_commit_.size() + waiting_round_.size(); }

 private:
  std::deque<PendingRead> waiting_commit_;
  std::deque<PendingRead> waiting_round_;  // non-decreasing round
};

}  // namespace raftmeta::raft
