// What the leader knows about one member's log (etcd's tracker.Progress), and
// the window of appends in flight to it (flow control).
//
// Owned by the leader's Raft; meaningless on other roles.
#pragma once

#include <cstdint>
#include <deque>
#include <string_view>

#include "sidecar/raft/types.h"

namespace raftmeta::raft {

// Appends sent but not yet acknowledged, oldest first, bounded by count and by
// bytes. A single message larger than max_bytes is still let through when the
// window is empty (otherwise it could never be sent).
class Inflights {
 public:
  Inflights(std::size_t max_msgs, std::uint64_t max_bytes)
      : max_msgs_(max_msgs), max_bytes_(max_bytes) {}

  // Records an append whose last entry is `last` and whose data is `bytes`.
  void add(Index last, std::uint64_t bytes);
  // Forgets every append whose last entry is <= index (acknowledged).
  void free_le(Index index);
  void free_first_one();
  void reset();
  bool full() const;
  std::size_t count() const { return window_.size(); }
  std::uint64_t bytes() const { return bytes_; }

 private:
  struct Flight {
    Index last;
    std::uint64_t bytes;
  };
  std::size_t max_msgs_;
  std::uint64_t max_bytes_;
  std::deque<Flight> window_;
  std::uint64_t bytes_ = 0;
};

enum class ProgressState : std::uint8_t {
  kProbe,      // one append at a time until the follower's log position is known
  kReplicate,  // streaming appends optimistically, bounded by Inflights
  kSnapshot,   // a snapshot is on its way; no appends until it is acknowledged
};
std::string_view to_string(ProgressState state);

class Progress {
 public:
  Progress(Index next, std::size_t max_inflight_msgs, std::uint64_t max_inflight_bytes, bool voter)
      : next(next), voter(voter), inflights(max_inflight_msgs, max_inflight_bytes) {}

  void become_probe();
  void become_replicate();
  void become_snapshot(Index snapshot_index);

  // The follower acknowledged its log matches up to n. Returns false if the
  // acknowledgement is stale (n <= match).
  bool maybe_update(Index n);
  // The follower rejected an append after `rejected`; `hint` is the highest
  // index that may still match. Returns false if the rejection is stale.
  bool maybe_decrease_to(Index rejected, Index hint);
  // An append with entries up to `last` (bytes of data) was sent.
  void sent_entries(Index last, std::uint64_t bytes, bool had_entries);
  // No more appends to this member until an acknowledgement frees the window.
  bool is_paused() const;

  Index match = 0;
  Index next = 1;
  ProgressState state = ProgressState::kProbe;
  Index pending_snapshot = 0;  // kSnapshot: index of the snapshot in flight
  bool probe_sent = false;     // kProbe: an append is outstanding
  bool recent_active = false;  // heard from within the last election timeout
  bool voter = true;
  std::uint64_t acked_round = 0;  // newest heartbeat round acknowledged this term
  // The heartbeat-tick round current when a heartbeat answer last let a lost
  // append be resent (one resend per tick; Raft::handle_heartbeat_response).
  std::uint64_t resend_round = 0;
  bool has_bootstrap_conf = false;  // acknowledged the bootstrap configuration
  // Leaving leader: first heartbeat round that told this member the commit
  // index covers our own removal, and whether it acknowledged that round.
  std::uint64_t removal_round = 0;
  bool knows_removal = false;
  Inflights inflights;
};

}  // namespace raftmeta::raft
