// The core's log: unstable part + storage view (see raft_log.h).
#include "sidecar/raft/raft_log.h"

#include <algorithm>

namespace raftmeta::raft {

// ---- Unstable ---------------------------------------------------------------

std::optional<Index> Unstable::maybe_first_index() const {
  if (snapshot_) return snapshot_->meta.index + 1;
  return std::nullopt;
}

std::optional<Index> Unstable::maybe_last_index() const {
  if (!entries_.empty()) return offset_ + entries_.size() - 1;
  if (snapshot_) return snapshot_->meta.index;
  return std::nullopt;
}

std::optional<Term> Unstable::maybe_term(Index i) const {
  if (i < offset_) {
    if (snapshot_ && snapshot_->meta.index == i) return snapshot_->meta.term;
    return std::nullopt;
  }
  if (i - offset_ >= entries_.size()) return std::nullopt;
  return entries_[i - offset_].term;
}

std::vector<Entry> Unstable::next_entries() const {
  const Index skip = offset_in_progress_ - offset_;
  if (skip >= entries_.size()) return {};
  return std::vector<Entry>(entries_.begin() + static_cast<std::ptrdiff_t>(skip), entries_.end());
}

const Snapshot* Unstable::next_snapshot() const {
  if (snapshot_ && !snapshot_in_progress_) return &*snapshot_;
  return nullptr;
}

bool Unstable::has_next() const {
  return next_snapshot() != nullptr || offset_in_progress_ - offset_ < entries_.size();
}

void Unstable::accept_in_progress(Index last, bool snapshot) {
  if (snapshot && snapshot_) snapshot_in_progress_ = true;
  if (entries_.empty()) return;
  const Index last_unstable = offset_ + entries_.size() - 1;
  const Index upto = std::min(last, last_unstable);
  if (upto + 1 > offset_in_progress_ && upto >= offset_) offset_in_progress_ = upto + 1;
}

void Unstable::stable_to(Index i, Term t) {
  const auto got = maybe_term(i);
  if (!got || *got != t || i < offset_) return;
  const Index n = i + 1 - offset_;
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(n));
  offset_ = i + 1;
  offset_in_progress_ = std::max(offset_in_progress_, offset_);
}

void Unstable::stable_snapshot_to(Index i) {
  if (snapshot_ && snapshot_->meta.index <= i && snapshot_in_progress_) {
    snapshot_.reset();
    snapshot_in_progress_ = false;
  }
}

void Unstable::restore(const Snapshot& snapshot) {
  offset_ = offset_in_progress_ = snapshot.meta.index + 1;
  entries_.clear();
  snapshot_ = snapshot;
  snapshot_in_progress_ = false;
}

void Unstable::truncate_and_append(const std::vector<Entry>& ents) {
  if (ents.empty()) return;
  const Index from = ents.front().index;
  if (from == offset_ + entries_.size()) {
    entries_.insert(entries_.end(), ents.begin(), ents.end());
  } else if (from <= offset_) {
    // Replaces the whole unstable part; storage discards from `from` when the
    // caller persists these entries (the truncation rule).
    offset_ = offset_in_progress_ = from;
    entries_ = ents;
  } else {
    entries_.resize(from - offset_);
    entries_.insert(entries_.end(), ents.begin(), ents.end());
    offset_in_progress_ = std::min(offset_in_progress_, from);
  }
}

void Unstable::slice(Index lo, Index hi, std::vector<Entry>* out) const {
  out->insert(out->end(), entries_.begin() + static_cast<std::ptrdiff_t>(lo - offset_),
              entries_.begin() + static_cast<std::ptrdiff_t>(hi - offset_));
}

// ---- RaftLog ----------------------------------------------------------------

RaftLog::RaftLog(LogStorage* storage) : storage_(storage) {
  unstable_.set_offset(storage_->last_index() + 1);
  committed_ = applying_ = applied_ = storage_->first_index() - 1;
}

void RaftLog::init(Index committed, Index applied) {
  committed_ = committed;
  applying_ = applied_ = applied;
}

Index RaftLog::first_index() const {
  if (auto i = unstable_.maybe_first_index()) return *i;
  return storage_->first_index();
}

Index RaftLog::last_index() const {
  if (auto i = unstable_.maybe_last_index()) return *i;
  return storage_->last_index();
}

Term RaftLog::last_term() const { return term_or_zero(last_index()); }

StorageError RaftLog::term(Index i, Term* out) const {
  const Index dummy = first_index() - 1;
  if (i < dummy) return StorageError::kCompacted;
  if (i > last_index()) return StorageError::kUnavailable;
  if (auto t = unstable_.maybe_term(i)) {
    *out = *t;
    return StorageError::kNone;
  }
  return storage_->term(i, out);
}

Term RaftLog::term_or_zero(Index i) const {
  Term t = 0;
  if (term(i, &t) != StorageError::kNone) return 0;
  return t;
}

bool RaftLog::match_term(Index i, Term t) const {
  Term got = 0;
  if (term(i, &got) != StorageError::kNone) return false;
  return got == t;
}

StorageError RaftLog::slice(Index lo, Index hi, std::uint64_t max_bytes,
                            std::vector<Entry>* out) const {
  if (lo < first_index()) return StorageError::kCompacted;
  if (lo > hi || hi > last_index() + 1) return StorageError::kUnavailable;
  if (lo == hi) return StorageError::kNone;
  const Index uoff = unstable_.offset();
  if (lo < uoff) {
    const Index shi = std::min(hi, uoff);
    const std::size_t before = out->size();
    const StorageError err = storage_->entries(lo, shi, max_bytes, out);
    if (err != StorageError::kNone) return err;
    if (out->size() - before < shi - lo) return StorageError::kNone;  // byte limit reached
    if (shi == hi) return StorageError::kNone;
  }
  std::uint64_t bytes = 0;
  for (const Entry& e : *out) bytes += e.data.size();
  std::vector<Entry> tail;
  unstable_.slice(std::max(lo, uoff), hi, &tail);
  for (Entry& e : tail) {
    bytes += e.data.size();
    if (!out->empty() && bytes > max_bytes) break;
    out->push_back(std::move(e));
  }
  return StorageError::kNone;
}

Index RaftLog::find_conflict(const std::vector<Entry>& ents) const {
  for (const Entry& e : ents) {
    if (!match_term(e.index, e.term)) return e.index;
  }
  return 0;
}

Index RaftLog::find_conflict_by_term(Index index, Term t) const {
  index = std::min(index, last_index());
  while (index > 0) {
    Term got = 0;
    if (term(index, &got) != StorageError::kNone) break;
    if (got <= t) break;
    --index;
  }
  return index;
}

std::optional<Index> RaftLog::maybe_append(Index prev_index, Term prev_term, Index commit,
                                           const std::vector<Entry>& ents) {
  if (!match_term(prev_index, prev_term)) return std::nullopt;
  const Index last_new = prev_index + ents.size();
  const Index conflict = find_conflict(ents);
  if (conflict != 0) {
    if (conflict <= committed_) return std::nullopt;  // would rewrite committed entries
    const std::size_t from = conflict - (prev_index + 1);
    append(std::vector<Entry>(ents.begin() + static_cast<std::ptrdiff_t>(from), ents.end()));
  }
  commit_to(std::min(commit, last_new));
  return last_new;
}

Index RaftLog::append(const std::vector<Entry>& ents) {
  if (ents.empty()) return last_index();
  if (ents.front().index <= committed_) return last_index();  // never rewrite committed
  unstable_.truncate_and_append(ents);
  return last_index();
}

bool RaftLog::is_up_to_date(Index lasti, Term lastt) const {
  const Term my_term = last_term();
  return lastt > my_term || (lastt == my_term && lasti >= last_index());
}

void RaftLog::commit_to(Index index) {
  index = std::min(index, last_index());
  if (index > committed_) committed_ = index;
}

Index RaftLog::last_durable_index() const {
  if (unstable_.snapshot()) return 0;
  return unstable_.offset() - 1;
}

Index RaftLog::applicable() const {
  Index hi = std::min(committed_, last_durable_index());
  if (hold_ != 0) hi = std::min(hi, hold_ - 1);
  return hi;
}

bool RaftLog::has_next_committed() const {
  if (unstable_.snapshot()) return false;
  return applying_ < applicable();
}

std::vector<Entry> RaftLog::next_committed(std::uint64_t max_bytes) const {
  std::vector<Entry> out;
  if (!has_next_committed()) return out;
  const Index hi = applicable() + 1;
  if (slice(applying_ + 1, hi, max_bytes, &out) != StorageError::kNone) out.clear();
  return out;
}

void RaftLog::accept_applying(Index index) { applying_ = std::max(applying_, index); }

void RaftLog::applied_to(Index index) { applied_ = std::max(applied_, std::min(index, applying_)); }

void RaftLog::restore(const Snapshot& snapshot) {
  committed_ = std::max(committed_, snapshot.meta.index);
  unstable_.restore(snapshot);
}

void RaftLog::stable_snapshot_to(Index index) {
  const auto& snap = unstable_.snapshot();
  if (!snap || snap->meta.index > index) return;
  const Index si = snap->meta.index;
  unstable_.stable_snapshot_to(index);
  if (!unstable_.snapshot()) {
    applying_ = std::max(applying_, si);
    applied_ = std::max(applied_, si);
  }
}

}  // namespace raftmeta::raft
