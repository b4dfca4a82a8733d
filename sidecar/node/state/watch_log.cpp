#include "sidecar/node/state/watch_log.h"

namespace raftmeta::state {

void WatchLog::append(std::uint64_t revision, std::vector<raftmeta::v1::Change> changes,
                      std::size_t capacity) {
  if (changes.empty()) return;
  auto event = std::make_shared<raftmeta::v1::WatchEvent>();
  event->set_type(raftmeta::v1::WATCH_EVENT_CHANGES);
  event->set_revision(revision);
  for (auto& change : changes) *event->add_changes() = std::move(change);
  events_.set(revision, std::move(event));
  while (events_.size() > capacity) {
    const std::uint64_t oldest = events_.begin().key();
    events_.erase(oldest);
    first_revision_ = oldest + 1;
  }
}

WatchRead WatchLog::read(std::uint64_t from_revision, std::size_t max_events) const {
  WatchRead out;
  out.compact_revision = first_revision_;
  if (from_revision < first_revision_) {
    out.compacted = true;
    return out;
  }
  for (auto it = events_.lower_bound(from_revision); it != events_.end(); ++it) {
    if (max_events != 0 && out.events.size() >= max_events) break;
    out.events.push_back(it.value());
  }
  return out;
}

void WatchLog::reset(std::uint64_t first_revision) {
  events_ = {};
  first_revision_ = first_revision;
}

}  // namespace raftmeta::state
