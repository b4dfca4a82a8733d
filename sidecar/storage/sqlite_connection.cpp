#include "sidecar/storage/sqlite_connection.h"

#include <utility>

namespace raftmeta::storage {

Statement::Statement(Statement&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)), conn_(other.conn_) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    stmt_ = std::exchange(other.stmt_, nullptr);
    conn_ = other.conn_;
  }
  return *this;
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

void Statement::bind_int(int pos, std::int64_t v) { sqlite3_bind_int64(stmt_, pos, v); }

void Statement::bind_blob(int pos, std::string_view v) {
  // A zero-length blob must still be a blob, not NULL.
  sqlite3_bind_blob64(stmt_, pos, v.empty() ? "" : v.data(), v.size(), SQLITE_TRANSIENT);
}

void Statement::bind_text(int pos, std::string_view v) {
  sqlite3_bind_text64(stmt_, pos, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}

Status Statement::step(bool* row) {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) {
    *row = true;
    return Status::ok();
  }
  *row = false;
  if (rc == SQLITE_DONE) return Status::ok();
  Status s = conn_->error(sqlite3_sql(stmt_), rc);
  sqlite3_reset(stmt_);
  return s;
}

Status Statement::run() {
  bool row = true;
  while (row) {
    Status s = step(&row);
    if (!s) return s;
  }
  return Status::ok();
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::int64_t Statement::column_int(int col) const { return sqlite3_column_int64(stmt_, col); }

std::string Statement::column_blob(int col) const {
  const void* p = sqlite3_column_blob(stmt_, col);
  const int n = sqlite3_column_bytes(stmt_, col);
  if (p == nullptr || n <= 0) return {};
  return std::string(static_cast<const char*>(p), static_cast<std::size_t>(n));
}

bool Statement::column_is_null(int col) const {
  return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}

Status SqliteConnection::open(const std::string& path, int flags, const char* vfs,
                              std::unique_ptr<SqliteConnection>* out) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, vfs);
  if (rc != SQLITE_OK) {
    std::string msg = path + ": cannot open: " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_close_v2(db);
    return rc == SQLITE_CANTOPEN ? Status::io_error(msg) : Status::corruption(msg);
  }
  sqlite3_extended_result_codes(db, 1);
  out->reset(new SqliteConnection(path, db));
  return Status::ok();
}

SqliteConnection::~SqliteConnection() { sqlite3_close_v2(db_); }

Status SqliteConnection::prepare(std::string_view sql, Statement* out) const {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return error(sql, rc);
  *out = Statement(stmt, this);
  return Status::ok();
}

Status SqliteConnection::exec(const std::string& sql) const {
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  sqlite3_free(err);
  if (rc != SQLITE_OK) return error(sql, rc);
  return Status::ok();
}

Status SqliteConnection::query_int(const std::string& sql, std::int64_t* out) const {
  Statement st;
  if (Status s = prepare(sql, &st); !s) return s;
  bool row = false;
  if (Status s = st.step(&row); !s) return s;
  if (!row) return Status::corruption(path_ + ": " + sql + " returned no row");
  *out = st.column_int(0);
  return Status::ok();
}

Status SqliteConnection::error(std::string_view what, int rc) const {
  std::string msg = path_ + ": " + std::string(what) + ": " + sqlite3_errmsg(db_) + " (code " +
                    std::to_string(rc) + ")";
  switch (rc & 0xFF) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Status::corruption(std::move(msg));
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::busy(std::move(msg));
    default:
      return Status::io_error(std::move(msg));
  }
}

}  // namespace raftmeta::storage
