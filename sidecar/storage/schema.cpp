#include "sidecar/storage/schema.h"

#include <chrono>
#include <string_view>
#include <vector>

#include "sidecar/raft/types.h"
#include "sidecar/storage/record_codec.h"

namespace raftmeta::storage {
namespace {

constexpr std::string_view kCreateV1 = R"sql(
CREATE TABLE meta(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  cluster_id TEXT NOT NULL,
  member_id INTEGER NOT NULL,
  schema_version INTEGER NOT NULL,
  created_unix_ms INTEGER NOT NULL);
CREATE TABLE entries(
  idx INTEGER PRIMARY KEY,
  term INTEGER NOT NULL,
  type INTEGER NOT NULL,
  data BLOB NOT NULL,
  crc32c INTEGER NOT NULL);
CREATE TABLE hard_state(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  term INTEGER NOT NULL,
  vote INTEGER NOT NULL,
  commit_index INTEGER NOT NULL,
  crc32c INTEGER NOT NULL);
CREATE TABLE snapshot(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  snapshot_id INTEGER NOT NULL,
  snap_index INTEGER NOT NULL,
  snap_term INTEGER NOT NULL,
  conf BLOB NOT NULL,
  data_size INTEGER NOT NULL,
  data_crc32c INTEGER NOT NULL,
  meta_crc32c INTEGER NOT NULL);
CREATE TABLE snapshot_chunks(
  snapshot_id INTEGER NOT NULL,
  offset INTEGER NOT NULL,
  data BLOB NOT NULL,
  crc32c INTEGER NOT NULL,
  PRIMARY KEY (snapshot_id, offset)) WITHOUT ROWID;
)sql";

// kMigrations[v - 1] turns version v into version v + 1. Empty while only
// version 1 exists; a new version appends its SQL here and bumps
// kSchemaVersion.
const std::vector<std::string_view> kMigrations = {};

}  // namespace

Status create_schema(const SqliteConnection& db, const std::string& cluster_id,
                     std::uint64_t member_id) {
  if (Status s = db.exec("BEGIN IMMEDIATE"); !s) return s;
  auto fail = [&](Status s) {
    (void)db.exec("ROLLBACK");
    return s;
  };
  if (Status s = db.exec(std::string(kCreateV1)); !s) return fail(s);
  if (Status s = db.exec("PRAGMA application_id = " + std::to_string(kApplicationId)); !s) {
    return fail(s);
  }
  Statement st;
  if (Status s =
          db.prepare("INSERT INTO meta(id, cluster_id, member_id, schema_version, created_unix_ms) "
                     "VALUES (1, ?, ?, ?, ?)",
                     &st);
      !s) {
    return fail(s);
  }
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  st.bind_text(1, cluster_id);
  st.bind_uint(2, member_id);
  st.bind_int(3, kSchemaVersion);
  st.bind_int(4, now_ms);
  if (Status s = st.run(); !s) return fail(s);
  Statement hs;
  if (Status s = db.prepare(
          "INSERT INTO hard_state(id, term, vote, commit_index, crc32c) VALUES (1, 0, 0, 0, ?)",
          &hs);
      !s) {
    return fail(s);
  }
  hs.bind_uint(1, hard_state_crc(raft::HardState{}));
  if (Status s = hs.run(); !s) return fail(s);
  return db.exec("COMMIT");
}

Status migrate_schema(const SqliteConnection& db, std::int64_t from) {
  if (from >= kSchemaVersion) return Status::ok();
  if (from < 1 || static_cast<std::size_t>(kSchemaVersion - 1) > kMigrations.size()) {
    return Status::unsupported_version(db.path() + ": no migration from schema version " +
                                       std::to_string(from));
  }
  if (Status s = db.exec("BEGIN IMMEDIATE"); !s) return s;
  for (std::int64_t v = from; v < kSchemaVersion; ++v) {
    if (Status s = db.exec(std::string(kMigrations[static_cast<std::size_t>(v - 1)])); !s) {
      (void)db.exec("ROLLBACK");
      return s;
    }
  }
  if (Status s = db.exec("UPDATE meta SET schema_version = " + std::to_string(kSchemaVersion));
      !s) {
    (void)db.exec("ROLLBACK");
    return s;
  }
  return db.exec("COMMIT");
}

}  // namespace raftmeta::storage
