// Per-member replication progress and flow control (see progress.h).
#include "sidecar/raft/progress.h"

#include <algorithm>

namespace raftmeta::raft {

void Inflights::add(Index last, std::uint64_t bytes) {
  window_.push_back({last, bytes});
  bytes_ += bytes;
}

void Inflights::free_le(Index index) {
  while (!window_.empty() && window_.front().last <= index) {
    bytes_ -= window_.front().bytes;
    window_.pop_front();
  }
}

void Inflights::free_first_one() {
  if (window_.empty()) return;
  bytes_ -= window_.front().bytes;
  window_.pop_front();
}

void Inflights::reset() {
  window_.clear();
  bytes_ = 0;
}

bool Inflights::full() const {
  if (window_.size() >= max_msgs_) return true;
  return max_bytes_ > 0 && !window_.empty() && bytes_ >= max_bytes_;
}

std::string_view to_string(ProgressState state) {
  switch (state) {
    case ProgressState::kProbe:
      return "probe";
    case ProgressState::kReplicate:
      return "replicate";
    case ProgressState::kSnapshot:
      return "snapshot";
  }
  return "unknown";
}

void Progress::become_probe() {
  if (state == ProgressState::kSnapshot) {
    // The snapshot may have arrived: probe from after it.
    next = std::max(match + 1, pending_snapshot + 1);
  } else {
    next = match + 1;
  }
  state = ProgressState::kProbe;
  pending_snapshot = 0;
  probe_sent = false;
  inflights.reset();
}

void Progress::become_replicate() {
  state = ProgressState::kReplicate;
  next = match + 1;
  pending_snapshot = 0;
  probe_sent = false;
  inflights.reset();
}

void Progress::become_snapshot(Index snapshot_index) {
  state = ProgressState::kSnapshot;
  pending_snapshot = snapshot_index;
  probe_sent = false;
  inflights.reset();
}

bool Progress::maybe_update(Index n) {
  bool updated = false;
  if (n > match) {
    match = n;
    updated = true;
    probe_sent = false;
  }
  next = std::max(next, n + 1);
  return updated;
}

bool Progress::maybe_decrease_to(Index rejected, Index hint) {
  if (state == ProgressState::kReplicate) {
    if (rejected <= match) return false;  // stale: already known to match there
    next = match + 1;
    return true;
  }
  // Probe or snapshot: only the answer to the append we sent counts.
  if (next == 0 || next - 1 != rejected) return false;
  next = std::max(std::min(rejected, hint + 1), match + 1);
  probe_sent = false;
  return true;
}

void Progress::sent_entries(Index last, std::uint64_t bytes, bool had_entries) {
  switch (state) {
    case ProgressState::kReplicate:
      if (had_entries) {
        next = last + 1;
        inflights.add(last, bytes);
      }
      break;
    case ProgressState::kProbe:
      probe_sent = true;
      break;
    case ProgressState::kSnapshot:
      break;
  }
}

bool Progress::is_paused() const {
  switch (state) {
    case ProgressState::kProbe:
      return probe_sent;
    case ProgressState::kReplicate:
      return inflights.full();
    case ProgressState::kSnapshot:
      return true;
  }
  return true;
}

}  // namespace raftmeta::raft
