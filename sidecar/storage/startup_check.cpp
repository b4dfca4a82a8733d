#include "sidecar/storage/startup_check.h"

#include <algorithm>
#include <optional>

#include "sidecar/raft/types.h"
#include "sidecar/storage/crc32c.h"
#include "sidecar/storage/record_codec.h"
#include "sidecar/storage/schema.h"

namespace raftmeta::storage {
namespace {

std::string u(std::uint64_t v) { return std::to_string(v); }

Status check_tables(const SqliteConnection& db) {
  for (const char* table : {"meta", "entries", "hard_state", "snapshot", "snapshot_chunks"}) {
    std::int64_t n = 0;
    if (Status s = db.query_int(
            std::string("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '") +
                table + "'",
            &n);
        !s) {
      return s;
    }
    if (n != 1) return Status::corruption(db.path() + ": table '" + table + "' is missing");
  }
  return Status::ok();
}

Status sqlite_integrity_check(const SqliteConnection& db) {
  Statement q;
  if (Status s = db.prepare("PRAGMA integrity_check", &q); !s) return s;
  std::string problems;
  for (;;) {
    bool row = false;
    if (Status s = q.step(&row); !s) return s;
    if (!row) break;
    const std::string line = q.column_blob(0);
    if (line != "ok") problems += (problems.empty() ? "" : "; ") + line;
  }
  if (!problems.empty()) {
    return Status::corruption(db.path() + ": PRAGMA integrity_check: " + problems);
  }
  return Status::ok();
}

Status check_snapshot_data(const SqliteConnection& db, std::int64_t snapshot_id, std::uint64_t size,
                           std::uint32_t crc) {
  Statement q;
  if (Status s = db.prepare(
          "SELECT offset, data, crc32c FROM snapshot_chunks WHERE snapshot_id = ? ORDER BY offset",
          &q);
      !s) {
    return s;
  }
  q.bind_int(1, snapshot_id);
  std::uint64_t offset = 0;
  std::uint32_t whole = 0;
  for (;;) {
    bool row = false;
    if (Status s = q.step(&row); !s) return s;
    if (!row) break;
    const std::string data = q.column_blob(1);
    if (q.column_uint(0) != offset || crc32c(data) != q.column_uint(2)) {
      return Status::corruption(db.path() + ": snapshot data at offset " + u(q.column_uint(0)) +
                                " is damaged");
    }
    offset += data.size();
    whole = crc32c_extend(whole, data.data(), data.size());
  }
  if (offset != size || whole != crc) {
    return Status::corruption(db.path() + ": snapshot data CRC or size mismatch");
  }
  return Status::ok();
}

}  // namespace

Status run_startup_checks(const SqliteConnection& db, const StartupExpectations& expected,
                          std::int64_t* schema_version) {
  const std::string& path = db.path();
  std::int64_t app_id = 0;
  if (Status s = db.query_int("PRAGMA application_id", &app_id); !s) return s;
  if (app_id != kApplicationId) {
    return Status::corruption(path + ": not a raftmeta storage file (application_id " +
                              std::to_string(app_id) + ")");
  }
  std::int64_t table_count = 0;
  if (Status s =
          db.query_int("SELECT count(*) FROM sqlite_master WHERE name = 'meta'", &table_count);
      !s) {
    return s;
  }
  if (table_count != 1) return Status::corruption(path + ": table 'meta' is missing");

  Statement meta;
  if (Status s =
          db.prepare("SELECT cluster_id, member_id, schema_version FROM meta WHERE id = 1", &meta);
      !s) {
    return s;
  }
  bool row = false;
  if (Status s = meta.step(&row); !s) return s;
  if (!row) return Status::corruption(path + ": the meta row is missing");
  const std::string cluster_id = meta.column_blob(0);
  const std::uint64_t member_id = meta.column_uint(1);
  const std::int64_t version = meta.column_int(2);
  *schema_version = version;
  if (version > kSchemaVersion) {
    return Status::unsupported_version(path + ": schema version " + std::to_string(version) +
                                       " is newer than this binary supports (" +
                                       std::to_string(kSchemaVersion) +
                                       "); run a newer raftmeta-node");
  }
  if (version < 1) {
    return Status::corruption(path + ": invalid schema version " + std::to_string(version));
  }
  if (cluster_id != expected.cluster_id) {
    return Status::identity_mismatch(path + ": belongs to cluster '" + cluster_id +
                                     "', expected cluster '" + expected.cluster_id + "'");
  }
  if (member_id != expected.member_id) {
    return Status::identity_mismatch(path + ": belongs to member " + u(member_id) +
                                     ", expected member " + u(expected.member_id));
  }
  if (version < kSchemaVersion) return Status::ok();  // migrated, then checked again
  if (Status s = check_tables(db); !s) return s;
  if (expected.full) {
    if (Status s = sqlite_integrity_check(db); !s) return s;
  }

  // Hard state.
  Statement hs_st;
  if (Status s = db.prepare("SELECT term, vote, commit_index, crc32c FROM hard_state WHERE id = 1",
                            &hs_st);
      !s) {
    return s;
  }
  if (Status s = hs_st.step(&row); !s) return s;
  if (!row) return Status::corruption(path + ": the hard state row is missing");
  const raft::HardState hs{hs_st.column_uint(0), hs_st.column_uint(1), hs_st.column_uint(2)};
  if (hard_state_crc(hs) != hs_st.column_uint(3)) {
    return Status::corruption(path + ": hard state CRC mismatch");
  }

  // Snapshot.
  raft::Index snap_index = 0;
  raft::Term snap_term = 0;
  Statement snap;
  if (Status s = db.prepare(
          "SELECT snapshot_id, snap_index, snap_term, conf, data_size, data_crc32c, meta_crc32c, "
          "(SELECT coalesce(sum(length(data)), 0) FROM snapshot_chunks c "
          " WHERE c.snapshot_id = snapshot.snapshot_id) FROM snapshot WHERE id = 1",
          &snap);
      !s) {
    return s;
  }
  if (Status s = snap.step(&row); !s) return s;
  if (row) {
    snap_index = snap.column_uint(1);
    snap_term = snap.column_uint(2);
    const std::string conf = snap.column_blob(3);
    const std::uint64_t size = snap.column_uint(4);
    if (snapshot_meta_crc(snap_index, snap_term, conf, size,
                          static_cast<std::uint32_t>(snap.column_uint(5))) != snap.column_uint(6)) {
      return Status::corruption(path + ": snapshot metadata CRC mismatch");
    }
    if (!decode_conf_state(conf)) {
      return Status::corruption(path + ": snapshot configuration cannot be decoded");
    }
    if (snap.column_uint(7) != size) {
      return Status::corruption(path + ": snapshot data holds " + u(snap.column_uint(7)) +
                                " bytes, its metadata says " + u(size));
    }
    if (expected.full) {
      if (Status s = check_snapshot_data(db, snap.column_int(0), size,
                                         static_cast<std::uint32_t>(snap.column_uint(5)));
          !s) {
        return s;
      }
    }
  }

  // Log shape.
  Statement shape;
  if (Status s = db.prepare("SELECT min(idx), max(idx), count(*) FROM entries", &shape); !s) {
    return s;
  }
  if (Status s = shape.step(&row); !s) return s;
  const std::uint64_t count = shape.column_uint(2);
  raft::Index first = 0;
  raft::Index last = snap_index;
  if (count > 0) {
    first = shape.column_uint(0);
    last = shape.column_uint(1);
    if (first == 0 || last < first || last - first + 1 != count) {
      return Status::corruption(path + ": log is not contiguous (" + u(count) +
                                " entries between " + u(first) + " and " + u(last) + ")");
    }
    if (first > snap_index + 1 || last < snap_index) {
      return Status::corruption(path + ": log [" + u(first) + ", " + u(last) +
                                "] does not join the snapshot at index " + u(snap_index));
    }
  }
  if (hs.commit > last) {
    return Status::corruption(path + ": hard state commit " + u(hs.commit) +
                              " is beyond the last index " + u(last));
  }
  if (hs.commit < snap_index) {
    return Status::corruption(path + ": hard state commit " + u(hs.commit) +
                              " is below the snapshot index " + u(snap_index));
  }

  // Tail CRCs and terms.
  if (count > 0) {
    Statement tail;
    if (Status s = db.prepare(
            "SELECT idx, term, type, data, crc32c FROM entries WHERE idx >= ? ORDER BY idx", &tail);
        !s) {
      return s;
    }
    const std::uint64_t n =
        expected.full ? count : std::min<std::uint64_t>(expected.verify_tail_entries, count);
    tail.bind_uint(1, last - n + 1);
    raft::Term prev_term = 0;
    for (;;) {
      if (Status s = tail.step(&row); !s) return s;
      if (!row) break;
      const raft::Index idx = tail.column_uint(0);
      const raft::Term term = tail.column_uint(1);
      const std::string data = tail.column_blob(3);
      if (entry_crc(idx, term, static_cast<std::uint8_t>(tail.column_int(2)), data) !=
          tail.column_uint(4)) {
        return Status::corruption(path + ": entry " + u(idx) + ": CRC mismatch");
      }
      if (term < prev_term) {
        return Status::corruption(path + ": entry " + u(idx) + " has term " + u(term) +
                                  ", below the previous entry's " + u(prev_term));
      }
      if (idx == snap_index && snap_index != 0 && term != snap_term) {
        return Status::corruption(path + ": entry " + u(idx) + " has term " + u(term) +
                                  ", the snapshot at that index has term " + u(snap_term));
      }
      prev_term = term;
    }
    if (prev_term > hs.term) {
      return Status::corruption(path + ": hard state term " + u(hs.term) +
                                " is below the last entry's term " + u(prev_term));
    }
  }
  return Status::ok();
}

}  // namespace raftmeta::storage
