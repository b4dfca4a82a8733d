// Builders of state-machine commands and a harness that applies them at
// consecutive indexes, for the state tests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "raftmeta/v1/state.pb.h"
#include "sidecar/node/state/metadata_state_machine.h"

namespace raftmeta::state::testing {

inline constexpr std::int64_t kT0 = 1'700'000'000'000;  // a leader clock reading, ms

inline v1::Command with_header(v1::Command c, const std::string& client, std::uint64_t request) {
  c.mutable_header()->set_client_id(client);
  c.mutable_header()->set_request_id(request);
  return c;
}

inline v1::Command create_topic(const std::string& name, int partitions, int rf) {
  v1::Command c;
  c.set_leader_time_ms(kT0);
  auto* r = c.mutable_create_topic();
  r->set_name(name);
  r->set_partitions(partitions);
  r->set_replication_factor(rf);
  return c;
}

inline v1::Command create_topic_assigned(const std::string& name,
                                         const std::vector<std::vector<int>>& replicas) {
  v1::Command c = create_topic(name, static_cast<int>(replicas.size()),
                               replicas.empty() ? 1 : static_cast<int>(replicas[0].size()));
  for (std::size_t p = 0; p < replicas.size(); ++p) {
    auto* a = c.mutable_create_topic()->add_assignments();
    a->set_partition(static_cast<int>(p));
    for (int b : replicas[p]) a->add_replicas(b);
  }
  return c;
}

inline v1::Command delete_topic(const std::string& name) {
  v1::Command c;
  c.mutable_delete_topic()->set_name(name);
  return c;
}

inline v1::Command register_broker(int id, std::int64_t now_ms = kT0,
                                   const std::string& incarnation = "",
                                   std::int64_t session_timeout_ms = 10'000) {
  v1::Command c;
  c.set_leader_time_ms(now_ms);
  auto* r = c.mutable_register_broker();
  r->set_broker_id(id);
  r->set_host("broker-" + std::to_string(id));
  r->set_port(9092);
  r->set_rack("rack-" + std::to_string(id % 2));
  r->set_session_timeout_ms(session_timeout_ms);
  r->set_incarnation_id(incarnation.empty() ? "inc-" + std::to_string(id) : incarnation);
  return c;
}

inline v1::Command heartbeat(int id, std::uint64_t epoch, std::int64_t now_ms) {
  v1::Command c;
  c.set_leader_time_ms(now_ms);
  c.mutable_broker_heartbeat()->set_broker_id(id);
  c.mutable_broker_heartbeat()->set_broker_epoch(epoch);
  return c;
}

inline v1::Command unregister_broker(int id) {
  v1::Command c;
  c.mutable_unregister_broker()->set_broker_id(id);
  return c;
}

inline v1::Command fence(int id, std::uint64_t epoch, std::int64_t now_ms) {
  v1::Command c;
  c.set_leader_time_ms(now_ms);
  auto* t = c.mutable_fence_brokers()->add_brokers();
  t->set_broker_id(id);
  t->set_broker_epoch(epoch);
  return c;
}

inline v1::Command alter_partition(const std::string& topic, int partition, int leader_epoch) {
  v1::Command c;
  auto* r = c.mutable_alter_partition();
  r->set_topic(topic);
  r->set_partition(partition);
  r->set_leader_epoch(leader_epoch);
  r->set_partition_epoch(-1);
  return c;
}

inline v1::Command create_group(const std::string& id) {
  v1::Command c;
  c.mutable_create_group()->set_group_id(id);
  c.mutable_create_group()->set_protocol_type("consumer");
  return c;
}

inline v1::Command update_group(const std::string& id, int expected_generation,
                                const std::vector<std::string>& members) {
  v1::Command c;
  auto* r = c.mutable_update_group();
  r->set_group_id(id);
  r->set_expected_generation(expected_generation);
  r->set_protocol_type("consumer");
  r->set_protocol("range");
  r->set_state(members.empty() ? v1::GROUP_STATE_EMPTY : v1::GROUP_STATE_STABLE);
  if (!members.empty()) r->set_leader_member_id(members[0]);
  for (const auto& m : members) r->add_members()->set_member_id(m);
  return c;
}

inline v1::Command delete_group(const std::string& id) {
  v1::Command c;
  c.mutable_delete_group()->set_group_id(id);
  return c;
}

struct OffsetSpec {
  std::string topic;
  int partition;
  std::int64_t offset;
};

inline v1::Command commit_offsets(const std::string& group, const std::vector<OffsetSpec>& specs,
                                  int generation = -1, const std::string& member = "") {
  v1::Command c;
  c.set_leader_time_ms(kT0);
  auto* r = c.mutable_commit_offsets();
  r->set_group_id(group);
  r->set_generation(generation);
  r->set_member_id(member);
  for (const auto& s : specs) {
    auto* o = r->add_offsets();
    o->set_topic(s.topic);
    o->set_partition(s.partition);
    o->set_offset(s.offset);
    o->set_leader_epoch(-1);
  }
  return c;
}

inline v1::Command delete_offsets(const std::string& group,
                                  const std::vector<std::pair<std::string, int>>& partitions) {
  v1::Command c;
  c.mutable_delete_offsets()->set_group_id(group);
  for (const auto& [topic, p] : partitions) {
    auto* tp = c.mutable_delete_offsets()->add_partitions();
    tp->set_topic(topic);
    tp->set_partition(p);
  }
  return c;
}

inline v1::Command allocate_producer_ids(int broker, std::uint64_t epoch) {
  v1::Command c;
  c.mutable_allocate_producer_ids()->set_broker_id(broker);
  c.mutable_allocate_producer_ids()->set_broker_epoch(epoch);
  return c;
}

// Applies commands at consecutive indexes (term 1) and publishes after each.
class Harness {
 public:
  explicit Harness(StateMachineOptions options = {}) : sm(options) {}

  node::ApplyOutcome run(const v1::Command& command) {
    return run_bytes(command.SerializeAsString());
  }
  node::ApplyOutcome run_bytes(const std::string& bytes) {
    auto outcome = sm.apply(next_index++, 1, bytes);
    sm.publish();
    return outcome;
  }
  std::shared_ptr<const State> state() const { return sm.current(); }

  // Registers brokers 1..n; returns their epochs (index 0 = broker 1).
  std::vector<std::uint64_t> register_brokers(int n) {
    std::vector<std::uint64_t> epochs;
    for (int id = 1; id <= n; ++id) {
      auto outcome = run(register_broker(id));
      v1::RegisterBrokerResponse response;
      response.ParseFromString(outcome.response);
      epochs.push_back(response.broker_epoch());
    }
    return epochs;
  }

  MetadataStateMachine sm;
  std::uint64_t next_index = 1;
};

template <typename Response>
Response parse(const node::ApplyOutcome& outcome) {
  Response response;
  response.ParseFromString(outcome.response);
  return response;
}

}  // namespace raftmeta::state::testing
