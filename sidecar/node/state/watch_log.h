// WatchLog: the bounded history of recent changes that Watch streams read.
//
// One raftmeta.v1.WatchEvent per revision that changed something (revisions
// whose command failed or changed nothing have none). It lives inside the
// published State, so a Watch handler reads it with one atomic load of the
// State and never blocks (or is blocked by) the apply thread. The history is
// complete from first_revision() on; older events were dropped to respect
// the capacity ("compacted"), and a restore from a snapshot at index I starts
// a history that is complete from I + 1.
//
// Not part of the snapshot (the history of a member is its own); every
// member that applied the same entries holds the same events.
// THREAD SAFETY: a value with structural sharing, like State.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "raftmeta/v1/metadata.pb.h"
#include "sidecar/node/state/persistent_map.h"

namespace raftmeta::state {

struct WatchRead {
  // True when `from_revision` is older than the history: the caller must
  // re-read and resume from compact_revision or later.
  bool compacted = false;
  std::uint64_t compact_revision = 0;  // oldest revision that can be watched
  std::vector<std::shared_ptr<const raftmeta::v1::WatchEvent>> events;  // ascending
};

class WatchLog {
 public:
  // Records the changes applied at `revision` (ascending across calls) and
  // drops the oldest events beyond `capacity`.
  void append(std::uint64_t revision, std::vector<raftmeta::v1::Change> changes,
              std::size_t capacity);

  // Events with revision >= from_revision (at most max_events; 0 = no limit).
  WatchRead read(std::uint64_t from_revision, std::size_t max_events) const;

  // Forgets everything; the history is complete from `first_revision` on.
  void reset(std::uint64_t first_revision);

  std::uint64_t first_revision() const { return first_revision_; }
  std::size_t size() const { return events_.size(); }

 private:
  PersistentMap<std::uint64_t, std::shared_ptr<const raftmeta::v1::WatchEvent>> events_;
  std::uint64_t first_revision_ = 1;
};

}  // namespace raftmeta::state
