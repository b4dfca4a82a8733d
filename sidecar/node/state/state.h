// State: one immutable version of the replicated cluster metadata, and the
// read API the Metadata service answers from.
//
// CONTRACT: a published State never changes. The apply thread builds the
// next version from a copy of the current one (O(1): every table is a
// PersistentMap) and changes only what a command touched: O(log n) tree
// nodes per table, plus a copy of the one record it modified (a topic record
// holds its partitions, so a partition change copies that topic's record:
// copy-on-write per topic). Readers hold a std::shared_ptr<const State> and
// may keep it as long as they like.
//
// Every answer reflects exactly revision(): the Raft index of the last
// applied entry.
//
// THREAD SAFETY: all const methods are safe from any number of threads on a
// published State. Records are handed out as shared_ptr<const T>.
#pragma once

#include <compare>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "raftmeta/v1/metadata.pb.h"
#include "sidecar/node/state/client_sessions.h"
#include "sidecar/node/state/persistent_map.h"
#include "sidecar/node/state/watch_log.h"

namespace raftmeta::state {

namespace v1 = ::raftmeta::v1;

// Key of a committed offset, in the order FetchOffsets lists them.
struct OffsetKey {
  std::string group_id;
  std::string topic;
  std::int32_t partition = 0;
  auto operator<=>(const OffsetKey&) const = default;
};

// The same offsets by topic first: what DeleteTopic needs to find them.
struct TopicOffsetKey {
  std::string topic;
  std::string group_id;
  std::int32_t partition = 0;
  auto operator<=>(const TopicOffsetKey&) const = default;
};

// Result of a read that can fail (gRPC status code numbers).
struct ReadStatus {
  int code = 0;
  std::string message;
  bool ok() const { return code == 0; }
};

struct State {
  // ----------------------------------------------------------- read API ---
  std::uint64_t revision() const { return applied_revision; }

  std::shared_ptr<const v1::Topic> find_topic(const std::string& name) const;
  // Topics in name order starting with `prefix`, after `start_after`, at
  // most `limit` (0 = all); *more tells whether more would follow.
  std::vector<std::shared_ptr<const v1::Topic>> list_topics(std::string_view prefix,
                                                            const std::string& start_after,
                                                            std::size_t limit, bool* more) const;
  // nullptr when the topic or the partition does not exist.
  const v1::Partition* find_partition(const std::string& topic, std::int32_t partition,
                                      std::shared_ptr<const v1::Topic>* owner) const;

  std::shared_ptr<const v1::Broker> find_broker(std::int32_t id) const;
  std::vector<std::shared_ptr<const v1::Broker>> list_brokers() const;  // by id

  std::shared_ptr<const v1::ConsumerGroup> find_group(const std::string& group_id) const;
  std::vector<std::shared_ptr<const v1::ConsumerGroup>> list_groups(std::string_view prefix) const;

  // Committed offsets of a group (FetchOffsets semantics: listed partitions
  // with -1 where nothing is committed, or all when none is listed). Offsets
  // of deleted topics (topic id no longer current) are not returned.
  ReadStatus fetch_offsets(const std::string& group_id,
                           const std::vector<v1::TopicPartition>& partitions,
                           std::vector<v1::CommittedOffset>* out) const;

  // Watch history after a revision; see WatchLog.
  WatchRead watch_events(std::uint64_t from_revision, std::size_t max_events) const {
    return watch.read(from_revision, max_events);
  }

  std::int64_t next_producer_id() const { return producer_id_next; }

  // ------------------------------------------------ mutators (apply thread) ---
  // Committed offsets live in two maps (by group and by topic); these keep
  // them in step.
  void put_offset(std::shared_ptr<const v1::CommittedOffset> offset);
  bool erase_offset(const OffsetKey& key);

  // ------------------------------------------------------------- tables ---
  // Written only by the apply thread on its working copy.
  std::uint64_t applied_revision = 0;
  PersistentMap<std::string, std::shared_ptr<const v1::Topic>> topics;
  PersistentMap<std::int32_t, std::shared_ptr<const v1::Broker>> brokers;
  PersistentMap<std::string, std::shared_ptr<const v1::ConsumerGroup>> groups;
  PersistentMap<OffsetKey, std::shared_ptr<const v1::CommittedOffset>> offsets;
  PersistentMap<TopicOffsetKey, bool> offsets_by_topic;  // derived; not in snapshots
  std::int64_t producer_id_next = 0;
  ClientSessions sessions;
  WatchLog watch;
};

}  // namespace raftmeta::state
