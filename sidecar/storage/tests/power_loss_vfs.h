// PowerLossVfs: a SQLite VFS for tests that simulates losing power.
//
// It wraps the default (unix) VFS. Writes and truncations are kept in memory,
// per file path, until the file is synced (xSync); reads see them, as they
// would see the page cache. A power cut drops everything not yet synced and
// makes every later read, write and sync fail (the "machine" is off) until
// restore_power(), which the test calls after closing every connection: then
// only what was synced is left, exactly as after a real power loss. SIGKILL
// alone cannot show a missing fsync; this can.
//
// What a cut does with unsynced writes is the cut mode: drop all of them (the
// strict reading: nothing unsynced reached the disk), or let a random subset
// reach it, each possibly torn after a random number of 512-byte sectors, in
// any order (what a real disk may do; SQLite's WAL checksums must cope).
//
// A sync here only moves data into the real file (no real fsync: the test
// is about SQLite's and LogStore's syncing, not the disk's).
//
// The cut can be armed to happen at the N-th write/truncate/sync from now,
// i.e. at a random point inside a transaction.
//
// Thread safety: safe for concurrent use (one mutex). Register once per
// process; the object must outlive every connection that uses it.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <vector>

namespace raftmeta::storage::testing {

class PowerLossVfs {
 public:
  // Registers the VFS under `name` (not as the default).
  explicit PowerLossVfs(const std::string& name);
  ~PowerLossVfs();
  PowerLossVfs(const PowerLossVfs&) = delete;
  PowerLossVfs& operator=(const PowerLossVfs&) = delete;

  const std::string& name() const { return name_; }

  // The power fails at the (n+1)-th write/truncate/sync from now (that
  // operation already fails). Replaces an earlier arming.
  void cut_power_after(std::uint64_t n);
  void cut_power_now();
  enum class CutMode { kDropAllUnsynced, kKeepRandomUnsynced };
  void set_cut_mode(CutMode mode, std::uint64_t seed);

  // Power back on; disarms. REQUIRES every connection using the VFS closed.
  void restore_power();
  bool power_is_off() const;
  // Writes, truncations and syncs that reached this VFS so far.
  std::uint64_t operations() const;
  // Bytes written but not yet synced, over all files.
  std::uint64_t unsynced_bytes() const;

  // --- used by the VFS callbacks only ---
  struct Op {
    bool truncate = false;
    sqlite3_int64 offset = 0;  // truncate: the new size
    std::string data;
  };
  struct File;
  mutable std::mutex mu;
  std::map<std::string, std::vector<Op>> pending;  // guarded by mu
  bool off = false;                                // guarded by mu
  std::int64_t countdown = -1;                     // guarded by mu; -1: not armed
  std::uint64_t ops = 0;                           // guarded by mu
  CutMode mode = CutMode::kDropAllUnsynced;        // guarded by mu
  std::mt19937_64 rng;                             // guarded by mu
  sqlite3_vfs* real = nullptr;
  // Counts one write/truncate/sync; true if the power is (now) off. REQUIRES mu.
  bool tick_locked();
  void cut_locked();

 private:
  std::string name_;
  sqlite3_vfs vfs_{};
};

}  // namespace raftmeta::storage::testing
