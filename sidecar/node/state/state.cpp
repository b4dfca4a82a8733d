#include "sidecar/node/state/state.h"

#include <limits>

namespace raftmeta::state {

std::shared_ptr<const v1::Topic> State::find_topic(const std::string& name) const {
  const auto* topic = topics.find(name);
  return topic == nullptr ? nullptr : *topic;
}

std::vector<std::shared_ptr<const v1::Topic>> State::list_topics(std::string_view prefix,
                                                                 const std::string& start_after,
                                                                 std::size_t limit,
                                                                 bool* more) const {
  std::vector<std::shared_ptr<const v1::Topic>> out;
  if (more != nullptr) *more = false;
  std::string from = std::max(std::string(prefix), start_after);
  for (auto it = topics.lower_bound(from); it != topics.end(); ++it) {
    const std::string& name = it.key();
    if (name == start_after) continue;
    if (name.compare(0, prefix.size(), prefix) != 0) break;
    if (limit != 0 && out.size() == limit) {
      if (more != nullptr) *more = true;
      break;
    }
    out.push_back(it.value());
  }
  return out;
}

const v1::Partition* State::find_partition(const std::string& topic, std::int32_t partition,
                                           std::shared_ptr<const v1::Topic>* owner) const {
  auto record = find_topic(topic);
  if (!record || partition < 0 || partition >= record->partitions_size()) return nullptr;
  const v1::Partition* p = &record->partitions(partition);
  *owner = std::move(record);
  return p;
}

std::shared_ptr<const v1::Broker> State::find_broker(std::int32_t id) const {
  const auto* broker = brokers.find(id);
  return broker == nullptr ? nullptr : *broker;
}

std::vector<std::shared_ptr<const v1::Broker>> State::list_brokers() const {
  std::vector<std::shared_ptr<const v1::Broker>> out;
  out.reserve(brokers.size());
  for (auto it = brokers.begin(); it != brokers.end(); ++it) out.push_back(it.value());
  return out;
}

std::shared_ptr<const v1::ConsumerGroup> State::find_group(const std::string& group_id) const {
  const auto* group = groups.find(group_id);
  return group == nullptr ? nullptr : *group;
}

std::vector<std::shared_ptr<const v1::ConsumerGroup>> State::list_groups(
    std::string_view prefix) const {
  std::vector<std::shared_ptr<const v1::ConsumerGroup>> out;
  for (auto it = groups.lower_bound(std::string(prefix)); it != groups.end(); ++it) {
    if (it.key().compare(0, prefix.size(), prefix) != 0) break;
    out.push_back(it.value());
  }
  return out;
}

ReadStatus State::fetch_offsets(const std::string& group_id,
                                const std::vector<v1::TopicPartition>& partitions,
                                std::vector<v1::CommittedOffset>* out) const {
  out->clear();
  if (!groups.contains(group_id)) {
    return {5, "consumer group '" + group_id + "' does not exist"};
  }
  auto current = [this](const v1::CommittedOffset& offset) {
    const auto* topic = topics.find(offset.topic());
    return topic != nullptr && (*topic)->topic_id() == offset.topic_id();
  };
  if (partitions.empty()) {
    OffsetKey from{group_id, "", std::numeric_limits<std::int32_t>::min()};
    for (auto it = offsets.lower_bound(from); it != offsets.end(); ++it) {
      if (it.key().group_id != group_id) break;
      if (current(*it.value())) out->push_back(*it.value());
    }
    return {};
  }
  for (const auto& tp : partitions) {
    const auto* offset = offsets.find(OffsetKey{group_id, tp.topic(), tp.partition()});
    if (offset != nullptr && current(**offset)) {
      out->push_back(**offset);
      continue;
    }
    v1::CommittedOffset none;
    none.set_group_id(group_id);
    none.set_topic(tp.topic());
    none.set_partition(tp.partition());
    none.set_offset(-1);
    none.set_leader_epoch(-1);
    out->push_back(std::move(none));
  }
  return {};
}

void State::put_offset(std::shared_ptr<const v1::CommittedOffset> offset) {
  offsets_by_topic.set(TopicOffsetKey{offset->topic(), offset->group_id(), offset->partition()},
                       true);
  OffsetKey key{offset->group_id(), offset->topic(), offset->partition()};
  offsets.set(std::move(key), std::move(offset));
}

bool State::erase_offset(const OffsetKey& key) {
  offsets_by_topic.erase(TopicOffsetKey{key.topic, key.group_id, key.partition});
  return offsets.erase(key);
}

}  // namespace raftmeta::state
