// The boundary between the node runtime's apply thread and the metadata
// state machine.
//
// The apply thread is the only caller of every method here (REQUIRES: one
// thread). It hands each committed normal entry to apply() in log order, then
// calls publish() once per batch so that readers see the new immutable state
// with a single atomic pointer swap. Nothing here may block on another
// thread or take a lock that a request handler can hold: apply() is pure
// computation over the state machine's own data.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "sidecar/raft/types.h"

namespace raftmeta::node {

// What a client gets back for one applied command. `code` uses gRPC status
// code numbers (0 = OK, 3 = INVALID_ARGUMENT, 5 = NOT_FOUND, 6 = ALREADY_EXISTS,
// 9 = FAILED_PRECONDITION, ...), so handlers can return it directly.
struct ApplyOutcome {
  int code = 0;
  std::string message;   // for people; empty on success
  std::string response;  // serialized response message (service-specific)
};

class Applier {
 public:
  virtual ~Applier() = default;

  // Applies the command in `data` (committed at `index`, term `term`). Never
  // throws and never stalls on bad data: a command that fails validation at
  // apply time yields an error outcome, deterministically on every member,
  // and the revision still advances to `index`. An empty `data` (a leader's
  // no-op) only advances the revision.
  virtual ApplyOutcome apply(raft::Index index, raft::Term term, std::string_view data) = 0;

  // Makes everything applied so far visible to readers (atomic swap).
  virtual void publish() = 0;

  // Index of the last applied entry (the revision readers see after publish()).
  virtual raft::Index applied_index() const = 0;

  // Serialized snapshot of everything applied so far.
  virtual std::string snapshot() const = 0;

  // Replaces the whole state with a snapshot taken at `index`; on failure
  // returns false with a reason and leaves the state unchanged.
  virtual bool restore(raft::Index index, std::string_view data, std::string* error) = 0;
};

}  // namespace raftmeta::node
