#include "sidecar/node/state/watch_log.h"

#include <gtest/gtest.h>

namespace raftmeta::state {
namespace {

std::vector<raftmeta::v1::Change> one_change() {
  raftmeta::v1::Change change;
  change.set_kind(raftmeta::v1::CHANGE_KIND_TOPIC_CREATED);
  return {change};
}

std::vector<std::uint64_t> revisions(const WatchRead& read) {
  std::vector<std::uint64_t> out;
  for (const auto& e : read.events) out.push_back(e->revision());
  return out;
}

TEST(WatchLogTest, ReadsEventsFromARevisionInOrder) {
  WatchLog log;
  for (std::uint64_t r : {2, 3, 5, 8}) log.append(r, one_change(), 100);
  log.append(9, {}, 100);  // nothing changed at 9: no event
  EXPECT_EQ(log.size(), 4u);
  auto read = log.read(3, 0);
  EXPECT_FALSE(read.compacted);
  EXPECT_EQ(revisions(read), (std::vector<std::uint64_t>{3, 5, 8}));
  EXPECT_EQ(revisions(log.read(4, 0)), (std::vector<std::uint64_t>{5, 8}));
  EXPECT_EQ(revisions(log.read(1, 2)), (std::vector<std::uint64_t>{2, 3}));
  EXPECT_TRUE(log.read(10, 0).events.empty());
  EXPECT_EQ(read.events[0]->type(), raftmeta::v1::WATCH_EVENT_CHANGES);
}

TEST(WatchLogTest, CapacityCompactsTheOldestAndReportsIt) {
  WatchLog log;
  for (std::uint64_t r = 1; r <= 10; ++r) log.append(r, one_change(), 4);
  EXPECT_EQ(log.size(), 4u);
  EXPECT_EQ(log.first_revision(), 7u);
  auto old = log.read(6, 0);
  EXPECT_TRUE(old.compacted);
  EXPECT_EQ(old.compact_revision, 7u);
  EXPECT_TRUE(old.events.empty());
  auto ok = log.read(7, 0);
  EXPECT_FALSE(ok.compacted);
  EXPECT_EQ(revisions(ok), (std::vector<std::uint64_t>{7, 8, 9, 10}));
}

TEST(WatchLogTest, ResetStartsAHistoryAfterASnapshot) {
  WatchLog log;
  log.append(1, one_change(), 10);
  log.reset(101);
  EXPECT_EQ(log.size(), 0u);
  EXPECT_TRUE(log.read(100, 0).compacted);
  EXPECT_FALSE(log.read(101, 0).compacted);
}

TEST(WatchLogTest, ACopyIsUnaffectedByLaterAppends) {
  WatchLog log;
  log.append(1, one_change(), 2);
  WatchLog copy = log;
  log.append(2, one_change(), 2);
  log.append(3, one_change(), 2);
  EXPECT_EQ(revisions(copy.read(1, 0)), (std::vector<std::uint64_t>{1}));
  EXPECT_TRUE(log.read(1, 0).compacted);
}

}  // namespace
}  // namespace raftmeta::state
