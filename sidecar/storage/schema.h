// The SQLite schema of a raftmeta data directory and its migrations.
//
// Layout (schema version 1):
//   meta(id=1, cluster_id, member_id, schema_version, created_unix_ms)
//   entries(idx PRIMARY KEY, term, type, data, crc32c)      crc: record_codec.h
//   hard_state(id=1, term, vote, commit_index, crc32c)
//   snapshot(id=1, snapshot_id, snap_index, snap_term, conf, data_size,
//            data_crc32c, meta_crc32c)                        at most one row
//   snapshot_chunks(snapshot_id, offset, data, crc32c)        the snapshot's data
// PRAGMA application_id marks the file as ours.
//
// Migrations: a file of version v < kSchemaVersion is brought up to date by
// running kMigrations[v-1 .. kSchemaVersion-2] in one transaction after the
// start-up checks passed; a file of a newer version is refused.
#pragma once

#include <cstdint>
#include <string>

#include "sidecar/storage/sqlite_connection.h"
#include "sidecar/storage/status.h"

namespace raftmeta::storage {

inline constexpr std::int64_t kSchemaVersion = 1;
// "RFTM" in ASCII: PRAGMA application_id of every raftmeta storage file.
inline constexpr std::int64_t kApplicationId = 0x5246544D;
// Snapshot data is stored in rows of at most this many bytes.
inline constexpr std::size_t kSnapshotRowBytes = 256 << 10;

// Creates the schema (current version) and the meta and hard-state rows in an
// empty database, in one transaction.
Status create_schema(const SqliteConnection& db, const std::string& cluster_id,
                     std::uint64_t member_id);

// Brings a file of version `from` (< kSchemaVersion) up to kSchemaVersion, in
// one transaction. REQUIRES a read-write connection.
Status migrate_schema(const SqliteConnection& db, std::int64_t from);

}  // namespace raftmeta::storage
