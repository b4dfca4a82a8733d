#include "sidecar/node/state/command_executor.h"

#include <algorithm>
#include <limits>
#include <memory>
#include <utility>

#include "sidecar/node/state/broker_sessions.h"
#include "sidecar/node/state/deterministic_serialization.h"

namespace raftmeta::state {
namespace {

template <typename Ids>
bool contains(const Ids& ids, std::int32_t id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

v1::Change change_of(v1::ChangeKind kind) {
  v1::Change change;
  change.set_kind(kind);
  return change;
}

// First unfenced ISR member in replica order, other than `excluded`.
std::int32_t choose_leader(const v1::Partition& p, const State& state, std::int32_t excluded) {
  for (std::int32_t replica : p.replicas()) {
    if (replica == excluded || !contains(p.isr(), replica)) continue;
    auto broker = state.find_broker(replica);
    if (broker && !broker->fenced()) return replica;
  }
  return -1;
}

void bump_partition(v1::Partition* p, std::uint64_t revision, bool leader_changed) {
  if (leader_changed) p->set_leader_epoch(p->leader_epoch() + 1);
  p->set_partition_epoch(p->partition_epoch() + 1);
  p->set_mod_revision(revision);
}

// Runs `update` on every partition; stores topics whose partitions it changed
// and records a PARTITION_CHANGED per changed partition. `update` returns
// whether it changed the partition. O(total partitions): brokers come and go
// rarely.
template <typename Update>
void update_partitions(State* state, std::uint64_t revision, std::vector<v1::Change>* changes,
                       Update update) {
  const auto topics = state->topics;  // iterate a stable version while replacing
  for (auto it = topics.begin(); it != topics.end(); ++it) {
    std::shared_ptr<v1::Topic> copy;
    for (int i = 0; i < it.value()->partitions_size(); ++i) {
      v1::Partition candidate = it.value()->partitions(i);
      if (!update(&candidate)) continue;
      if (!copy) copy = std::make_shared<v1::Topic>(*it.value());
      *copy->mutable_partitions(i) = candidate;
      auto change = change_of(v1::CHANGE_KIND_PARTITION_CHANGED);
      *change.mutable_partition() = std::move(candidate);
      changes->push_back(std::move(change));
    }
    if (copy) {
      copy->set_mod_revision(revision);
      state->topics.set(it.key(), std::move(copy));
    }
  }
}

// `broker_id` is fenced or gone (already so in *state).
void on_broker_unavailable(State* state, std::int32_t broker_id, std::uint64_t revision,
                           std::vector<v1::Change>* changes) {
  update_partitions(state, revision, changes, [&](v1::Partition* p) {
    if (!contains(p->replicas(), broker_id)) return false;
    bool changed = false;
    if (contains(p->isr(), broker_id) && p->isr_size() > 1) {
      auto* isr = p->mutable_isr();
      isr->erase(std::find(isr->begin(), isr->end(), broker_id));
      changed = true;
    }
    bool leader_changed = false;
    if (p->leader() == broker_id) {
      p->set_leader(choose_leader(*p, *state, broker_id));
      leader_changed = true;
    }
    if (!changed && !leader_changed) return false;
    bump_partition(p, revision, leader_changed);
    return true;
  });
}

// `broker_id` is registered and unfenced (already so in *state).
void on_broker_available(State* state, std::int32_t broker_id, std::uint64_t revision,
                         std::vector<v1::Change>* changes) {
  update_partitions(state, revision, changes, [&](v1::Partition* p) {
    if (p->leader() != -1 || !contains(p->isr(), broker_id)) return false;
    p->set_leader(choose_leader(*p, *state, -1));
    if (p->leader() == -1) return false;
    bump_partition(p, revision, true);
    return true;
  });
}

Execution ok(const google::protobuf::MessageLite& response, std::vector<v1::Change> changes) {
  Execution e;
  e.response = serialize_deterministic(response);
  e.changes = std::move(changes);
  return e;
}

Execution create_topic(const v1::CreateTopicRequest& r, std::uint64_t revision, State* state) {
  auto topic = std::make_shared<v1::Topic>();
  topic->set_name(r.name());
  topic->set_topic_id(revision);
  topic->set_replication_factor(r.replication_factor());
  *topic->mutable_configs() = r.configs();
  topic->set_create_revision(revision);
  topic->set_mod_revision(revision);

  std::vector<std::vector<std::int32_t>> replicas(static_cast<std::size_t>(r.partitions()));
  if (r.assignments_size() > 0) {
    for (const auto& a : r.assignments()) {
      replicas[static_cast<std::size_t>(a.partition())].assign(a.replicas().begin(),
                                                               a.replicas().end());
    }
  } else {
    // Round-robin over unfenced brokers by id, starting at a position derived
    // from the topic id so that leaders spread over brokers across topics.
    std::vector<std::int32_t> brokers;
    for (auto it = state->brokers.begin(); it != state->brokers.end(); ++it) {
      if (!it.value()->fenced()) brokers.push_back(it.key());
    }
    const std::size_t n = brokers.size();
    const std::size_t start = static_cast<std::size_t>(revision % n);
    for (std::size_t p = 0; p < replicas.size(); ++p) {
      for (std::size_t k = 0; k < static_cast<std::size_t>(r.replication_factor()); ++k) {
        replicas[p].push_back(brokers[(start + p + k) % n]);
      }
    }
  }
  for (std::size_t i = 0; i < replicas.size(); ++i) {
    v1::Partition* p = topic->add_partitions();
    p->set_topic(r.name());
    p->set_partition(static_cast<std::int32_t>(i));
    for (std::int32_t b : replicas[i]) {
      p->add_replicas(b);
      p->add_isr(b);
    }
    p->set_leader(choose_leader(*p, *state, -1));
    p->set_mod_revision(revision);
  }
  state->topics.set(r.name(), topic);

  v1::CreateTopicResponse response;
  *response.mutable_topic() = *topic;
  response.set_revision(revision);
  auto change = change_of(v1::CHANGE_KIND_TOPIC_CREATED);
  *change.mutable_topic() = *topic;
  return ok(response, {std::move(change)});
}

Execution delete_topic(const v1::DeleteTopicRequest& r, std::uint64_t revision, State* state) {
  auto topic = state->find_topic(r.name());
  state->topics.erase(r.name());
  std::vector<v1::Change> changes;
  auto change = change_of(v1::CHANGE_KIND_TOPIC_DELETED);
  *change.mutable_topic() = *topic;
  changes.push_back(std::move(change));

  // Committed offsets of the topic go with it, one OFFSETS_DELETED per group.
  const auto by_topic = state->offsets_by_topic;  // iterate a stable version while erasing
  TopicOffsetKey from{r.name(), "", std::numeric_limits<std::int32_t>::min()};
  for (auto it = by_topic.lower_bound(from); it != by_topic.end(); ++it) {
    if (it.key().topic != r.name()) break;
    const OffsetKey key{it.key().group_id, it.key().topic, it.key().partition};
    const auto* offset = state->offsets.find(key);
    if (offset == nullptr) continue;
    if (changes.back().kind() != v1::CHANGE_KIND_OFFSETS_DELETED ||
        changes.back().offsets().group_id() != key.group_id) {
      auto deleted = change_of(v1::CHANGE_KIND_OFFSETS_DELETED);
      deleted.mutable_offsets()->set_group_id(key.group_id);
      changes.push_back(std::move(deleted));
    }
    *changes.back().mutable_offsets()->add_offsets() = **offset;
    state->erase_offset(key);
  }

  v1::DeleteTopicResponse response;
  response.set_topic_id(topic->topic_id());
  response.set_revision(revision);
  return ok(response, std::move(changes));
}

Execution alter_partition(const v1::AlterPartitionRequest& r, std::uint64_t revision,
                          State* state) {
  auto topic = std::make_shared<v1::Topic>(*state->find_topic(r.topic()));
  v1::Partition* p = topic->mutable_partitions(r.partition());
  if (r.has_replicas()) *p->mutable_replicas() = r.replicas().broker_ids();
  if (r.has_isr()) *p->mutable_isr() = r.isr().broker_ids();
  if (r.has_high_watermark()) p->set_high_watermark(r.high_watermark());
  if (r.has_log_start_offset()) p->set_log_start_offset(r.log_start_offset());
  const bool leader_changed = r.has_leader() && r.leader() != p->leader();
  if (leader_changed) p->set_leader(r.leader());
  bump_partition(p, revision, leader_changed);
  topic->set_mod_revision(revision);
  v1::AlterPartitionResponse response;
  *response.mutable_partition() = *p;
  response.set_revision(revision);
  auto change = change_of(v1::CHANGE_KIND_PARTITION_CHANGED);
  *change.mutable_partition() = *p;
  state->topics.set(r.topic(), std::move(topic));
  return ok(response, {std::move(change)});
}

Execution register_broker(const v1::RegisterBrokerRequest& r, std::int64_t now_ms,
                          std::uint64_t revision, State* state) {
  auto previous = state->find_broker(r.broker_id());
  auto broker = std::make_shared<v1::Broker>();
  const bool same_incarnation =
      previous && !r.incarnation_id().empty() && previous->incarnation_id() == r.incarnation_id();
  if (same_incarnation) {
    broker->set_broker_epoch(previous->broker_epoch());
    broker->set_register_revision(previous->register_revision());
  } else {
    broker->set_broker_epoch(revision);
    broker->set_register_revision(revision);
  }
  broker->set_id(r.broker_id());
  broker->set_host(r.host());
  broker->set_port(r.port());
  broker->set_rack(r.rack());
  broker->set_session_timeout_ms(r.session_timeout_ms() == 0 ? kDefaultSessionTimeoutMs
                                                             : r.session_timeout_ms());
  broker->set_incarnation_id(r.incarnation_id());
  broker->set_fenced(false);
  broker->set_last_heartbeat_ms(now_ms);
  broker->set_last_heartbeat_revision(revision);
  state->brokers.set(r.broker_id(), broker);

  std::vector<v1::Change> changes;
  auto change = change_of(v1::CHANGE_KIND_BROKER_REGISTERED);
  *change.mutable_broker() = *broker;
  changes.push_back(std::move(change));
  on_broker_available(state, r.broker_id(), revision, &changes);

  v1::RegisterBrokerResponse response;
  *response.mutable_broker() = *broker;
  response.set_broker_epoch(broker->broker_epoch());
  response.set_revision(revision);
  return ok(response, std::move(changes));
}

Execution broker_heartbeat(const v1::BrokerHeartbeatRequest& r, std::int64_t now_ms,
                           std::uint64_t revision, State* state) {
  auto broker = std::make_shared<v1::Broker>(*state->find_broker(r.broker_id()));
  const bool was_fenced = broker->fenced();
  broker->set_fenced(false);
  broker->set_last_heartbeat_ms(now_ms);
  broker->set_last_heartbeat_revision(revision);
  state->brokers.set(r.broker_id(), broker);

  std::vector<v1::Change> changes;
  auto change =
      change_of(was_fenced ? v1::CHANGE_KIND_BROKER_UNFENCED : v1::CHANGE_KIND_BROKER_HEARTBEAT);
  *change.mutable_broker() = *broker;
  changes.push_back(std::move(change));
  if (was_fenced) on_broker_available(state, r.broker_id(), revision, &changes);

  v1::BrokerHeartbeatResponse response;
  response.set_fenced(false);
  response.set_revision(revision);
  return ok(response, std::move(changes));
}

Execution unregister_broker(const v1::UnregisterBrokerRequest& r, std::uint64_t revision,
                            State* state) {
  auto broker = state->find_broker(r.broker_id());
  state->brokers.erase(r.broker_id());
  std::vector<v1::Change> changes;
  auto change = change_of(v1::CHANGE_KIND_BROKER_UNREGISTERED);
  *change.mutable_broker() = *broker;
  changes.push_back(std::move(change));
  on_broker_unavailable(state, r.broker_id(), revision, &changes);
  v1::UnregisterBrokerResponse response;
  response.set_revision(revision);
  return ok(response, std::move(changes));
}

Execution fence_brokers(const v1::FenceBrokers& r, std::int64_t now_ms, std::uint64_t revision,
                        State* state) {
  std::vector<v1::Change> changes;
  for (const auto& target : r.brokers()) {
    auto current = state->find_broker(target.broker_id());
    if (!current || current->broker_epoch() != target.broker_epoch() ||
        !session_expired(*current, now_ms)) {
      continue;
    }
    auto broker = std::make_shared<v1::Broker>(*current);
    broker->set_fenced(true);
    state->brokers.set(target.broker_id(), broker);
    auto change = change_of(v1::CHANGE_KIND_BROKER_FENCED);
    *change.mutable_broker() = *broker;
    changes.push_back(std::move(change));
    on_broker_unavailable(state, target.broker_id(), revision, &changes);
  }
  Execution e;
  e.changes = std::move(changes);
  return e;
}

Execution create_group(const v1::CreateGroupRequest& r, std::uint64_t revision, State* state) {
  auto group = std::make_shared<v1::ConsumerGroup>();
  group->set_group_id(r.group_id());
  group->set_protocol_type(r.protocol_type());
  group->set_state(v1::GROUP_STATE_EMPTY);
  group->set_create_revision(revision);
  group->set_mod_revision(revision);
  state->groups.set(r.group_id(), group);
  v1::CreateGroupResponse response;
  *response.mutable_group() = *group;
  response.set_revision(revision);
  auto change = change_of(v1::CHANGE_KIND_GROUP_CREATED);
  *change.mutable_group() = *group;
  return ok(response, {std::move(change)});
}

Execution update_group(const v1::UpdateGroupRequest& r, std::uint64_t revision, State* state) {
  auto group = std::make_shared<v1::ConsumerGroup>(*state->find_group(r.group_id()));
  group->set_protocol_type(r.protocol_type());
  group->set_protocol(r.protocol());
  group->set_state(r.state());
  group->set_generation(r.expected_generation() + 1);
  group->set_leader_member_id(r.leader_member_id());
  *group->mutable_members() = r.members();
  group->set_mod_revision(revision);
  state->groups.set(r.group_id(), group);
  v1::UpdateGroupResponse response;
  *response.mutable_group() = *group;
  response.set_revision(revision);
  auto change = change_of(v1::CHANGE_KIND_GROUP_UPDATED);
  *change.mutable_group() = *group;
  return ok(response, {std::move(change)});
}

// Removes the listed (or all) committed offsets of a group; returns them.
std::vector<v1::CommittedOffset> erase_offsets(
    State* state, const std::string& group_id,
    const google::protobuf::RepeatedPtrField<v1::TopicPartition>& partitions) {
  std::vector<v1::CommittedOffset> erased;
  if (partitions.empty()) {
    const auto offsets = state->offsets;  // iterate a stable version while erasing
    OffsetKey from{group_id, "", std::numeric_limits<std::int32_t>::min()};
    for (auto it = offsets.lower_bound(from); it != offsets.end(); ++it) {
      if (it.key().group_id != group_id) break;
      erased.push_back(*it.value());
      state->erase_offset(it.key());
    }
    return erased;
  }
  for (const auto& tp : partitions) {
    OffsetKey key{group_id, tp.topic(), tp.partition()};
    if (const auto* offset = state->offsets.find(key)) {
      erased.push_back(**offset);
      state->erase_offset(key);
    }
  }
  return erased;
}

Execution delete_group(const v1::DeleteGroupRequest& r, std::uint64_t revision, State* state) {
  auto group = state->find_group(r.group_id());
  state->groups.erase(r.group_id());
  std::vector<v1::Change> changes;
  auto change = change_of(v1::CHANGE_KIND_GROUP_DELETED);
  *change.mutable_group() = *group;
  changes.push_back(std::move(change));
  auto erased = erase_offsets(state, r.group_id(), {});
  if (!erased.empty()) {
    auto offsets_change = change_of(v1::CHANGE_KIND_OFFSETS_DELETED);
    offsets_change.mutable_offsets()->set_group_id(r.group_id());
    for (auto& o : erased) *offsets_change.mutable_offsets()->add_offsets() = std::move(o);
    changes.push_back(std::move(offsets_change));
  }
  v1::DeleteGroupResponse response;
  response.set_revision(revision);
  return ok(response, std::move(changes));
}

Execution commit_offsets(const v1::CommitOffsetsRequest& r, std::int64_t now_ms,
                         std::uint64_t revision, State* state) {
  std::vector<v1::Change> changes;
  if (!state->groups.contains(r.group_id())) {
    auto group = std::make_shared<v1::ConsumerGroup>();
    group->set_group_id(r.group_id());
    group->set_state(v1::GROUP_STATE_EMPTY);
    group->set_create_revision(revision);
    group->set_mod_revision(revision);
    state->groups.set(r.group_id(), group);
    auto change = change_of(v1::CHANGE_KIND_GROUP_CREATED);
    *change.mutable_group() = *group;
    changes.push_back(std::move(change));
  }
  auto change = change_of(v1::CHANGE_KIND_OFFSETS_COMMITTED);
  change.mutable_offsets()->set_group_id(r.group_id());
  for (const auto& o : r.offsets()) {
    auto offset = std::make_shared<v1::CommittedOffset>();
    offset->set_group_id(r.group_id());
    offset->set_topic(o.topic());
    offset->set_partition(o.partition());
    offset->set_offset(o.offset());
    offset->set_leader_epoch(o.leader_epoch());
    offset->set_metadata(o.metadata());
    offset->set_topic_id(state->find_topic(o.topic())->topic_id());
    offset->set_commit_time_ms(now_ms);
    offset->set_commit_revision(revision);
    *change.mutable_offsets()->add_offsets() = *offset;
    state->put_offset(std::move(offset));
  }
  changes.push_back(std::move(change));
  v1::CommitOffsetsResponse response;
  response.set_revision(revision);
  return ok(response, std::move(changes));
}

Execution delete_offsets(const v1::DeleteOffsetsRequest& r, std::uint64_t revision, State* state) {
  auto erased = erase_offsets(state, r.group_id(), r.partitions());
  v1::DeleteOffsetsResponse response;
  response.set_deleted(static_cast<std::uint32_t>(erased.size()));
  response.set_revision(revision);
  std::vector<v1::Change> changes;
  if (!erased.empty()) {
    auto change = change_of(v1::CHANGE_KIND_OFFSETS_DELETED);
    change.mutable_offsets()->set_group_id(r.group_id());
    for (auto& o : erased) *change.mutable_offsets()->add_offsets() = std::move(o);
    changes.push_back(std::move(change));
  }
  return ok(response, std::move(changes));
}

Execution allocate_producer_ids(const v1::AllocateProducerIdsRequest& r, std::uint64_t revision,
                                State* state) {
  const std::int64_t first = state->producer_id_next;
  state->producer_id_next = first + kProducerIdBlockSize;
  v1::AllocateProducerIdsResponse response;
  response.set_first_producer_id(first);
  response.set_count(kProducerIdBlockSize);
  response.set_revision(revision);
  auto change = change_of(v1::CHANGE_KIND_PRODUCER_IDS_ALLOCATED);
  change.mutable_producer_ids()->set_broker_id(r.broker_id());
  change.mutable_producer_ids()->set_first_producer_id(first);
  change.mutable_producer_ids()->set_count(kProducerIdBlockSize);
  return ok(response, {std::move(change)});
}

}  // namespace

Execution execute(const v1::Command& command, std::uint64_t revision, State* state) {
  const std::int64_t now_ms = command.leader_time_ms();
  switch (command.op_case()) {
    case v1::Command::kCreateTopic:
      return create_topic(command.create_topic(), revision, state);
    case v1::Command::kDeleteTopic:
      return delete_topic(command.delete_topic(), revision, state);
    case v1::Command::kAlterPartition:
      return alter_partition(command.alter_partition(), revision, state);
    case v1::Command::kRegisterBroker:
      return register_broker(command.register_broker(), now_ms, revision, state);
    case v1::Command::kBrokerHeartbeat:
      return broker_heartbeat(command.broker_heartbeat(), now_ms, revision, state);
    case v1::Command::kUnregisterBroker:
      return unregister_broker(command.unregister_broker(), revision, state);
    case v1::Command::kCreateGroup:
      return create_group(command.create_group(), revision, state);
    case v1::Command::kUpdateGroup:
      return update_group(command.update_group(), revision, state);
    case v1::Command::kDeleteGroup:
      return delete_group(command.delete_group(), revision, state);
    case v1::Command::kCommitOffsets:
      return commit_offsets(command.commit_offsets(), now_ms, revision, state);
    case v1::Command::kDeleteOffsets:
      return delete_offsets(command.delete_offsets(), revision, state);
    case v1::Command::kAllocateProducerIds:
      return allocate_producer_ids(command.allocate_producer_ids(), revision, state);
    case v1::Command::kFenceBrokers:
      return fence_brokers(command.fence_brokers(), now_ms, revision, state);
    case v1::Command::OP_NOT_SET:
      break;
  }
  Execution e;
  e.status = {kInvalidArgument, "the command carries no operation"};
  return e;
}

}  // namespace raftmeta::state
