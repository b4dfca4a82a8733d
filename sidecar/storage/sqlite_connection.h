// Thin RAII wrappers over the SQLite C API used inside sidecar/storage only:
// a connection and a prepared statement. Errors become Status values whose
// message names the database file.
//
// Thread safety: a SqliteConnection and its statements REQUIRE external
// synchronization (LogStore serializes all use behind its mutex).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "sidecar/storage/status.h"

namespace raftmeta::storage {

class SqliteConnection;

class Statement {
 public:
  Statement() = default;
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  bool valid() const { return stmt_ != nullptr; }

  // Bind parameters by 1-based position. Text/blob are copied by SQLite.
  void bind_int(int pos, std::int64_t v);
  void bind_uint(int pos, std::uint64_t v) { bind_int(pos, static_cast<std::int64_t>(v)); }
  void bind_blob(int pos, std::string_view v);
  void bind_text(int pos, std::string_view v);

  // Runs one step: *row is true when a row is available. An error resets the
  // statement.
  Status step(bool* row);
  // Steps to completion, ignoring rows (for INSERT/UPDATE/DELETE).
  Status run();
  // Resets and clears bindings so the statement can be reused.
  void reset();

  std::int64_t column_int(int col) const;
  std::uint64_t column_uint(int col) const { return static_cast<std::uint64_t>(column_int(col)); }
  std::string column_blob(int col) const;
  bool column_is_null(int col) const;

 private:
  friend class SqliteConnection;
  Statement(sqlite3_stmt* stmt, const SqliteConnection* conn) : stmt_(stmt), conn_(conn) {}

  sqlite3_stmt* stmt_ = nullptr;
  const SqliteConnection* conn_ = nullptr;
};

class SqliteConnection {
 public:
  // flags: SQLITE_OPEN_READONLY or SQLITE_OPEN_READWRITE [| SQLITE_OPEN_CREATE].
  // vfs: nullptr for the default VFS.
  static Status open(const std::string& path, int flags, const char* vfs,
                     std::unique_ptr<SqliteConnection>* out);
  ~SqliteConnection();
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  const std::string& path() const { return path_; }
  sqlite3* handle() const { return db_; }

  Status prepare(std::string_view sql, Statement* out) const;
  // Runs one or more statements without results.
  Status exec(const std::string& sql) const;
  // Runs a query expected to return one integer (e.g. a PRAGMA).
  Status query_int(const std::string& sql, std::int64_t* out) const;

  // "<path>: <what>: <sqlite error message> (code N)"
  Status error(std::string_view what, int rc) const;

 private:
  SqliteConnection(std::string path, sqlite3* db) : path_(std::move(path)), db_(db) {}

  std::string path_;
  sqlite3* db_ = nullptr;
};

}  // namespace raftmeta::storage
