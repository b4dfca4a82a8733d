// CommandExecutor: how each validated command changes the State.
//
// execute() is deterministic: its effect, response and change events depend
// only on the command, the revision and the state (time comes from the
// command's leader_time_ms). It replaces only the records a command touches,
// so the previous State version is never modified.
//
// Partition leadership follows broker availability: when a broker is fenced
// or unregistered it leaves every ISR it is in (unless it is the last
// member) and every leadership, which moves to the first unfenced ISR member
// in replica order (or -1); when a broker registers or is unfenced, every
// leaderless partition whose ISR holds it gets it as leader. Each leader
// change increments the leader epoch; each partition change its partition
// epoch.
//
// THREAD SAFETY: called by the apply thread only, on its working State.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "raftmeta/v1/state.pb.h"
#include "sidecar/node/state/state.h"
#include "sidecar/node/state/validation.h"

namespace raftmeta::state {

struct Execution {
  CommandStatus status;
  std::string response;             // serialized response message when ok
  std::vector<v1::Change> changes;  // for the watch log, in order
};

// REQUIRES: validate(command, *state).ok() and state->applied_revision ==
// revision.
Execution execute(const v1::Command& command, std::uint64_t revision, State* state);

}  // namespace raftmeta::state
