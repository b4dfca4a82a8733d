#include "sidecar/node/state/validation.h"

#include <limits>
#include <set>
#include <unordered_set>
#include <utility>

namespace raftmeta::state {
namespace {

// Names in messages are cut so that a 4 MiB name cannot make a 4 MiB error.
std::string quoted(std::string_view s) {
  constexpr std::size_t kShown = 64;
  if (s.size() <= kShown) return "'" + std::string(s) + "'";
  return "'" + std::string(s.substr(0, kShown)) + "...' (" + std::to_string(s.size()) +
         " characters)";
}

CommandStatus fail(int code, std::string message) { return {code, std::move(message)}; }

template <typename Ids>
bool distinct(const Ids& ids) {
  std::unordered_set<std::int32_t> seen;
  for (std::int32_t id : ids) {
    if (!seen.insert(id).second) return false;
  }
  return true;
}

template <typename Ids>
bool contains(const Ids& ids, std::int32_t id) {
  for (std::int32_t x : ids) {
    if (x == id) return true;
  }
  return false;
}

std::size_t unfenced_broker_count(const State& state) {
  std::size_t n = 0;
  for (auto it = state.brokers.begin(); it != state.brokers.end(); ++it) {
    if (!it.value()->fenced()) ++n;
  }
  return n;
}

CommandStatus check_label(std::string_view what, const std::string& value, std::size_t max) {
  if (value.size() > max) {
    return fail(kInvalidArgument,
                std::string(what) + " is longer than " + std::to_string(max) + " characters");
  }
  return {};
}

CommandStatus validate_create_topic(const v1::CreateTopicRequest& r, const State& state) {
  std::string why;
  if (!valid_topic_name(r.name(), &why)) {
    return fail(kInvalidArgument, "invalid topic name " + quoted(r.name()) + ": " + why);
  }
  if (r.partitions() < 1 || r.partitions() > kMaxPartitions) {
    return fail(kInvalidArgument, "partitions must be between 1 and " +
                                      std::to_string(kMaxPartitions) + ", got " +
                                      std::to_string(r.partitions()));
  }
  if (r.replication_factor() < 1 || r.replication_factor() > kMaxReplicationFactor) {
    return fail(kInvalidArgument, "replication factor must be between 1 and " +
                                      std::to_string(kMaxReplicationFactor) + ", got " +
                                      std::to_string(r.replication_factor()));
  }
  if (r.configs_size() > static_cast<int>(kMaxConfigEntries)) {
    return fail(kInvalidArgument,
                "more than " + std::to_string(kMaxConfigEntries) + " topic config entries");
  }
  for (const auto& [key, value] : r.configs()) {
    if (key.empty()) return fail(kInvalidArgument, "topic config key is empty");
    if (key.size() > kMaxConfigKeyLength || value.size() > kMaxConfigValueLength) {
      return fail(kInvalidArgument, "topic config " + quoted(key) + " is too long");
    }
  }
  if (state.topics.contains(r.name())) {
    return fail(kAlreadyExists, "topic " + quoted(r.name()) + " already exists");
  }
  if (r.assignments_size() > 0) {
    if (r.assignments_size() != r.partitions()) {
      return fail(kInvalidArgument, "explicit assignments must cover every partition: got " +
                                        std::to_string(r.assignments_size()) + " for " +
                                        std::to_string(r.partitions()) + " partitions");
    }
    std::vector<bool> seen(static_cast<std::size_t>(r.partitions()), false);
    for (const auto& a : r.assignments()) {
      if (a.partition() < 0 || a.partition() >= r.partitions() ||
          seen[static_cast<std::size_t>(a.partition())]) {
        return fail(kInvalidArgument, "assignment for partition " + std::to_string(a.partition()) +
                                          " is out of range or repeated");
      }
      seen[static_cast<std::size_t>(a.partition())] = true;
      if (a.replicas_size() != r.replication_factor()) {
        return fail(kInvalidArgument, "partition " + std::to_string(a.partition()) + " has " +
                                          std::to_string(a.replicas_size()) +
                                          " replicas, the replication factor is " +
                                          std::to_string(r.replication_factor()));
      }
      if (!distinct(a.replicas())) {
        return fail(kInvalidArgument,
                    "partition " + std::to_string(a.partition()) + " repeats a replica");
      }
      for (std::int32_t broker : a.replicas()) {
        if (!state.brokers.contains(broker)) {
          return fail(kInvalidArgument, "partition " + std::to_string(a.partition()) +
                                            " names broker " + std::to_string(broker) +
                                            ", which is not registered");
        }
      }
    }
    return {};
  }
  const std::size_t available = unfenced_broker_count(state);
  if (available < static_cast<std::size_t>(r.replication_factor())) {
    return fail(kFailedPrecondition,
                "replication factor " + std::to_string(r.replication_factor()) + " needs " +
                    std::to_string(r.replication_factor()) +
                    " registered unfenced brokers, there are " + std::to_string(available));
  }
  return {};
}

CommandStatus validate_delete_topic(const v1::DeleteTopicRequest& r, const State& state) {
  if (r.name().empty()) return fail(kInvalidArgument, "topic name is empty");
  if (!state.topics.contains(r.name())) {
    return fail(kNotFound, "topic " + quoted(r.name()) + " does not exist");
  }
  return {};
}

CommandStatus validate_alter_partition(const v1::AlterPartitionRequest& r, const State& state) {
  std::shared_ptr<const v1::Topic> topic;
  const v1::Partition* p = state.find_partition(r.topic(), r.partition(), &topic);
  if (p == nullptr) {
    return fail(kNotFound, "partition " + std::to_string(r.partition()) + " of topic " +
                               quoted(r.topic()) + " does not exist");
  }
  if (r.leader_epoch() != p->leader_epoch()) {
    return fail(kFailedPrecondition, "stale leader epoch " + std::to_string(r.leader_epoch()) +
                                         ", the current leader epoch is " +
                                         std::to_string(p->leader_epoch()));
  }
  if (r.partition_epoch() != -1 && r.partition_epoch() != p->partition_epoch()) {
    return fail(kFailedPrecondition,
                "stale partition epoch " + std::to_string(r.partition_epoch()) +
                    ", the current partition epoch is " + std::to_string(p->partition_epoch()));
  }
  const auto& replicas = r.has_replicas() ? r.replicas().broker_ids() : p->replicas();
  if (r.has_replicas()) {
    if (replicas.empty() || replicas.size() > kMaxReplicationFactor) {
      return fail(kInvalidArgument,
                  "replicas must list 1 to " + std::to_string(kMaxReplicationFactor) + " brokers");
    }
    if (!distinct(replicas)) return fail(kInvalidArgument, "replicas repeat a broker");
    for (std::int32_t broker : replicas) {
      if (!state.brokers.contains(broker)) {
        return fail(kInvalidArgument,
                    "replica broker " + std::to_string(broker) + " is not registered");
      }
    }
  }
  const auto& isr = r.has_isr() ? r.isr().broker_ids() : p->isr();
  if (r.has_isr()) {
    if (isr.empty()) return fail(kInvalidArgument, "the ISR must not be empty");
    if (!distinct(isr)) return fail(kInvalidArgument, "the ISR repeats a broker");
  }
  for (std::int32_t broker : isr) {
    if (!contains(replicas, broker)) {
      return fail(kInvalidArgument,
                  "ISR member " + std::to_string(broker) + " is not a replica of the partition");
    }
  }
  if (r.has_isr()) {
    for (std::int32_t broker : isr) {
      if (contains(p->isr(), broker)) continue;
      auto record = state.find_broker(broker);
      if (!record || record->fenced()) {
        return fail(kFailedPrecondition,
                    "broker " + std::to_string(broker) +
                        " is fenced or not registered: it cannot join the ISR");
      }
    }
  }
  const std::int32_t leader = r.has_leader() ? r.leader() : p->leader();
  if (leader < -1) return fail(kInvalidArgument, "leader must be a broker id or -1");
  if (leader != -1) {
    if (!contains(isr, leader)) {
      return fail(kInvalidArgument, "leader " + std::to_string(leader) + " is not in the ISR");
    }
    if (r.has_leader() && r.leader() != p->leader()) {
      auto broker = state.find_broker(leader);
      if (!broker || broker->fenced()) {
        return fail(kFailedPrecondition,
                    "broker " + std::to_string(leader) + " is fenced or not registered");
      }
    }
  }
  const std::int64_t hw = r.has_high_watermark() ? r.high_watermark() : p->high_watermark();
  const std::int64_t lso = r.has_log_start_offset() ? r.log_start_offset() : p->log_start_offset();
  if (hw < 0 || lso < 0) return fail(kInvalidArgument, "offsets must not be negative");
  if (lso > hw) {
    return fail(kInvalidArgument, "log start offset " + std::to_string(lso) +
                                      " is above the high watermark " + std::to_string(hw));
  }
  if (lso < p->log_start_offset()) {
    return fail(kInvalidArgument, "log start offset may not decrease (from " +
                                      std::to_string(p->log_start_offset()) + " to " +
                                      std::to_string(lso) + ")");
  }
  if (p->partition_epoch() == std::numeric_limits<std::int32_t>::max() ||
      p->leader_epoch() == std::numeric_limits<std::int32_t>::max()) {
    return fail(kOutOfRange, "partition epoch exhausted");
  }
  return {};
}

CommandStatus validate_register_broker(const v1::RegisterBrokerRequest& r) {
  if (r.broker_id() < 0) return fail(kInvalidArgument, "broker id must not be negative");
  if (r.host().empty()) return fail(kInvalidArgument, "broker host is empty");
  if (auto s = check_label("broker host", r.host(), kMaxHostLength); !s.ok()) return s;
  if (r.port() < 1 || r.port() > 65535) {
    return fail(kInvalidArgument, "broker port must be 1..65535, got " + std::to_string(r.port()));
  }
  if (auto s = check_label("rack", r.rack(), kMaxLabelLength); !s.ok()) return s;
  if (auto s = check_label("incarnation id", r.incarnation_id(), kMaxLabelLength); !s.ok()) {
    return s;
  }
  const std::int64_t timeout = r.session_timeout_ms();
  if (timeout != 0 && (timeout < kMinSessionTimeoutMs || timeout > kMaxSessionTimeoutMs)) {
    return fail(kInvalidArgument, "session timeout must be 0 (default) or " +
                                      std::to_string(kMinSessionTimeoutMs) + ".." +
                                      std::to_string(kMaxSessionTimeoutMs) + " ms");
  }
  return {};
}

CommandStatus check_broker_epoch(const State& state, std::int32_t id, std::uint64_t epoch) {
  auto broker = state.find_broker(id);
  if (!broker) return fail(kNotFound, "broker " + std::to_string(id) + " is not registered");
  if (broker->broker_epoch() != epoch) {
    return fail(kFailedPrecondition, "stale broker epoch " + std::to_string(epoch) +
                                         " for broker " + std::to_string(id) + " (current epoch " +
                                         std::to_string(broker->broker_epoch()) +
                                         "): register again");
  }
  return {};
}

CommandStatus validate_group_id(const std::string& group_id) {
  std::string why;
  if (!valid_group_id(group_id, &why)) {
    return fail(kInvalidArgument, "invalid group id " + quoted(group_id) + ": " + why);
  }
  return {};
}

CommandStatus validate_create_group(const v1::CreateGroupRequest& r, const State& state) {
  if (auto s = validate_group_id(r.group_id()); !s.ok()) return s;
  if (auto s = check_label("protocol type", r.protocol_type(), kMaxLabelLength); !s.ok()) {
    return s;
  }
  if (state.groups.contains(r.group_id())) {
    return fail(kAlreadyExists, "consumer group " + quoted(r.group_id()) + " already exists");
  }
  return {};
}

CommandStatus validate_update_group(const v1::UpdateGroupRequest& r, const State& state) {
  if (auto s = validate_group_id(r.group_id()); !s.ok()) return s;
  if (!v1::GroupState_IsValid(r.state())) return fail(kInvalidArgument, "unknown group state");
  if (auto s = check_label("protocol type", r.protocol_type(), kMaxLabelLength); !s.ok()) {
    return s;
  }
  if (auto s = check_label("protocol", r.protocol(), kMaxLabelLength); !s.ok()) return s;
  if (r.members_size() > static_cast<int>(kMaxGroupMembers)) {
    return fail(kInvalidArgument,
                "more than " + std::to_string(kMaxGroupMembers) + " group members");
  }
  std::set<std::string_view> ids;
  for (const auto& m : r.members()) {
    if (m.member_id().empty()) return fail(kInvalidArgument, "a member id is empty");
    if (!ids.insert(m.member_id()).second) {
      return fail(kInvalidArgument, "member id " + quoted(m.member_id()) + " is repeated");
    }
  }
  if (!r.leader_member_id().empty() && ids.count(r.leader_member_id()) == 0) {
    return fail(kInvalidArgument,
                "leader " + quoted(r.leader_member_id()) + " is not a member of the group");
  }
  if (ids.empty() && r.state() != v1::GROUP_STATE_EMPTY && r.state() != v1::GROUP_STATE_DEAD) {
    return fail(kInvalidArgument, "a group without members must be EMPTY or DEAD");
  }
  auto group = state.find_group(r.group_id());
  if (!group) {
    return fail(kNotFound, "consumer group " + quoted(r.group_id()) + " does not exist");
  }
  if (group->generation() != r.expected_generation()) {
    return fail(kFailedPrecondition, "stale generation " + std::to_string(r.expected_generation()) +
                                         ", the current generation is " +
                                         std::to_string(group->generation()));
  }
  if (group->generation() == std::numeric_limits<std::int32_t>::max()) {
    return fail(kOutOfRange, "group generation exhausted");
  }
  return {};
}

CommandStatus validate_delete_group(const v1::DeleteGroupRequest& r, const State& state) {
  if (auto s = validate_group_id(r.group_id()); !s.ok()) return s;
  auto group = state.find_group(r.group_id());
  if (!group) {
    return fail(kNotFound, "consumer group " + quoted(r.group_id()) + " does not exist");
  }
  if (group->members_size() > 0) {
    return fail(kFailedPrecondition, "consumer group " + quoted(r.group_id()) + " still has " +
                                         std::to_string(group->members_size()) + " members");
  }
  return {};
}

CommandStatus validate_commit_offsets(const v1::CommitOffsetsRequest& r, const State& state) {
  if (auto s = validate_group_id(r.group_id()); !s.ok()) return s;
  if (r.offsets_size() < 1 || r.offsets_size() > static_cast<int>(kMaxOffsetsPerCommit)) {
    return fail(kInvalidArgument,
                "a commit carries 1 to " + std::to_string(kMaxOffsetsPerCommit) + " offsets");
  }
  std::set<std::pair<std::string_view, std::int32_t>> seen;
  for (const auto& o : r.offsets()) {
    const std::string where = quoted(o.topic()) + "/" + std::to_string(o.partition());
    if (o.offset() < 0) return fail(kInvalidArgument, "offset for " + where + " is negative");
    if (o.leader_epoch() < -1) {
      return fail(kInvalidArgument, "leader epoch for " + where + " must be >= -1");
    }
    if (o.metadata().size() > kMaxOffsetMetadataLength) {
      return fail(kInvalidArgument, "offset metadata for " + where + " is longer than " +
                                        std::to_string(kMaxOffsetMetadataLength) + " bytes");
    }
    if (!seen.insert({o.topic(), o.partition()}).second) {
      return fail(kInvalidArgument, where + " appears twice in one commit");
    }
  }
  for (const auto& o : r.offsets()) {
    std::shared_ptr<const v1::Topic> topic;
    if (state.find_partition(o.topic(), o.partition(), &topic) == nullptr) {
      return fail(kNotFound, "partition " + quoted(o.topic()) + "/" +
                                 std::to_string(o.partition()) + " does not exist");
    }
  }
  if (r.generation() >= 0) {
    auto group = state.find_group(r.group_id());
    if (!group) {
      return fail(kFailedPrecondition, "generation " + std::to_string(r.generation()) +
                                           " given for unknown group " + quoted(r.group_id()));
    }
    if (group->generation() != r.generation()) {
      return fail(kFailedPrecondition, "stale generation " + std::to_string(r.generation()) +
                                           ", the current generation is " +
                                           std::to_string(group->generation()));
    }
    bool member = false;
    for (const auto& m : group->members()) member = member || m.member_id() == r.member_id();
    if (!member) {
      return fail(kFailedPrecondition,
                  quoted(r.member_id()) + " is not a member of group " + quoted(r.group_id()));
    }
  }
  return {};
}

CommandStatus validate_delete_offsets(const v1::DeleteOffsetsRequest& r, const State& state) {
  if (auto s = validate_group_id(r.group_id()); !s.ok()) return s;
  if (!state.groups.contains(r.group_id())) {
    return fail(kNotFound, "consumer group " + quoted(r.group_id()) + " does not exist");
  }
  return {};
}

CommandStatus validate_allocate_producer_ids(const v1::AllocateProducerIdsRequest& r,
                                             const State& state) {
  if (auto s = check_broker_epoch(state, r.broker_id(), r.broker_epoch()); !s.ok()) return s;
  if (state.producer_id_next > std::numeric_limits<std::int64_t>::max() - kProducerIdBlockSize) {
    return fail(kOutOfRange, "producer ids exhausted");
  }
  return {};
}

}  // namespace

bool valid_topic_name(std::string_view name, std::string* why) {
  if (name.empty()) {
    *why = "it is empty";
    return false;
  }
  if (name.size() > kMaxTopicNameLength) {
    *why = "it is longer than " + std::to_string(kMaxTopicNameLength) + " characters";
    return false;
  }
  if (name == "." || name == "..") {
    *why = "'.' and '..' are not allowed";
    return false;
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) {
      *why = "only ASCII letters, digits, '.', '_' and '-' are allowed";
      return false;
    }
  }
  return true;
}

bool valid_group_id(std::string_view group_id, std::string* why) {
  if (group_id.empty()) {
    *why = "it is empty";
    return false;
  }
  if (group_id.size() > kMaxGroupIdLength) {
    *why = "it is longer than " + std::to_string(kMaxGroupIdLength) + " characters";
    return false;
  }
  for (char c : group_id) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      *why = "control characters are not allowed";
      return false;
    }
  }
  return true;
}

CommandStatus validate(const v1::Command& command, const State& state) {
  switch (command.op_case()) {
    case v1::Command::kCreateTopic:
      return validate_create_topic(command.create_topic(), state);
    case v1::Command::kDeleteTopic:
      return validate_delete_topic(command.delete_topic(), state);
    case v1::Command::kAlterPartition:
      return validate_alter_partition(command.alter_partition(), state);
    case v1::Command::kRegisterBroker:
      return validate_register_broker(command.register_broker());
    case v1::Command::kBrokerHeartbeat:
      return check_broker_epoch(state, command.broker_heartbeat().broker_id(),
                                command.broker_heartbeat().broker_epoch());
    case v1::Command::kUnregisterBroker:
      if (!state.brokers.contains(command.unregister_broker().broker_id())) {
        return fail(kNotFound, "broker " + std::to_string(command.unregister_broker().broker_id()) +
                                   " is not registered");
      }
      return {};
    case v1::Command::kCreateGroup:
      return validate_create_group(command.create_group(), state);
    case v1::Command::kUpdateGroup:
      return validate_update_group(command.update_group(), state);
    case v1::Command::kDeleteGroup:
      return validate_delete_group(command.delete_group(), state);
    case v1::Command::kCommitOffsets:
      return validate_commit_offsets(command.commit_offsets(), state);
    case v1::Command::kDeleteOffsets:
      return validate_delete_offsets(command.delete_offsets(), state);
    case v1::Command::kAllocateProducerIds:
      return validate_allocate_producer_ids(command.allocate_producer_ids(), state);
    case v1::Command::kFenceBrokers:
      return {};  // every target is re-checked when applied
    case v1::Command::OP_NOT_SET:
      break;
  }
  return fail(kInvalidArgument, "the command carries no operation");
}

}  // namespace raftmeta::state
