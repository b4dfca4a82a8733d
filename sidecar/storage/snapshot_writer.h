// SnapshotWriter: receives a snapshot's data in chunks (InstallSnapshot) and
// installs it atomically.
//
// Each append() stores its chunk durably in its own transaction, under a
// snapshot id that no reader looks at. finish() checks the size and CRC of
// what was received and, in one transaction, makes it the store's snapshot
// with the rules of WriteBatch::snapshot (log discarded at or below it, or
// entirely if it conflicts). A writer destroyed before finish() deletes its
// chunks; chunks left by a crash are deleted when the store is next opened.
//
// Thread safety: REQUIRES external synchronization (one receiving thread);
// it may run concurrently with other LogStore calls.
#pragma once

#include <cstdint>
#include <string_view>

#include "sidecar/raft/types.h"
#include "sidecar/storage/status.h"

namespace raftmeta::storage {

class LogStore;

class SnapshotWriter {
 public:
  ~SnapshotWriter();
  SnapshotWriter(const SnapshotWriter&) = delete;
  SnapshotWriter& operator=(const SnapshotWriter&) = delete;

  // Appends the next chunk of data (chunks arrive in order).
  Status append(std::string_view chunk);
  std::uint64_t bytes_received() const { return size_; }

  // Installs the snapshot. REQUIRES meta.index above the current snapshot's.
  // expected_size/expected_crc32c are what the sender announced; a mismatch
  // is kCorruption and nothing is installed. The writer is done afterwards.
  Status finish(const raft::SnapshotMeta& meta, std::uint64_t expected_size,
                std::uint32_t expected_crc32c);

 private:
  friend class LogStore;
  SnapshotWriter(LogStore* store, std::int64_t snapshot_id)
      : store_(store), snapshot_id_(snapshot_id) {}

  LogStore* store_;
  std::int64_t snapshot_id_;
  std::uint64_t size_ = 0;
  std::uint32_t crc_ = 0;
  bool done_ = false;
};

}  // namespace raftmeta::storage
