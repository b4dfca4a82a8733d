// MemoryStorage: the in-memory LogStorage (see log_storage.h).
#include "sidecar/raft/log_storage.h"

namespace raftmeta::raft {

MemoryStorage::MemoryStorage() : entries_(1) {}

Index MemoryStorage::first_index() const { return entries_.front().index + 1; }

Index MemoryStorage::last_index() const { return entries_.front().index + entries_.size() - 1; }

StorageError MemoryStorage::term(Index i, Term* out) const {
  const Index offset = entries_.front().index;
  if (i < offset) return StorageError::kCompacted;
  if (i - offset >= entries_.size()) return StorageError::kUnavailable;
  *out = entries_[i - offset].term;
  return StorageError::kNone;
}

StorageError MemoryStorage::entries(Index lo, Index hi, std::uint64_t max_bytes,
                                    std::vector<Entry>* out) const {
  const Index offset = entries_.front().index;
  if (lo <= offset) return StorageError::kCompacted;
  if (hi > last_index() + 1 || lo > hi) return StorageError::kUnavailable;
  std::uint64_t bytes = 0;
  for (Index i = lo; i < hi; ++i) {
    const Entry& e = entries_[i - offset];
    bytes += e.data.size();
    if (i > lo && bytes > max_bytes) break;
    out->push_back(e);
  }
  return StorageError::kNone;
}

void MemoryStorage::append(const std::vector<Entry>& entries) {
  if (entries.empty()) return;
  const Index first = first_index();
  const Index last_new = entries.back().index;
  if (last_new < first) return;                          // all at or below the snapshot
  if (entries.front().index > last_index() + 1) return;  // a gap: refuse
  // Skip entries already covered by the snapshot.
  std::size_t skip = 0;
  if (entries.front().index < first) skip = first - entries.front().index;
  const Index start = entries[skip].index;
  const Index offset = entries_.front().index;
  entries_.resize(start - offset);  // the truncation rule: drop start and above
  entries_.insert(entries_.end(), entries.begin() + static_cast<std::ptrdiff_t>(skip),
                  entries.end());
}

bool MemoryStorage::apply_snapshot(const Snapshot& snapshot) {
  if (snapshot.meta.index < snapshot_.meta.index) return false;
  if (snapshot.meta.index == snapshot_.meta.index && !snapshot_.empty()) return false;
  snapshot_ = snapshot;
  entries_.assign(1, Entry{snapshot.meta.term, snapshot.meta.index, EntryType::kNormal, {}});
  return true;
}

bool MemoryStorage::create_snapshot(Index index, const ConfState& conf, std::string data) {
  const Index offset = entries_.front().index;
  if (index <= offset || index > last_index()) return false;
  snapshot_.meta.index = index;
  snapshot_.meta.term = entries_[index - offset].term;
  snapshot_.meta.conf = conf;
  snapshot_.data = std::move(data);
  return true;
}

void MemoryStorage::compact(Index index) {
  const Index offset = entries_.front().index;
  if (index <= offset) return;
  if (index > snapshot_.meta.index || index > last_index()) return;
  const Entry dummy{entries_[index - offset].term, index, EntryType::kNormal, {}};
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(index - offset));
  entries_.front() = dummy;
}

}  // namespace raftmeta::raft
