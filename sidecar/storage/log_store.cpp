#include "sidecar/storage/log_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "sidecar/storage/crc32c.h"
#include "sidecar/storage/record_codec.h"
#include "sidecar/storage/schema.h"
#include "sidecar/storage/snapshot_writer.h"
#include "sidecar/storage/sqlite_connection.h"
#include "sidecar/storage/startup_check.h"

namespace raftmeta::storage {

struct LogStoreStatements {
  Statement begin, commit, rollback;
  Statement insert_entry, delete_entries_from, delete_entries_upto, delete_all_entries;
  Statement read_entries, update_hard_state;
  Statement insert_chunk, read_chunks, delete_chunks, put_snapshot;
};

namespace {

constexpr const char* kDbFile = "raft.db";
constexpr const char* kCreatingFile = "raft.db.creating";
constexpr const char* kLockFile = "raft.lock";

std::string u(std::uint64_t v) { return std::to_string(v); }

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

Status fsync_path(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return Status::io_error(errno_text(path + ": open for fsync"));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Status::io_error(errno_text(path + ": fsync"));
  return Status::ok();
}

const char* vfs_or_null(const OpenOptions& o) {
  return o.vfs_name.empty() ? nullptr : o.vfs_name.c_str();
}

Status check_read_only(const OpenOptions& o, const std::string& path, bool full,
                       std::int64_t* version) {
  std::unique_ptr<SqliteConnection> ro;
  if (Status s = SqliteConnection::open(path, SQLITE_OPEN_READONLY, vfs_or_null(o), &ro); !s) {
    return s;
  }
  StartupExpectations expected{o.cluster_id, o.member_id, o.verify_tail_entries};
  expected.full = full;
  return run_startup_checks(*ro, expected, version);
}

// Creates a complete database beside the final name, then renames it into
// place, so a crash during creation never leaves a half-made raft.db.
Status create_database(const OpenOptions& o, const std::string& path) {
  const std::string tmp = o.data_dir + "/" + kCreatingFile;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    if (::unlink((tmp + suffix).c_str()) != 0 && errno != ENOENT) {
      return Status::io_error(errno_text(tmp + suffix + ": unlink"));
    }
  }
  {
    std::unique_ptr<SqliteConnection> db;
    if (Status s = SqliteConnection::open(tmp, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                          vfs_or_null(o), &db);
        !s) {
      return s;
    }
    if (Status s = db->exec("PRAGMA synchronous = FULL"); !s) return s;
    if (Status s = create_schema(*db, o.cluster_id, o.member_id); !s) return s;
    if (Status s = db->exec("PRAGMA journal_mode = WAL"); !s) return s;
  }  // closing checkpoints the WAL into the file and removes it
  // Closing cannot report errors: make sure the file is complete and
  // self-contained before it gets its final name.
  std::int64_t version = 0;
  if (Status s = check_read_only(o, tmp, /*full=*/true, &version); !s) return s;
  struct stat wal {};
  if (::stat((tmp + "-wal").c_str(), &wal) == 0 && wal.st_size > 0) {
    return Status::io_error(tmp + ": creation did not complete (WAL not checkpointed)");
  }
  if (Status s = fsync_path(tmp, O_RDONLY); !s) return s;
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return Status::io_error(errno_text(tmp + ": rename to " + path));
  }
  return fsync_path(o.data_dir, O_RDONLY | O_DIRECTORY);
}

// Prepares the directory and takes its lock; *lock_fd receives the lock.
Status lock_data_dir(const OpenOptions& o, int* lock_fd) {
  if (!exists(o.data_dir)) {
    if (!o.create_if_missing) {
      return Status::not_found(o.data_dir + ": data directory does not exist");
    }
    if (::mkdir(o.data_dir.c_str(), 0750) != 0 && errno != EEXIST) {
      return Status::io_error(errno_text(o.data_dir + ": mkdir"));
    }
  }
  const std::string lock_path = o.data_dir + "/" + kLockFile;
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) return Status::io_error(errno_text(lock_path + ": open"));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return Status::busy(lock_path + ": another process has this data directory open");
    }
    errno = err;
    return Status::io_error(errno_text(lock_path + ": flock"));
  }
  *lock_fd = fd;
  return Status::ok();
}

Status validate_options(const OpenOptions& o) {
  if (o.data_dir.empty()) return Status::invalid_argument("data_dir is empty");
  if (o.cluster_id.empty()) return Status::invalid_argument("cluster_id is empty");
  if (o.member_id == 0) return Status::invalid_argument("member_id 0 is not a member");
  return Status::ok();
}

Status bad_entry_type(const std::string& path, raft::Index idx, std::int64_t type) {
  return Status::corruption(path + ": entry " + u(idx) + ": unknown type " + std::to_string(type));
}

}  // namespace

// ---------------------------------------------------------------- open

std::unique_ptr<LogStore> LogStore::open(const OpenOptions& options, Status* error) {
  *error = validate_options(options);
  if (!*error) return nullptr;
  int lock_fd = -1;
  *error = lock_data_dir(options, &lock_fd);
  if (!*error) return nullptr;
  std::unique_ptr<LogStore> store(new LogStore(options, options.data_dir + "/" + kDbFile, lock_fd));
  *error = store->open_read_write();
  if (!*error) return nullptr;
  return store;
}

Status LogStore::check(const OpenOptions& options, bool full) {
  if (Status s = validate_options(options); !s) return s;
  const std::string path = options.data_dir + "/" + kDbFile;
  if (!exists(path)) return Status::not_found(path + ": no database");
  std::int64_t version = 0;
  return check_read_only(options, path, full, &version);
}

Status LogStore::read_identity(const std::string& data_dir, std::string* cluster_id,
                               std::uint64_t* member_id) {
  const std::string path = data_dir + "/" + kDbFile;
  if (!exists(path)) return Status::not_found(path + ": no database");
  std::unique_ptr<SqliteConnection> ro;
  if (Status s = SqliteConnection::open(path, SQLITE_OPEN_READONLY, nullptr, &ro); !s) return s;
  Statement q;
  if (Status s = ro->prepare("SELECT cluster_id, member_id FROM meta WHERE id = 1", &q); !s) {
    return s;
  }
  bool row = false;
  if (Status s = q.step(&row); !s) return s;
  if (!row) return Status::corruption(path + ": the meta row is missing");
  *cluster_id = q.column_blob(0);
  *member_id = q.column_uint(1);
  return Status::ok();
}

LogStore::LogStore(OpenOptions options, std::string path, int lock_fd)
    : options_(std::move(options)), path_(std::move(path)), lock_fd_(lock_fd) {}

LogStore::~LogStore() {
  st_.reset();
  db_.reset();
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Status LogStore::open_read_write() {
  if (!exists(path_)) {
    if (exists(path_ + "-wal")) {
      return Status::corruption(path_ + "-wal exists without its database; refusing to start");
    }
    if (!options_.create_if_missing) {
      return Status::not_found(path_ + ": no database (neither bootstrap nor join requested)");
    }
    if (Status s = create_database(options_, path_); !s) return s;
  }
  std::int64_t version = 0;
  if (Status s = check_read_only(options_, path_, /*full=*/false, &version); !s) return s;

  if (Status s = SqliteConnection::open(path_, SQLITE_OPEN_READWRITE, vfs_or_null(options_), &db_);
      !s) {
    return s;
  }
  sync_relaxed_ = options_.testing_unsafe_no_sync_on_commit;
  if (Status s =
          db_->exec(sync_relaxed_ ? "PRAGMA synchronous = NORMAL" : "PRAGMA synchronous = FULL");
      !s) {
    return s;
  }
  std::int64_t wal = 0;
  if (Status s = db_->query_int("SELECT journal_mode = 'wal' FROM pragma_journal_mode", &wal); !s) {
    return s;
  }
  if (wal != 1) return Status::corruption(path_ + ": not in WAL mode");
  // Keep a grown WAL (e.g. after a large snapshot) from staying large.
  if (Status s = db_->exec("PRAGMA journal_size_limit = 67108864"); !s) return s;
  if (version < kSchemaVersion) {
    if (Status s = migrate_schema(*db_, version); !s) return s;
    if (Status s = run_startup_checks(
            *db_, {options_.cluster_id, options_.member_id, options_.verify_tail_entries},
            &version);
        !s) {
      return s;
    }
  }

  st_ = std::make_unique<LogStoreStatements>();
  LogStoreStatements& st = *st_;
  const std::pair<Statement*, const char*> sql[] = {
      {&st.begin, "BEGIN IMMEDIATE"},
      {&st.commit, "COMMIT"},
      {&st.rollback, "ROLLBACK"},
      {&st.insert_entry, "INSERT INTO entries(idx, term, type, data, crc32c) VALUES (?,?,?,?,?)"},
      {&st.delete_entries_from, "DELETE FROM entries WHERE idx >= ?"},
      {&st.delete_entries_upto, "DELETE FROM entries WHERE idx <= ?"},
      {&st.delete_all_entries, "DELETE FROM entries"},
      {&st.read_entries,
       "SELECT idx, term, type, data, crc32c FROM entries WHERE idx >= ? AND idx < ? ORDER BY "
       "idx"},
      {&st.update_hard_state,
       "UPDATE hard_state SET term = ?, vote = ?, commit_index = ?, crc32c = ? WHERE id = 1"},
      {&st.insert_chunk,
       "INSERT INTO snapshot_chunks(snapshot_id, offset, data, crc32c) VALUES (?,?,?,?)"},
      {&st.read_chunks,
       "SELECT offset, data, crc32c FROM snapshot_chunks WHERE snapshot_id = ?1 AND offset >= "
       "coalesce((SELECT max(offset) FROM snapshot_chunks WHERE snapshot_id = ?1 AND offset <= "
       "?2), 0) ORDER BY offset"},
      {&st.delete_chunks, "DELETE FROM snapshot_chunks WHERE snapshot_id = ?"},
      {&st.put_snapshot,
       "INSERT OR REPLACE INTO snapshot(id, snapshot_id, snap_index, snap_term, conf, data_size, "
       "data_crc32c, meta_crc32c) VALUES (1,?,?,?,?,?,?,?)"},
  };
  for (const auto& [stmt, text] : sql) {
    if (Status s = db_->prepare(text, stmt); !s) return s;
  }
  std::lock_guard lock(mu_);
  if (Status s = load_cache(); !s) return s;
  // Chunks of snapshots whose receipt a crash interrupted.
  std::int64_t orphans = 0;
  if (Status s = db_->query_int("SELECT count(*) FROM snapshot_chunks WHERE snapshot_id != " +
                                    std::to_string(snapshot_id_),
                                &orphans);
      !s) {
    return s;
  }
  if (orphans > 0) {
    return db_->exec("DELETE FROM snapshot_chunks WHERE snapshot_id != " +
                     std::to_string(snapshot_id_));
  }
  return Status::ok();
}

Status LogStore::load_cache() {
  Statement q;
  if (Status s = db_->prepare("SELECT min(idx), max(idx) FROM entries", &q); !s) return s;
  bool row = false;
  if (Status s = q.step(&row); !s) return s;
  first_entry_ = q.column_is_null(0) ? 0 : q.column_uint(0);
  last_entry_ = q.column_is_null(1) ? 0 : q.column_uint(1);

  if (Status s =
          db_->prepare("SELECT term, vote, commit_index, crc32c FROM hard_state WHERE id = 1", &q);
      !s) {
    return s;
  }
  if (Status s = q.step(&row); !s) return s;
  if (!row) return Status::corruption(path_ + ": the hard state row is missing");
  hard_state_ = {q.column_uint(0), q.column_uint(1), q.column_uint(2)};
  if (hard_state_crc(hard_state_) != q.column_uint(3)) {
    return Status::corruption(path_ + ": hard state CRC mismatch");
  }

  if (Status s = db_->prepare(
          "SELECT snapshot_id, snap_index, snap_term, conf, data_size, data_crc32c, meta_crc32c "
          "FROM snapshot WHERE id = 1",
          &q);
      !s) {
    return s;
  }
  if (Status s = q.step(&row); !s) return s;
  snapshot_ = {};
  snapshot_id_ = 0;
  snapshot_size_ = 0;
  snapshot_crc_ = 0;
  if (row) {
    const std::string conf = q.column_blob(3);
    snapshot_id_ = q.column_int(0);
    snapshot_.index = q.column_uint(1);
    snapshot_.term = q.column_uint(2);
    snapshot_size_ = q.column_uint(4);
    snapshot_crc_ = static_cast<std::uint32_t>(q.column_uint(5));
    auto decoded = decode_conf_state(conf);
    if (!decoded || snapshot_meta_crc(snapshot_.index, snapshot_.term, conf, snapshot_size_,
                                      snapshot_crc_) != q.column_uint(6)) {
      return Status::corruption(path_ + ": snapshot metadata CRC mismatch");
    }
    snapshot_.conf = std::move(*decoded);
  }
  std::int64_t max_id = 0;
  if (Status s =
          db_->query_int("SELECT coalesce(max(snapshot_id), 0) FROM snapshot_chunks", &max_id);
      !s) {
    return s;
  }
  next_snapshot_id_ = std::max({next_snapshot_id_, snapshot_id_ + 1, max_id + 1});
  return Status::ok();
}

// ---------------------------------------------------------------- writes

template <typename Body>
Status LogStore::write_transaction(bool synced, Body&& body) {
  health::ProgressStamps* progress = options_.progress;
  if (progress != nullptr) {
    progress->storage_write_started_ns.store(health::monotonic_ns(), std::memory_order_release);
  }
  if (options_.before_write) options_.before_write();
  Status result;
  {
    std::lock_guard lock(mu_);
    result = [&]() -> Status {
      if (!broken_.is_ok()) return broken_;
      // synced: the configured FULL. Otherwise NORMAL: in WAL mode that skips
      // only the commit's sync; checkpoints still sync.
      const bool relax = !synced || options_.testing_unsafe_no_sync_on_commit;
      if (relax != sync_relaxed_) {
        if (Status s =
                db_->exec(relax ? "PRAGMA synchronous = NORMAL" : "PRAGMA synchronous = FULL");
            !s) {
          return s;
        }
        sync_relaxed_ = relax;
      }
      if (Status s = st_->begin.run(); !s) return s;
      Status s = body();
      if (s) s = st_->commit.run();
      if (!s) {
        (void)st_->rollback.run();
        // The cache may hold what the failed transaction wrote.
        if (Status reload = load_cache(); !reload) broken_ = reload;
      }
      return s;
    }();
  }
  if (progress != nullptr) {
    progress->storage_write_started_ns.store(0, std::memory_order_release);
    progress->storage_writes.fetch_add(1, std::memory_order_acq_rel);
  }
  return result;
}

Status LogStore::put_hard_state(const raft::HardState& hs) {
  Statement& st = st_->update_hard_state;
  st.reset();
  st.bind_uint(1, hs.term);
  st.bind_uint(2, hs.vote);
  st.bind_uint(3, hs.commit);
  st.bind_uint(4, hard_state_crc(hs));
  if (Status s = st.run(); !s) return s;
  hard_state_ = hs;
  return Status::ok();
}

Status LogStore::insert_snapshot_rows(std::int64_t snapshot_id, std::uint64_t offset,
                                      std::string_view data) {
  Statement& st = st_->insert_chunk;
  do {
    const std::string_view row = data.substr(0, kSnapshotRowBytes);
    st.reset();
    st.bind_int(1, snapshot_id);
    st.bind_uint(2, offset);
    st.bind_blob(3, row);
    st.bind_uint(4, crc32c(row));
    if (Status s = st.run(); !s) return s;
    offset += row.size();
    data.remove_prefix(row.size());
  } while (!data.empty());
  return Status::ok();
}

Status LogStore::store_snapshot_row(std::int64_t snapshot_id, const raft::SnapshotMeta& meta,
                                    std::uint64_t size, std::uint32_t crc) {
  const std::string conf = encode_conf_state(meta.conf);
  Statement& st = st_->put_snapshot;
  st.reset();
  st.bind_int(1, snapshot_id);
  st.bind_uint(2, meta.index);
  st.bind_uint(3, meta.term);
  st.bind_blob(4, conf);
  st.bind_uint(5, size);
  st.bind_uint(6, crc);
  st.bind_uint(7, snapshot_meta_crc(meta.index, meta.term, conf, size, crc));
  if (Status s = st.run(); !s) return s;
  if (snapshot_id_ != 0 && snapshot_id_ != snapshot_id) {
    Statement& del = st_->delete_chunks;
    del.reset();
    del.bind_int(1, snapshot_id_);
    if (Status s = del.run(); !s) return s;
  }
  snapshot_ = meta;
  snapshot_id_ = snapshot_id;
  snapshot_size_ = size;
  snapshot_crc_ = crc;
  return Status::ok();
}

Status LogStore::install_received_snapshot(std::int64_t snapshot_id, const raft::SnapshotMeta& meta,
                                           std::uint64_t size, std::uint32_t crc) {
  if (meta.index <= snapshot_.index) {
    return Status::invalid_argument(path_ + ": snapshot at index " + u(meta.index) +
                                    " is not newer than the stored one at " + u(snapshot_.index));
  }
  bool matches = false;
  if (first_entry_ != 0 && meta.index >= first_entry_ && meta.index <= last_entry_) {
    raft::Entry e;
    if (Status s = read_entry_locked(meta.index, &e); !s) return s;
    matches = e.term == meta.term;
  }
  if (matches) {
    Statement& del = st_->delete_entries_upto;
    del.reset();
    del.bind_uint(1, meta.index);
    if (Status s = del.run(); !s) return s;
    if (last_entry_ > meta.index) {
      first_entry_ = meta.index + 1;
    } else {
      first_entry_ = last_entry_ = 0;
    }
  } else if (first_entry_ != 0) {
    st_->delete_all_entries.reset();
    if (Status s = st_->delete_all_entries.run(); !s) return s;
    first_entry_ = last_entry_ = 0;
  }
  if (Status s = store_snapshot_row(snapshot_id, meta, size, crc); !s) return s;
  if (hard_state_.commit < meta.index) {
    raft::HardState hs = hard_state_;
    hs.commit = meta.index;
    if (Status s = put_hard_state(hs); !s) return s;
  }
  return Status::ok();
}

Status LogStore::save(const WriteBatch& batch) {
  if (batch.empty()) return Status::ok();
  return write_transaction(/*synced=*/true, [&]() -> Status {
    if (batch.snapshot) {
      const std::int64_t id = next_snapshot_id_++;
      const raft::Snapshot& snap = *batch.snapshot;
      if (snap.meta.index <= snapshot_.index) {
        return Status::invalid_argument(path_ + ": snapshot at index " + u(snap.meta.index) +
                                        " is not newer than the stored one at " +
                                        u(snapshot_.index));
      }
      if (Status s = insert_snapshot_rows(id, 0, snap.data); !s) return s;
      if (Status s = install_received_snapshot(id, snap.meta, snap.data.size(), crc32c(snap.data));
          !s) {
        return s;
      }
    }
    // Entries at or below the snapshot are already covered by it.
    auto begin = std::find_if(batch.entries.begin(), batch.entries.end(),
                              [&](const raft::Entry& e) { return e.index > snapshot_.index; });
    if (begin != batch.entries.end()) {
      const raft::Index first_new = begin->index;
      if (first_new > last_index_locked() + 1) {
        return Status::invalid_argument(path_ + ": entries start at " + u(first_new) +
                                        ", leaving a gap after the last index " +
                                        u(last_index_locked()));
      }
      for (auto it = begin; it + 1 < batch.entries.end(); ++it) {
        if ((it + 1)->index != it->index + 1) {
          return Status::invalid_argument(path_ + ": batch entries are not contiguous at " +
                                          u(it->index));
        }
      }
      if (first_entry_ != 0 && first_new <= last_entry_) {
        Statement& del = st_->delete_entries_from;
        del.reset();
        del.bind_uint(1, first_new);
        if (Status s = del.run(); !s) return s;
      }
      Statement& ins = st_->insert_entry;
      for (auto it = begin; it != batch.entries.end(); ++it) {
        const auto type = static_cast<std::uint8_t>(it->type);
        ins.reset();
        ins.bind_uint(1, it->index);
        ins.bind_uint(2, it->term);
        ins.bind_int(3, type);
        ins.bind_blob(4, it->data);
        ins.bind_uint(5, entry_crc(it->index, it->term, type, it->data));
        if (Status s = ins.run(); !s) return s;
      }
      if (first_entry_ == 0 || first_new < first_entry_) first_entry_ = first_new;
      last_entry_ = batch.entries.back().index;
    }
    raft::HardState hs = batch.hard_state.value_or(hard_state_);
    hs.commit = std::max(hs.commit, snapshot_.index);
    if (hs.commit > last_index_locked()) {
      return Status::invalid_argument(path_ + ": commit " + u(hs.commit) +
                                      " is beyond the last index " + u(last_index_locked()));
    }
    if (begin != batch.entries.end() && batch.entries.back().term > hs.term) {
      return Status::invalid_argument(path_ + ": entries of term " + u(batch.entries.back().term) +
                                      " with a hard state of term " + u(hs.term));
    }
    if (hs != hard_state_) return put_hard_state(hs);
    return Status::ok();
  });
}

Status LogStore::save_commit(raft::Index commit) {
  {
    std::lock_guard lock(mu_);
    if (!broken_.is_ok()) return broken_;
    if (commit <= hard_state_.commit) return Status::ok();
    if (commit > last_index_locked()) {
      return Status::invalid_argument(path_ + ": commit " + u(commit) +
                                      " is beyond the last index " + u(last_index_locked()));
    }
  }
  // WAL frames are synced in order, so the next synced commit makes this one
  // durable too.
  return write_transaction(/*synced=*/false, [&]() -> Status {
    raft::HardState hs = hard_state_;
    if (commit <= hs.commit) return Status::ok();
    hs.commit = commit;
    return put_hard_state(hs);
  });
}

Status LogStore::save_local_snapshot(const raft::Snapshot& snapshot) {
  return write_transaction(/*synced=*/true, [&]() -> Status {
    const raft::SnapshotMeta& meta = snapshot.meta;
    if (meta.index <= snapshot_.index || meta.index > hard_state_.commit) {
      return Status::invalid_argument(path_ + ": local snapshot at " + u(meta.index) +
                                      " must be in (" + u(snapshot_.index) + ", commit " +
                                      u(hard_state_.commit) + "]");
    }
    raft::Entry e;
    if (first_entry_ == 0 || meta.index < first_entry_ || meta.index > last_entry_) {
      return Status::invalid_argument(path_ + ": local snapshot at " + u(meta.index) +
                                      " is outside the log");
    }
    if (Status s = read_entry_locked(meta.index, &e); !s) return s;
    if (e.term != meta.term) {
      return Status::invalid_argument(path_ + ": local snapshot term " + u(meta.term) +
                                      " differs from entry " + u(meta.index) + "'s term " +
                                      u(e.term));
    }
    const std::int64_t id = next_snapshot_id_++;
    if (Status s = insert_snapshot_rows(id, 0, snapshot.data); !s) return s;
    return store_snapshot_row(id, meta, snapshot.data.size(), crc32c(snapshot.data));
  });
}

Status LogStore::compact(raft::Index index) {
  raft::Index bound = 0;
  {
    std::lock_guard lock(mu_);
    if (!broken_.is_ok()) return broken_;
    const raft::Index cutoff = std::min(index, snapshot_.index);
    if (first_entry_ == 0 || cutoff <= options_.keep_tail_entries) return Status::ok();
    bound = cutoff - options_.keep_tail_entries;
    if (bound < first_entry_) return Status::ok();
  }
  return write_transaction(/*synced=*/true, [&]() -> Status {
    if (first_entry_ == 0 || bound < first_entry_) return Status::ok();
    Statement& del = st_->delete_entries_upto;
    del.reset();
    del.bind_uint(1, bound);
    if (Status s = del.run(); !s) return s;
    if (last_entry_ > bound) {
      first_entry_ = bound + 1;
    } else {
      first_entry_ = last_entry_ = 0;
    }
    return Status::ok();
  });
}

// ---------------------------------------------------------------- snapshot writer

Status LogStore::begin_snapshot(std::unique_ptr<SnapshotWriter>* out) {
  std::lock_guard lock(mu_);
  if (!broken_.is_ok()) return broken_;
  if (writer_active_) return Status::busy(path_ + ": a snapshot is already being received");
  writer_active_ = true;
  out->reset(new SnapshotWriter(this, next_snapshot_id_++));
  return Status::ok();
}

Status LogStore::writer_append(std::int64_t snapshot_id, std::uint64_t offset,
                               std::string_view data) {
  if (data.empty()) return Status::ok();
  return write_transaction(/*synced=*/true,
                           [&] { return insert_snapshot_rows(snapshot_id, offset, data); });
}

Status LogStore::writer_finish(std::int64_t snapshot_id, const raft::SnapshotMeta& meta,
                               std::uint64_t size, std::uint32_t crc) {
  Status s = write_transaction(/*synced=*/true, [&]() -> Status {
    if (Status st = install_received_snapshot(snapshot_id, meta, size, crc); !st) return st;
    return Status::ok();
  });
  if (!s) return s;
  std::lock_guard lock(mu_);
  writer_active_ = false;
  return Status::ok();
}

void LogStore::writer_abandon(std::int64_t snapshot_id) {
  (void)write_transaction(/*synced=*/true, [&]() -> Status {
    Statement& del = st_->delete_chunks;
    del.reset();
    del.bind_int(1, snapshot_id);
    return del.run();
  });
  std::lock_guard lock(mu_);
  writer_active_ = false;
}

SnapshotWriter::~SnapshotWriter() {
  if (!done_) store_->writer_abandon(snapshot_id_);
}

Status SnapshotWriter::append(std::string_view chunk) {
  if (done_) return Status::invalid_argument("snapshot writer already finished");
  if (Status s = store_->writer_append(snapshot_id_, size_, chunk); !s) return s;
  size_ += chunk.size();
  crc_ = crc32c_extend(crc_, chunk.data(), chunk.size());
  return Status::ok();
}

Status SnapshotWriter::finish(const raft::SnapshotMeta& meta, std::uint64_t expected_size,
                              std::uint32_t expected_crc32c) {
  if (done_) return Status::invalid_argument("snapshot writer already finished");
  if (expected_size != size_ || expected_crc32c != crc_) {
    return Status::corruption(store_->path() + ": received snapshot has " + std::to_string(size_) +
                              " bytes with CRC " + std::to_string(crc_) +
                              ", the sender announced " + std::to_string(expected_size) +
                              " bytes with CRC " + std::to_string(expected_crc32c));
  }
  if (Status s = store_->writer_finish(snapshot_id_, meta, size_, crc_); !s) return s;
  done_ = true;
  return Status::ok();
}

// ---------------------------------------------------------------- reads

raft::Index LogStore::first_index_locked() const {
  return first_entry_ != 0 ? first_entry_ : snapshot_.index + 1;
}

raft::Index LogStore::last_index_locked() const {
  return last_entry_ != 0 ? last_entry_ : snapshot_.index;
}

raft::Index LogStore::first_index() const {
  std::lock_guard lock(mu_);
  return first_index_locked();
}

raft::Index LogStore::last_index() const {
  std::lock_guard lock(mu_);
  return last_index_locked();
}

raft::HardState LogStore::hard_state() const {
  std::lock_guard lock(mu_);
  return hard_state_;
}

raft::ConfState LogStore::conf_state() const {
  std::lock_guard lock(mu_);
  return snapshot_.conf;
}

raft::SnapshotMeta LogStore::snapshot_meta() const {
  std::lock_guard lock(mu_);
  return snapshot_;
}

std::uint64_t LogStore::snapshot_size() const {
  std::lock_guard lock(mu_);
  return snapshot_size_;
}

Status LogStore::read_entries_locked(raft::Index lo, raft::Index hi, std::uint64_t max_bytes,
                                     std::vector<raft::Entry>* out) const {
  Statement& q = st_->read_entries;
  q.reset();
  q.bind_uint(1, lo);
  q.bind_uint(2, hi);
  std::uint64_t bytes = 0;
  raft::Index expected = lo;
  bool limited = false;
  Status result;
  for (;;) {
    bool row = false;
    if (Status s = q.step(&row); !s) return s;
    if (!row) break;
    raft::Entry e;
    e.index = q.column_uint(0);
    e.term = q.column_uint(1);
    const std::int64_t type = q.column_int(2);
    e.data = q.column_blob(3);
    if (e.index != expected) {
      result = Status::corruption(path_ + ": entry " + u(expected) + " is missing");
      break;
    }
    if (type != 0 && type != 1) {
      result = bad_entry_type(path_, e.index, type);
      break;
    }
    if (entry_crc(e.index, e.term, static_cast<std::uint8_t>(type), e.data) != q.column_uint(4)) {
      result = Status::corruption(path_ + ": entry " + u(e.index) + ": CRC mismatch");
      break;
    }
    e.type = static_cast<raft::EntryType>(type);
    bytes += e.data.size();
    if (!out->empty() && bytes > max_bytes) {
      limited = true;
      break;
    }
    out->push_back(std::move(e));
    ++expected;
  }
  q.reset();
  if (result && !limited && expected < hi) {
    result = Status::corruption(path_ + ": entry " + u(expected) + " is missing");
  }
  return result;
}

Status LogStore::read_entry_locked(raft::Index i, raft::Entry* out) const {
  std::vector<raft::Entry> one;
  if (Status s = read_entries_locked(i, i + 1, 0, &one); !s) return s;
  *out = std::move(one.front());
  return Status::ok();
}

Status LogStore::entries(raft::Index lo, raft::Index hi, std::uint64_t max_bytes,
                         std::vector<raft::Entry>* out) const {
  out->clear();
  std::lock_guard lock(mu_);
  if (!broken_.is_ok()) return broken_;
  if (lo > hi) return Status::invalid_argument("entries: lo " + u(lo) + " > hi " + u(hi));
  if (lo < first_index_locked()) {
    return Status::compacted(path_ + ": entry " + u(lo) + " is compacted (first index " +
                             u(first_index_locked()) + ")");
  }
  if (hi > last_index_locked() + 1) {
    return Status::unavailable(path_ + ": entry " + u(hi - 1) + " is beyond the last index " +
                               u(last_index_locked()));
  }
  if (lo == hi) return Status::ok();
  Status s = read_entries_locked(lo, hi, max_bytes, out);
  if (!s) out->clear();
  return s;
}

Status LogStore::term(raft::Index i, raft::Term* out) const {
  std::lock_guard lock(mu_);
  if (!broken_.is_ok()) return broken_;
  const bool in_log = first_entry_ != 0 && i >= first_entry_ && i <= last_entry_;
  if (!in_log && i == snapshot_.index) {
    *out = snapshot_.term;
    return Status::ok();
  }
  if (i < first_index_locked()) return Status::compacted(path_ + ": term of compacted " + u(i));
  if (i > last_index_locked()) return Status::unavailable(path_ + ": term beyond last of " + u(i));
  raft::Entry e;
  if (Status s = read_entry_locked(i, &e); !s) return s;
  *out = e.term;
  return Status::ok();
}

Status LogStore::read_snapshot_chunk_locked(std::int64_t snapshot_id, std::uint64_t offset,
                                            std::uint64_t max_bytes, std::string* out) const {
  Statement& q = st_->read_chunks;
  q.reset();
  q.bind_int(1, snapshot_id);
  q.bind_uint(2, offset);
  Status result;
  std::uint64_t expected_offset = 0;
  bool first = true;
  while (out->size() < max_bytes) {
    bool row = false;
    if (Status s = q.step(&row); !s) return s;
    if (!row) break;
    const std::uint64_t row_offset = q.column_uint(0);
    const std::string data = q.column_blob(1);
    if ((!first && row_offset != expected_offset) || (first && row_offset > offset) ||
        crc32c(data) != q.column_uint(2)) {
      result =
          Status::corruption(path_ + ": snapshot data at offset " + u(row_offset) + " is damaged");
      break;
    }
    first = false;
    expected_offset = row_offset + data.size();
    if (expected_offset <= offset) continue;
    const std::size_t skip = offset > row_offset ? offset - row_offset : 0;
    const std::size_t take = std::min<std::uint64_t>(data.size() - skip, max_bytes - out->size());
    out->append(data, skip, take);
  }
  q.reset();
  return result;
}

Status LogStore::read_snapshot_chunk(std::uint64_t offset, std::uint64_t max_bytes,
                                     std::string* out) const {
  out->clear();
  std::lock_guard lock(mu_);
  if (!broken_.is_ok()) return broken_;
  if (max_bytes == 0) return Status::invalid_argument("read_snapshot_chunk: max_bytes is 0");
  if (offset >= snapshot_size_) return Status::ok();
  Status s = read_snapshot_chunk_locked(snapshot_id_, offset, max_bytes, out);
  const std::uint64_t want = std::min<std::uint64_t>(max_bytes, snapshot_size_ - offset);
  if (s && out->size() != want) {
    s = Status::corruption(path_ + ": snapshot data ends early at offset " +
                           u(offset + out->size()));
  }
  if (!s) out->clear();
  return s;
}

Status LogStore::read_snapshot(raft::Snapshot* out) const {
  std::lock_guard lock(mu_);
  if (!broken_.is_ok()) return broken_;
  out->meta = snapshot_;
  out->data.clear();
  if (snapshot_size_ == 0) return Status::ok();
  if (Status s = read_snapshot_chunk_locked(snapshot_id_, 0, snapshot_size_, &out->data); !s) {
    return s;
  }
  if (out->data.size() != snapshot_size_ || crc32c(out->data) != snapshot_crc_) {
    out->data.clear();
    return Status::corruption(path_ + ": snapshot data CRC or size mismatch");
  }
  return Status::ok();
}

Status LogStore::load_all(StartupState* out) const {
  std::lock_guard lock(mu_);
  if (!broken_.is_ok()) return broken_;
  out->hard_state = hard_state_;
  out->snapshot = snapshot_;
  out->snapshot_size = snapshot_size_;
  out->entries.clear();
  if (first_entry_ == 0) return Status::ok();
  return read_entries_locked(first_entry_, last_entry_ + 1, UINT64_MAX, &out->entries);
}

Status LogStore::integrity_check() const {
  std::lock_guard lock(mu_);
  if (!broken_.is_ok()) return broken_;
  std::int64_t version = 0;
  StartupExpectations full{options_.cluster_id, options_.member_id, 0};
  full.full = true;
  return run_startup_checks(*db_, full, &version);
}

}  // namespace raftmeta::storage
