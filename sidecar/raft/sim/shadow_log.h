// ShadowLog: the simulator's copy of one member's Raft log as the core sees
// it (durable entries plus entries handed out in a Ready and not yet
// persisted), kept as (term, fingerprint) pairs. The checks read it instead of
// asking the core, which has no API for its log.
//
// Thread safety: none; owned by one SimNode.
#pragma once

#include <cstdint>
#include <vector>

#include "sidecar/raft/log_storage.h"
#include "sidecar/raft/sim/kv_state_machine.h"
#include "sidecar/raft/types.h"

namespace raftmeta::raft::sim {

class ShadowLog {
 public:
  struct Slot {
    Term term = 0;
    std::uint64_t fingerprint = 0;
  };

  // Everything at or below `index` is covered by a snapshot of term `term`.
  void reset(Index index, Term term) {
    offset_ = index;
    offset_term_ = term;
    slots_.clear();
  }
  // Rebuilds from durable storage (after a crash).
  void load(const LogStorage& storage) {
    reset(storage.first_index() - 1, 0);
    Term t = 0;
    if (storage.term(offset_, &t) == StorageError::kNone) offset_term_ = t;
    std::vector<Entry> entries;
    if (storage.last_index() >= storage.first_index()) {
      storage.entries(storage.first_index(), storage.last_index() + 1, UINT64_MAX, &entries);
    }
    for (const Entry& e : entries) slots_.push_back({e.term, entry_fingerprint(e)});
  }
  // Appends with the truncation rule; entries at or below the offset are skipped.
  // Returns false if the entries leave a gap (the core handed out a hole).
  bool append(const std::vector<Entry>& entries) {
    for (const Entry& e : entries) {
      if (e.index <= offset_) continue;
      if (e.index > last_index() + 1) return false;
      slots_.resize(e.index - offset_ - 1);
      slots_.push_back({e.term, entry_fingerprint(e)});
    }
    return true;
  }

  Index offset() const { return offset_; }
  Index last_index() const { return offset_ + slots_.size(); }
  // Term at i (the snapshot's term at the offset); false if not held.
  bool term_at(Index i, Term* out) const {
    if (i == offset_) {
      *out = offset_term_;
      return true;
    }
    if (i < offset_ || i > last_index()) return false;
    *out = slots_[i - offset_ - 1].term;
    return true;
  }
  const Slot* slot(Index i) const {
    if (i <= offset_ || i > last_index()) return nullptr;
    return &slots_[i - offset_ - 1];
  }

 private:
  Index offset_ = 0;
  Term offset_term_ = 0;
  std::vector<Slot> slots_;
};

}  // namespace raftmeta::raft::sim
