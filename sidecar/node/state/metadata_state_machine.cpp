#include "sidecar/node/state/metadata_state_machine.h"

#include <utility>

#include "e2e/cluster/chaos/planted_bugs.h"
#include "raftmeta/v1/state.pb.h"
#include "sidecar/node/state/command_executor.h"
#include "sidecar/node/state/snapshot_codec.h"
#include "sidecar/node/state/validation.h"

namespace raftmeta::state {

MetadataStateMachine::MetadataStateMachine(StateMachineOptions options)
    : options_(std::move(options)), published_(std::make_shared<const State>()) {}

node::ApplyOutcome MetadataStateMachine::apply(raft::Index index, raft::Term /*term*/,
                                               std::string_view data) {
  // PLANTED BUG double-apply-after-restart (raftmeta-node-planted only; a
  // constant false elsewhere): an old index is applied again as if new, with
  // neither this guard nor the client sessions stopping it.
  const bool applied_again = index <= working_.applied_revision &&
                             chaos::planted::enabled(chaos::planted::Bug::kDoubleApplyAfterRestart);
  if (index <= working_.applied_revision && !applied_again) {
    // The runtime never does this; refuse rather than rewind the revision.
    return {kFailedPrecondition,
            "entry " + std::to_string(index) + " is at or below the applied index " +
                std::to_string(working_.applied_revision),
            {}};
  }
  if (!applied_again) {
    working_.applied_revision = index;
    working_.sessions.expire(index, options_.sessions);
  }
  if (data.empty()) return {};  // a leader's no-op

  v1::Command command;
  if (!command.ParseFromArray(data.data(), static_cast<int>(data.size()))) {
    return {kInvalidArgument, "entry " + std::to_string(index) + " is not a valid command", {}};
  }
  const std::string& client_id = command.header().client_id();
  const std::uint64_t request_id = command.header().request_id();
  const bool deduplicated = !client_id.empty() && request_id != 0 && !applied_again;
  if (deduplicated) {
    if (const node::ApplyOutcome* original = working_.sessions.find(client_id, request_id)) {
      return *original;
    }
    if (working_.sessions.acknowledged(client_id, request_id)) {
      // A late copy of a request the client already had its answer to (it
      // said so with first_unacknowledged): nobody waits for this answer,
      // and applying it again would apply it twice.
      return {kFailedPrecondition, ClientSessions::late_copy_refusal(client_id, request_id), {}};
    }
  }

  node::ApplyOutcome outcome;
  CommandStatus status = validate(command, working_);
  if (status.ok()) {
    Execution execution = execute(command, index, &working_);
    status = std::move(execution.status);
    outcome.response = std::move(execution.response);
    working_.watch.append(index, std::move(execution.changes), options_.watch_capacity);
  }
  outcome.code = status.code;
  outcome.message = std::move(status.message);
  if (!status.ok()) outcome.response.clear();
  if (deduplicated) {
    working_.sessions.remember(client_id, request_id, command.header().first_unacknowledged(),
                               index, outcome, options_.sessions);
  }
  return outcome;
}

void MetadataStateMachine::publish() {
  std::atomic_store(&published_, std::shared_ptr<const State>(std::make_shared<State>(working_)));
}

raft::Index MetadataStateMachine::applied_index() const { return working_.applied_revision; }

std::string MetadataStateMachine::snapshot() const { return encode_snapshot(working_); }

bool MetadataStateMachine::restore(raft::Index index, std::string_view data, std::string* error) {
  State restored;
  if (!decode_snapshot(data, &restored, error)) return false;
  if (restored.applied_revision != index) {
    *error = "snapshot holds revision " + std::to_string(restored.applied_revision) +
             " but was offered as index " + std::to_string(index);
    return false;
  }
  working_ = std::move(restored);
  publish();
  return true;
}

std::shared_ptr<const State> MetadataStateMachine::current() const {
  return std::atomic_load(&published_);
}

}  // namespace raftmeta::state
