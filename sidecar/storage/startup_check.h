// The start-up checks LogStore::open() runs on a READ-ONLY connection before
// it opens a file for writing. Each failure names the file and the problem.
//
// Checked, in order: the file is a SQLite database of ours (application_id,
// tables present), its schema version is one this binary knows, the cluster
// id and member id are the expected ones, the hard-state and snapshot records
// have intact CRCs, the log is contiguous and joins the snapshot (and agrees
// with its term), the hard state's commit lies in [snapshot index, last
// index] and its term is not below the last entry's, and the last
// `verify_tail_entries` entries have intact CRCs and non-decreasing terms.
// With `full`: SQLite's own PRAGMA integrity_check first, then every entry and
// the snapshot data (per row and as a whole).
#pragma once

#include <cstdint>
#include <string>

#include "sidecar/storage/sqlite_connection.h"
#include "sidecar/storage/status.h"

namespace raftmeta::storage {

struct StartupExpectations {
  std::string cluster_id;
  std::uint64_t member_id = 0;
  std::uint64_t verify_tail_entries = 0;
  // Also PRAGMA integrity_check, every entry's CRC and the snapshot data's
  // CRCs (reads the whole file).
  bool full = false;
};

// *schema_version receives the file's version (older versions pass the
// identity checks only; the caller migrates and checks again).
Status run_startup_checks(const SqliteConnection& db, const StartupExpectations& expected,
                          std::int64_t* schema_version);

}  // namespace raftmeta::storage
