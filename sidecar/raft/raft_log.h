// The core's view of its log: what LogStorage holds (durable) plus what is not
// yet durable (the unstable part), the commit index, and how far committed
// entries have been handed out and applied.
//
// Indexes: storage holds (snapshot index, storage last]; the unstable part
// holds an optional snapshot and entries from `offset`. Entries handed out in
// an accepted Ready stay unstable ("in progress") until on_persisted() says
// they are durable and recorded in storage. Committed entries are handed out
// only up to the last durable index.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "sidecar/raft/log_storage.h"
#include "sidecar/raft/types.h"

namespace raftmeta::raft {

class Unstable {
 public:
  std::optional<Index> maybe_first_index() const;
  std::optional<Index> maybe_last_index() const;
  std::optional<Term> maybe_term(Index i) const;

  // Entries and snapshot not yet handed out in an accepted Ready.
  std::vector<Entry> next_entries() const;
  const Snapshot* next_snapshot() const;
  bool has_next() const;
  // The caller took everything up to `last` (and the snapshot if `snapshot`).
  void accept_in_progress(Index last, bool snapshot);

  // Entries up to (i, t) are durable: forget them. Ignored if the entry at i
  // was replaced meanwhile (different term) or is already forgotten.
  void stable_to(Index i, Term t);
  void stable_snapshot_to(Index i);

  void restore(const Snapshot& snapshot);
  // Appends, discarding any unstable entries at ents.front().index and above.
  void truncate_and_append(const std::vector<Entry>& ents);
  // Entries in [lo, hi); REQUIRES offset <= lo <= hi <= offset + size.
  void slice(Index lo, Index hi, std::vector<Entry>* out) const;

  Index offset() const { return offset_; }
  const std::vector<Entry>& entries() const { return entries_; }
  const std::optional<Snapshot>& snapshot() const { return snapshot_; }
  void set_offset(Index offset) { offset_ = offset_in_progress_ = offset; }

 private:
  std::optional<Snapshot> snapshot_;
  bool snapshot_in_progress_ = false;
  std::vector<Entry> entries_;
  Index offset_ = 1;              // index of entries_[0]
  Index offset_in_progress_ = 1;  // entries below this were handed out
};

class RaftLog {
 public:
  // REQUIRES storage outlives the log.
  explicit RaftLog(LogStorage* storage);

  Index first_index() const;
  Index last_index() const;
  Term last_term() const;
  // Term of entry i (i may be first_index()-1, the snapshot's index).
  StorageError term(Index i, Term* out) const;
  // Term of i, or 0 when unknown (compacted or beyond the log).
  Term term_or_zero(Index i) const;
  bool match_term(Index i, Term t) const;

  // Entries in [lo, hi) up to max_bytes (at least one). kCompacted when lo is
  // below first_index(). REQUIRES lo <= hi <= last_index()+1.
  StorageError slice(Index lo, Index hi, std::uint64_t max_bytes, std::vector<Entry>* out) const;

  // Follower append: if the log matches (prev_index, prev_term), appends what is
  // new in `ents` (truncating a conflicting suffix above the commit index),
  // advances the commit index to min(commit, last new index) and returns the
  // last new index. nullopt: no match (or an impossible request that would
  // rewrite committed entries).
  std::optional<Index> maybe_append(Index prev_index, Term prev_term, Index commit,
                                    const std::vector<Entry>& ents);
  // Leader append; returns the new last index.
  Index append(const std::vector<Entry>& ents);
  // First index in ents that conflicts with the log (or is new); 0 if none.
  Index find_conflict(const std::vector<Entry>& ents) const;
  // Largest index <= index whose term <= term (fast backtracking).
  Index find_conflict_by_term(Index index, Term term) const;

  bool is_up_to_date(Index last_index, Term last_term) const;

  // Never moves backwards; clamps to last_index().
  void commit_to(Index index);
  Index committed() const { return committed_; }

  // Everything durable: storage's part of the log (not the unstable part).
  Index last_durable_index() const;
  // Committed entries not yet handed out that may be applied (durable ones only).
  bool has_next_committed() const;
  std::vector<Entry> next_committed(std::uint64_t max_bytes) const;
  void accept_applying(Index index);
  // Committed entries at `index` and above are held back (0: none held).
  void hold_from(Index index) { hold_ = index; }
  Index held_from() const { return hold_; }
  void applied_to(Index index);
  Index applying() const { return applying_; }
  Index applied() const { return applied_; }

  void restore(const Snapshot& snapshot);
  // Snapshot stable: applied and applying jump to its index.
  void stable_snapshot_to(Index index);

  Unstable& unstable() { return unstable_; }
  const Unstable& unstable() const { return unstable_; }
  LogStorage* storage() const { return storage_; }

  // Restart: commit and applied from storage and Config::applied.
  void init(Index committed, Index applied);

 private:
  LogStorage* storage_;
  Unstable unstable_;
  Index committed_ = 0;
  Index applying_ = 0;  // highest index handed out in committed_entries
  Index applied_ = 0;   // highest index the caller reported applied
  Index hold_ = 0;      // see hold_from()

  Index applicable() const;
};

}  // namespace raftmeta::raft
