// LogStore: the durable Raft state of one member, in one SQLite file.
//
// What it keeps: the log entries (each with a CRC32C checked on every read),
// the hard state (term, vote, commit), the latest snapshot (metadata plus data
// stored in rows so it can be streamed in chunks) and the member's identity
// (cluster id, member id, schema version). The file is
// <data_dir>/raft.db (WAL mode, synchronous=FULL, always).
//
// Durability: save() writes one Ready (entries + hard state + snapshot) in ONE
// transaction and returns only after SQLite synced it. When save() returns ok,
// no crash or power loss can take it back. There is no way to weaken this per
// batch; the only write that is not synced on its own is save_commit() (see
// there).
//
// Start-up: open() first checks the file over a READ-ONLY connection (schema
// version, identity, contiguous log, hard state within the log, CRCs of the
// tail). A failing check returns an error naming the file and the problem and
// leaves every file byte-for-byte unchanged. Only then is the file opened
// read-write. A data directory is never overwritten or reset: a new database
// is created only when asked and only where none exists.
//
// Log shape: entries are contiguous, [first_index(), last_index()]. A snapshot
// at index s may keep a tail of entries at or below s (for slow followers,
// see compact()); entries above s continue from s + 1.
//
// Thread safety: safe for concurrent use; all calls are serialized by an
// internal mutex, so a reader waits while a write (and its fsync) is in
// progress. In the node only the Raft loop writes.
//
// Health: every write transaction publishes its start and end on the
// ProgressStamps given at open (storage_write_started_ns, storage_writes), and
// calls OpenOptions::before_write first (the node's `persist` failpoint).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sidecar/health/progress.h"
#include "sidecar/raft/types.h"
#include "sidecar/storage/status.h"

namespace raftmeta::storage {

class SqliteConnection;
class SnapshotWriter;
struct LogStoreStatements;

struct OpenOptions {
  std::string data_dir;
  // Identity the file must carry; stamped into a newly created file.
  std::string cluster_id;
  std::uint64_t member_id = 0;
  // Create <data_dir>/raft.db when the directory holds no database. Creating
  // is the node's decision (bootstrap or join), never a repair: an existing
  // file that fails its checks is refused either way.
  bool create_if_missing = false;
  // compact() keeps this many entries at or below the snapshot index.
  std::uint64_t keep_tail_entries = 1000;
  // The start-up checks verify the CRC of this many entries at the end of the
  // log (integrity_check() verifies all of them).
  std::uint64_t verify_tail_entries = 4096;
  // SQLite VFS to use (empty: the default). Tests pass a fault-injecting VFS.
  std::string vfs_name;
  // Optional: start/end of each write are published here. Not owned.
  health::ProgressStamps* progress = nullptr;
  // Optional: called before each write transaction, on the writing thread,
  // after the write's start was stamped and before the store's lock is taken
  // (so a blocking failpoint shows as a hanging write and blocks no reader).
  std::function<void()> before_write;
  // TEST ONLY: commit with synchronous=NORMAL (no sync per commit). This is a
  // planted bug for the power-loss test, which must catch it. Never set it
  // elsewhere.
  bool testing_unsafe_no_sync_on_commit = false;
};

// One Ready's worth of durable state, written in one transaction.
struct WriteBatch {
  // A snapshot received from the leader, applied before the entries: if the
  // log holds an entry at the snapshot's index with its term, entries at or
  // below that index are discarded and later ones kept; otherwise the whole
  // log is discarded. Must be newer than the current snapshot. The stored
  // commit is raised to the snapshot index if below it.
  std::optional<raft::Snapshot> snapshot;
  // Contiguous entries. Appending at index i discards every stored entry at i
  // and above first (the truncation rule). REQUIRES entries.front().index <=
  // last_index() + 1 (after the snapshot, if any). Entries at or below the
  // snapshot index are ignored.
  std::vector<raft::Entry> entries;
  // REQUIRES snapshot index <= commit <= last index after the batch.
  std::optional<raft::HardState> hard_state;

  bool empty() const { return !snapshot && entries.empty() && !hard_state; }
};

// Everything the node needs at start to fill its in-memory raft storage.
struct StartupState {
  raft::HardState hard_state;
  raft::SnapshotMeta snapshot;  // index 0: no snapshot
  std::uint64_t snapshot_size = 0;
  // Every stored entry, including a kept tail at or below the snapshot index.
  std::vector<raft::Entry> entries;
};

class LogStore {
 public:
  // Opens (or, with create_if_missing and no database present, creates) the
  // store in options.data_dir. Returns nullptr and sets *error (naming the file
  // and the problem) on failure; the file is then unchanged.
  static std::unique_ptr<LogStore> open(const OpenOptions& options, Status* error);

  // Runs the start-up checks only, read-only: what open() would refuse. With
  // `full`, also what integrity_check() verifies. Never writes to the file;
  // safe while another process has the store open.
  static Status check(const OpenOptions& options, bool full = false);
  // The identity stamped in <data_dir>/raft.db (read-only, no checks).
  static Status read_identity(const std::string& data_dir, std::string* cluster_id,
                              std::uint64_t* member_id);

  ~LogStore();
  LogStore(const LogStore&) = delete;
  LogStore& operator=(const LogStore&) = delete;

  // Path of the database file.
  const std::string& path() const { return path_; }

  // Writes the batch in one synced transaction (see WriteBatch for the rules).
  // A batch that breaks a rule is refused with kInvalidArgument and nothing is
  // written. On an I/O error nothing of the batch is visible.
  Status save(const WriteBatch& batch);

  // Raises the stored commit index (never lowers it; commit <= last_index()).
  // Cheap: the transaction is not synced on its own, it becomes durable with
  // the next save() (WAL frames are synced in order). Losing it to a power cut
  // only leaves an older commit index, which Raft recovers.
  Status save_commit(raft::Index commit);

  // Records a snapshot this member took of its own state machine at an index
  // in the log (entries are kept until compact()). REQUIRES
  // snapshot index < meta.index <= hard_state().commit, and the log holds
  // meta.index with meta.term.
  Status save_local_snapshot(const raft::Snapshot& snapshot);

  // Deletes entries with idx <= min(index, snapshot index) - keep_tail_entries.
  Status compact(raft::Index index);

  // Entries in [lo, hi): at least one if the range is not empty, then while
  // the total data stays within max_bytes. Every entry's CRC is verified: a
  // mismatch returns kCorruption naming the index, never data.
  // kCompacted if lo < first_index(), kUnavailable if hi > last_index() + 1.
  Status entries(raft::Index lo, raft::Index hi, std::uint64_t max_bytes,
                 std::vector<raft::Entry>* out) const;
  // Term of entry i (CRC-verified); i may be the snapshot index.
  Status term(raft::Index i, raft::Term* out) const;
  // First stored entry, or snapshot index + 1 when the log is empty.
  raft::Index first_index() const;
  // Last stored entry, or the snapshot index when the log is empty.
  raft::Index last_index() const;
  raft::HardState hard_state() const;
  raft::ConfState conf_state() const;  // of the latest snapshot
  raft::SnapshotMeta snapshot_meta() const;
  std::uint64_t snapshot_size() const;

  // Reads up to max_bytes of the snapshot's data starting at offset (empty at
  // the end). Chunk CRCs are verified.
  Status read_snapshot_chunk(std::uint64_t offset, std::uint64_t max_bytes, std::string* out) const;
  // The whole snapshot, data verified against its CRC.
  Status read_snapshot(raft::Snapshot* out) const;

  // Starts receiving a snapshot in chunks (InstallSnapshot). Chunks are stored
  // as they arrive but nothing is visible until SnapshotWriter::finish().
  // REQUIRES the store outlives the writer; at most one writer at a time.
  Status begin_snapshot(std::unique_ptr<SnapshotWriter>* out);

  // Hard state, snapshot meta and every entry (CRC-verified).
  Status load_all(StartupState* out) const;

  // Verifies every CRC (entries, hard state, snapshot meta and chunks, whole
  // snapshot data) and runs PRAGMA integrity_check.
  Status integrity_check() const;

 private:
  friend class SnapshotWriter;
  LogStore(OpenOptions options, std::string path, int lock_fd);

  Status load_cache();
  Status open_read_write();
  // Inserts data as rows of chunks of snapshot `snapshot_id` from `offset`.
  Status insert_snapshot_rows(std::int64_t snapshot_id, std::uint64_t offset,
                              std::string_view data);
  // SnapshotWriter's operations (see snapshot_writer.h).
  Status writer_append(std::int64_t snapshot_id, std::uint64_t offset, std::string_view data);
  Status writer_finish(std::int64_t snapshot_id, const raft::SnapshotMeta& meta, std::uint64_t size,
                       std::uint32_t crc);
  void writer_abandon(std::int64_t snapshot_id);
  // Stamps the write's start, calls before_write, takes mu_ and runs body
  // inside BEGIN IMMEDIATE .. COMMIT (rolled back on error; the cache is then
  // reloaded from the file), then stamps the end.
  // synced=false only for save_commit().
  template <typename Body>
  Status write_transaction(bool synced, Body&& body);
  // Installs the snapshot whose data is already stored under snapshot_id with
  // the received-snapshot rule (see WriteBatch::snapshot). REQUIRES mu_ held,
  // inside a write transaction.
  Status install_received_snapshot(std::int64_t snapshot_id, const raft::SnapshotMeta& meta,
                                   std::uint64_t size, std::uint32_t crc);
  Status store_snapshot_row(std::int64_t snapshot_id, const raft::SnapshotMeta& meta,
                            std::uint64_t size, std::uint32_t crc);
  Status put_hard_state(const raft::HardState& hs);
  Status read_entry_locked(raft::Index i, raft::Entry* out) const;
  Status read_entries_locked(raft::Index lo, raft::Index hi, std::uint64_t max_bytes,
                             std::vector<raft::Entry>* out) const;
  Status read_snapshot_chunk_locked(std::int64_t snapshot_id, std::uint64_t offset,
                                    std::uint64_t max_bytes, std::string* out) const;
  raft::Index last_index_locked() const;
  raft::Index first_index_locked() const;

  const OpenOptions options_;
  const std::string path_;

  mutable std::mutex mu_;
  // Everything below is guarded by mu_.
  std::unique_ptr<SqliteConnection> db_;
  std::unique_ptr<LogStoreStatements> st_;
  // Cache of what the file holds (refreshed by every write).
  raft::Index first_entry_ = 0;  // 0: no entries
  raft::Index last_entry_ = 0;
  raft::HardState hard_state_;
  raft::SnapshotMeta snapshot_;
  std::int64_t snapshot_id_ = 0;  // 0: none
  std::uint64_t snapshot_size_ = 0;
  std::uint32_t snapshot_crc_ = 0;
  std::int64_t next_snapshot_id_ = 1;
  bool writer_active_ = false;
  // The connection runs with synchronous=NORMAL now (save_commit(), or the
  // testing option); FULL otherwise.
  bool sync_relaxed_ = false;
  // Set when the store could not recover its cache after a failed write; every
  // later call returns it (reopen the store).
  Status broken_;
  // flock()ed <data_dir>/raft.lock: one process per data directory.
  int lock_fd_ = -1;
};

}  // namespace raftmeta::storage
