// The core's read-only view of what is durable, and an in-memory
// implementation.
//
// The core never writes to storage: it hands entries, hard state and snapshots
// to its caller in a Ready, the caller makes them durable and then records
// them here (MemoryStorage::append / set_hard_state / apply_snapshot), and the
// core reads them back through LogStorage when it needs older entries or
// terms. The node keeps a MemoryStorage as the cache in front of SQLite.
//
// Thread safety: none. REQUIRES external synchronization; in the node only the
// Raft loop thread touches it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sidecar/raft/types.h"

namespace raftmeta::raft {

enum class StorageError {
  kNone = 0,
  kCompacted,    // the requested index is below the first available index
  kUnavailable,  // the requested index is above the last index
};

class LogStorage {
 public:
  virtual ~LogStorage() = default;

  // State at start-up: the last persisted hard state and the configuration
  // (of the latest snapshot plus any conf changes at or below commit are the
  // core's business: it replays them).
  virtual HardState hard_state() const = 0;
  virtual ConfState conf_state() const = 0;

  // Entries in [lo, hi), at least one entry if any is in range, then at most
  // max_bytes of data in total. REQUIRES first_index() <= lo <= hi <= last_index()+1.
  virtual StorageError entries(Index lo, Index hi, std::uint64_t max_bytes,
                               std::vector<Entry>* out) const = 0;
  // Term of entry i; i may be snapshot().meta.index (the snapshot's term).
  virtual StorageError term(Index i, Term* out) const = 0;
  // Index of the first entry still available (snapshot index + 1).
  virtual Index first_index() const = 0;
  virtual Index last_index() const = 0;
  // The latest snapshot (empty() when none).
  virtual Snapshot snapshot() const = 0;
};

class MemoryStorage final : public LogStorage {
 public:
  MemoryStorage();

  HardState hard_state() const override { return hard_state_; }
  ConfState conf_state() const override { return snapshot_.meta.conf; }
  StorageError entries(Index lo, Index hi, std::uint64_t max_bytes,
                       std::vector<Entry>* out) const override;
  StorageError term(Index i, Term* out) const override;
  Index first_index() const override;
  Index last_index() const override;
  Snapshot snapshot() const override { return snapshot_; }
  // The latest snapshot's index, term and configuration, without copying its
  // data (which holds the whole state machine).
  const SnapshotMeta& snapshot_meta() const { return snapshot_.meta; }

  void set_hard_state(const HardState& hs) { hard_state_ = hs; }
  // Appends entries, discarding any stored entries at the first new index and
  // above (the truncation rule). Entries must be contiguous and must not start
  // above last_index()+1; entries at or below the snapshot index are ignored.
  void append(const std::vector<Entry>& entries);
  // Replaces everything with the snapshot (discarding the whole log). Refuses
  // (returns false) a snapshot older than the current one.
  bool apply_snapshot(const Snapshot& snapshot);
  // Records a snapshot at `index` (first_index()-1 < index <= last_index());
  // entries are kept until compact() drops them.
  bool create_snapshot(Index index, const ConfState& conf, std::string data);
  // Drops entries up to and including `index` (must be <= snapshot index).
  void compact(Index index);

 private:
  HardState hard_state_;
  Snapshot snapshot_;
  // entries_[0] is a dummy entry with the term/index of snapshot_ (or 0/0).
  std::vector<Entry> entries_;
};

}  // namespace raftmeta::raft
