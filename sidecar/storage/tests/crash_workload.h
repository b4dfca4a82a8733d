// The workload of the crash and power-loss tests and the check of what
// survives them.
//
// The writer appends batches (one Ready each: entries + hard state), now and
// then rewrites the last two entries with a higher term (the truncation
// rule), raises the commit cheaply, and takes a local snapshot and compacts.
// Payloads are a pure function of (index, term), so every entry read back can
// be verified on its own. A batch is "reported" once save() returned ok: from
// then on it must survive any crash or power cut.
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <string>

#include "sidecar/raft/types.h"
#include "sidecar/storage/log_store.h"

namespace raftmeta::storage::testing {

inline constexpr const char* kCrashClusterId = "crash-cluster";
inline constexpr std::uint64_t kCrashMemberId = 1;
inline constexpr std::uint64_t kCrashKeepTail = 50;

OpenOptions crash_options(const std::string& dir);
std::string crash_payload(raft::Index index, raft::Term term);

// A batch that save() made durable.
struct Report {
  raft::Index first = 0, last = 0;
  raft::Term term = 0;
  raft::Index commit = 0;
};

class CrashWriter {
 public:
  // Starts a new term above the stored one (as after an election).
  explicit CrashWriter(const LogStore& store, std::uint64_t seed);
  // Writes one batch; *reported is filled when save() succeeded.
  Status append_batch(LogStore& store, Report* reported, bool* was_reported);
  // The cheap commit, snapshot and compaction that may follow a batch.
  Status after_batch(LogStore& store);

 private:
  std::mt19937_64 rng_;
  raft::HardState hs_;
  raft::Term term_;
  std::uint64_t round_ = 0;
};

// What is known to be durable: index -> term, and the hard state's floor.
struct Expected {
  std::map<raft::Index, raft::Term> log;
  raft::Term min_term = 0;
  raft::Index min_commit = 0;

  void apply(const Report& r);
};

// Checks an opened store against `expected`: every entry intact and the log
// contiguous; every reported entry present with its term, except that the
// batch in flight at the failure may have rewritten the last two with a higher
// term; the hard state not older than reported and consistent with the log.
// Returns "" or the first violation. On success `expected` becomes the
// store's (verified) state.
std::string verify_store(LogStore& store, Expected* expected);

}  // namespace raftmeta::storage::testing
