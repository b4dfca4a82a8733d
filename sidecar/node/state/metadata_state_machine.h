// MetadataStateMachine: the replicated cluster metadata (topics, partitions,
// brokers, consumer groups, committed offsets, producer ids) behind the
// node::Applier contract.
//
// Each committed entry holds one encoded raftmeta.v1.Command. apply():
//  1. advances the revision to the entry's index (always, whatever follows);
//  2. answers a retried write, known by (client_id, request_id), with the
//     outcome it had the first time;
//  3. validates the command against the current state (validation.h) and
//     either executes it (command_executor.h) or records the deterministic
//     error; in both cases remembers the outcome for the client;
//  4. appends what changed to the watch history.
// Nothing in apply() reads a clock, a random source or anything but the
// entry and the state, so every member reaches byte-identical state.
//
// Publication: the apply thread mutates a private working State (sharing
// structure with what it published); publish() makes an immutable copy of it
// visible with one atomic pointer store. current() is an atomic load: readers
// never block the apply thread and are never blocked by it.
//
// THREAD SAFETY: apply(), publish(), applied_index(), snapshot() and
// restore() are for the apply thread only (REQUIRES: one thread).
// current() is safe from any thread at any time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "sidecar/node/applier.h"
#include "sidecar/node/state/client_sessions.h"
#include "sidecar/node/state/state.h"

namespace raftmeta::state {

// Every member of a cluster must use the same `sessions` limits: they decide
// which request ids are remembered, which is part of the replicated state.
struct StateMachineOptions {
  SessionLimits sessions;
  // Watch history: events (one per changing revision) kept in memory.
  std::size_t watch_capacity = 10'000;
};

class MetadataStateMachine final : public node::Applier {
 public:
  explicit MetadataStateMachine(StateMachineOptions options = {});

  node::ApplyOutcome apply(raft::Index index, raft::Term term, std::string_view data) override;
  void publish() override;
  raft::Index applied_index() const override;
  std::string snapshot() const override;
  // Also publishes the restored state.
  bool restore(raft::Index index, std::string_view data, std::string* error) override;

  // The latest published State (never null). Any thread.
  std::shared_ptr<const State> current() const;

 private:
  StateMachineOptions options_;
  State working_;                           // apply thread only
  std::shared_ptr<const State> published_;  // atomic_load / atomic_store only
};

}  // namespace raftmeta::state
