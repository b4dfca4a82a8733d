// Published States are immutable and share structure with their successors;
// readers on other threads load them without locks while the apply thread
// keeps applying (run under ThreadSanitizer too).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "sidecar/node/state/metadata_state_machine.h"
#include "sidecar/node/state/snapshot_codec.h"
#include "sidecar/node/state/tests/test_commands.h"

namespace raftmeta::state {
namespace {

using namespace testing;  // NOLINT

TEST(PublicationTest, OldVersionsAreUnchangedAfterNewApplies) {
  Harness h;
  h.register_brokers(2);
  for (int i = 0; i < 50; ++i) h.run(create_topic("t" + std::to_string(i), 2, 1));
  const auto old_state = h.state();
  const std::string old_bytes = encode_snapshot(*old_state);
  const auto old_topic = old_state->find_topic("t7");

  h.run(alter_partition("t7", 0, 0));  // changes t7's record
  h.run(delete_topic("t8"));
  h.run(create_topic("new", 1, 1));
  h.run(commit_offsets("g", {{"t1", 0, 5}}));

  EXPECT_EQ(encode_snapshot(*old_state), old_bytes);
  EXPECT_EQ(old_state->find_topic("t7"), old_topic);
  EXPECT_EQ(old_topic->partitions(0).partition_epoch(), 0);
  EXPECT_TRUE(old_state->find_topic("t8"));
  EXPECT_FALSE(old_state->find_topic("new"));
  EXPECT_EQ(h.state()->find_topic("t7")->partitions(0).partition_epoch(), 1);
}

TEST(PublicationTest, UnchangedRecordsAreSharedNotCopied) {
  Harness h;
  h.register_brokers(1);
  for (int i = 0; i < 1000; ++i) h.run(create_topic("t" + std::to_string(i), 1, 1));
  const auto before = h.state();
  h.run(alter_partition("t500", 0, 0));
  const auto after = h.state();
  // Every other topic record is the very same object in both versions.
  int shared = 0;
  for (auto it = before->topics.begin(); it != before->topics.end(); ++it) {
    if (after->find_topic(it.key()) == it.value()) ++shared;
  }
  EXPECT_EQ(shared, 999);
  EXPECT_NE(after->find_topic("t500"), before->find_topic("t500"));
  // Untouched tables share their whole tree.
  EXPECT_EQ(after->brokers.root_identity(), before->brokers.root_identity());
  EXPECT_EQ(after->groups.root_identity(), before->groups.root_identity());
}

TEST(PublicationTest, ReadersOnOtherThreadsSeeConsistentMonotonicVersions) {
  MetadataStateMachine sm;
  sm.apply(1, 1, register_broker(1).SerializeAsString());
  sm.publish();
  constexpr int kTopics = 400;
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  auto reader = [&] {
    std::uint64_t last_revision = 0;
    while (!done.load(std::memory_order_acquire)) {
      auto state = sm.current();
      // Revision 1 is the broker; revision r >= 2 created topic "t<r-2>", so
      // a consistent version at revision r holds exactly r - 1 topics.
      const std::uint64_t revision = state->revision();
      bool more = false;
      const auto topics = state->list_topics("", "", 0, &more);
      if (revision < last_revision || topics.size() + 1 != revision) ++failures;
      last_revision = revision;
    }
  };
  std::thread r1(reader);
  std::thread r2(reader);
  for (int i = 0; i < kTopics; ++i) {
    auto outcome = sm.apply(static_cast<std::uint64_t>(i) + 2, 1,
                            create_topic("t" + std::to_string(i), 1, 1).SerializeAsString());
    ASSERT_EQ(outcome.code, 0);
    sm.publish();
  }
  done.store(true, std::memory_order_release);
  r1.join();
  r2.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(sm.current()->topics.size(), static_cast<std::size_t>(kTopics));
}

}  // namespace
}  // namespace raftmeta::state
