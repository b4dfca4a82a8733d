#include "sidecar/node/state/snapshot_codec.h"

#include "raftmeta/v1/state.pb.h"
#include "sidecar/node/state/deterministic_serialization.h"

namespace raftmeta::state {

std::string encode_snapshot(const State& state) {
  v1::StateSnapshot snapshot;
  snapshot.set_format_version(kSnapshotFormatVersion);
  snapshot.set_revision(state.applied_revision);
  for (auto it = state.topics.begin(); it != state.topics.end(); ++it) {
    *snapshot.add_topics() = *it.value();
  }
  for (auto it = state.brokers.begin(); it != state.brokers.end(); ++it) {
    *snapshot.add_brokers() = *it.value();
  }
  for (auto it = state.groups.begin(); it != state.groups.end(); ++it) {
    *snapshot.add_groups() = *it.value();
  }
  for (auto it = state.offsets.begin(); it != state.offsets.end(); ++it) {
    *snapshot.add_offsets() = *it.value();
  }
  snapshot.set_next_producer_id(state.producer_id_next);
  const auto& sessions = state.sessions.sessions();
  for (auto it = sessions.begin(); it != sessions.end(); ++it) {
    v1::ClientSession* session = snapshot.add_clients();
    session->set_client_id(it.key());
    session->set_last_revision(it.value()->last_revision);
    session->set_acknowledged_below(it.value()->acknowledged_below);
    const auto& outcomes = it.value()->outcomes;
    for (auto o = outcomes.begin(); o != outcomes.end(); ++o) {
      v1::RememberedOutcome* remembered = session->add_outcomes();
      remembered->set_request_id(o.key());
      remembered->set_code(o.value()->code);
      remembered->set_message(o.value()->message);
      remembered->set_response(o.value()->response);
    }
  }
  return serialize_deterministic(snapshot);
}

bool decode_snapshot(std::string_view data, State* out, std::string* error) {
  v1::StateSnapshot snapshot;
  if (!snapshot.ParseFromArray(data.data(), static_cast<int>(data.size()))) {
    *error = "snapshot does not parse as raftmeta.v1.StateSnapshot";
    return false;
  }
  if (snapshot.format_version() != kSnapshotFormatVersion) {
    *error = "unknown snapshot format version " + std::to_string(snapshot.format_version());
    return false;
  }
  State state;
  state.applied_revision = snapshot.revision();
  for (auto& topic : *snapshot.mutable_topics()) {
    if (topic.name().empty() || state.topics.contains(topic.name())) {
      *error = "snapshot has an empty or repeated topic name";
      return false;
    }
    for (int i = 0; i < topic.partitions_size(); ++i) {
      if (topic.partitions(i).partition() != i || topic.partitions(i).topic() != topic.name()) {
        *error = "snapshot topic '" + topic.name() + "' has misnumbered partitions";
        return false;
      }
    }
    std::string name = topic.name();
    state.topics.set(std::move(name), std::make_shared<const v1::Topic>(std::move(topic)));
  }
  for (auto& broker : *snapshot.mutable_brokers()) {
    if (state.brokers.contains(broker.id())) {
      *error = "snapshot repeats broker " + std::to_string(broker.id());
      return false;
    }
    const std::int32_t id = broker.id();
    state.brokers.set(id, std::make_shared<const v1::Broker>(std::move(broker)));
  }
  for (auto& group : *snapshot.mutable_groups()) {
    if (state.groups.contains(group.group_id())) {
      *error = "snapshot repeats group '" + group.group_id() + "'";
      return false;
    }
    std::string id = group.group_id();
    state.groups.set(std::move(id), std::make_shared<const v1::ConsumerGroup>(std::move(group)));
  }
  for (auto& offset : *snapshot.mutable_offsets()) {
    OffsetKey key{offset.group_id(), offset.topic(), offset.partition()};
    if (state.offsets.contains(key)) {
      *error = "snapshot repeats a committed offset";
      return false;
    }
    state.put_offset(std::make_shared<const v1::CommittedOffset>(std::move(offset)));
  }
  state.producer_id_next = snapshot.next_producer_id();
  for (auto& client : *snapshot.mutable_clients()) {
    if (state.sessions.sessions().contains(client.client_id())) {
      *error = "snapshot repeats client '" + client.client_id() + "'";
      return false;
    }
    ClientSession session;
    session.last_revision = client.last_revision();
    session.acknowledged_below = client.acknowledged_below();
    for (auto& o : *client.mutable_outcomes()) {
      node::ApplyOutcome outcome;
      outcome.code = o.code();
      outcome.message = std::move(*o.mutable_message());
      outcome.response = std::move(*o.mutable_response());
      session.outcomes.set(o.request_id(),
                           std::make_shared<const node::ApplyOutcome>(std::move(outcome)));
    }
    state.sessions.restore_session(client.client_id(), std::move(session));
  }
  state.watch.reset(state.applied_revision + 1);
  *out = std::move(state);
  return true;
}

}  // namespace raftmeta::state
