// Snapshots: round trip, refusal of bad input leaving the state unchanged,
// and determinism across state machines fed the same entries.
#include "sidecar/node/state/snapshot_codec.h"

#include <gtest/gtest.h>

#include <random>

#include "sidecar/node/state/tests/test_commands.h"
#include "sidecar/node/state/validation.h"

namespace raftmeta::state {
namespace {

using namespace testing;  // NOLINT

// A mixed workload touching every table (and the client sessions).
std::vector<std::string> workload(std::uint32_t seed, int n) {
  std::mt19937 rng(seed);
  std::vector<std::string> entries;
  std::uint64_t request = 0;
  auto add = [&](v1::Command c) {
    c = with_header(std::move(c), "client-" + std::to_string(rng() % 4), ++request);
    entries.push_back(c.SerializeAsString());
  };
  for (int id = 1; id <= 3; ++id) add(register_broker(id));
  for (int i = 0; i < n; ++i) {
    const std::string topic = "topic-" + std::to_string(rng() % 20);
    switch (rng() % 8) {
      case 0: {
        auto c =
            create_topic(topic, 1 + static_cast<int>(rng() % 4), 1 + static_cast<int>(rng() % 3));
        (*c.mutable_create_topic()->mutable_configs())["k" + std::to_string(rng() % 5)] = "v";
        (*c.mutable_create_topic()->mutable_configs())["z" + std::to_string(rng() % 5)] = "w";
        add(c);
        break;
      }
      case 1:
        add(delete_topic(topic));
        break;
      case 2:
        add(commit_offsets("group-" + std::to_string(rng() % 3),
                           {{topic, 0, static_cast<std::int64_t>(rng() % 1000)}}));
        break;
      case 3:
        add(heartbeat(1 + static_cast<int>(rng() % 3), 1 + rng() % 3, kT0 + i * 100));
        break;
      case 4:
        add(create_group("group-" + std::to_string(rng() % 5)));
        break;
      case 5:
        add(alter_partition(topic, 0, 0));
        break;
      case 6:
        add(allocate_producer_ids(1, 1));
        break;
      default:
        entries.push_back("");  // no-op
        break;
    }
  }
  return entries;
}

void feed(MetadataStateMachine* sm, const std::vector<std::string>& entries,
          std::uint64_t first_index = 1) {
  std::uint64_t index = first_index;
  for (const auto& e : entries) sm->apply(index++, 1, e);
  sm->publish();
}

TEST(SnapshotTest, TwoStateMachinesFedTheSameEntriesProduceIdenticalBytes) {
  const auto entries = workload(7, 600);
  MetadataStateMachine a;
  MetadataStateMachine b;
  feed(&a, entries);
  feed(&b, entries);
  const std::string sa = a.snapshot();
  EXPECT_EQ(sa, b.snapshot());
  EXPECT_GT(a.current()->topics.size(), 0u);
  EXPECT_GT(a.current()->sessions.size(), 0u);
  // And a different history gives different bytes (the check can fail).
  MetadataStateMachine c;
  feed(&c, workload(8, 600));
  EXPECT_NE(sa, c.snapshot());
}

TEST(SnapshotTest, RoundTripRestoresEverything) {
  const auto entries = workload(11, 400);
  MetadataStateMachine source;
  feed(&source, entries);
  const std::string bytes = source.snapshot();

  MetadataStateMachine restored;
  std::string error;
  ASSERT_TRUE(restored.restore(entries.size(), bytes, &error)) << error;
  EXPECT_EQ(restored.applied_index(), entries.size());
  EXPECT_EQ(restored.current()->revision(), entries.size());  // published
  EXPECT_EQ(restored.snapshot(), bytes);

  // Both continue identically, including de-duplication of remembered ids.
  const auto more = workload(12, 200);
  feed(&source, more, entries.size() + 1);
  feed(&restored, more, entries.size() + 1);
  EXPECT_EQ(source.snapshot(), restored.snapshot());
}

TEST(SnapshotTest, RememberedRequestIdsSurviveASnapshot) {
  Harness h;
  h.register_brokers(1);
  auto command = with_header(create_topic("t", 1, 1), "client", 42);
  auto first = h.run(command);
  ASSERT_EQ(first.code, kOk);

  MetadataStateMachine restored;
  std::string error;
  ASSERT_TRUE(restored.restore(h.sm.applied_index(), h.sm.snapshot(), &error)) << error;
  auto retry = restored.apply(h.sm.applied_index() + 1, 2, command.SerializeAsString());
  EXPECT_EQ(retry.code, kOk);
  EXPECT_EQ(retry.response, first.response);
}

TEST(SnapshotTest, TheOffsetIndexByTopicIsRebuiltOnRestore) {
  Harness h;
  h.register_brokers(1);
  h.run(create_topic("a", 1, 1));
  h.run(commit_offsets("g", {{"a", 0, 1}}));
  MetadataStateMachine restored;
  std::string error;
  ASSERT_TRUE(restored.restore(h.sm.applied_index(), h.sm.snapshot(), &error)) << error;
  EXPECT_EQ(restored.current()->offsets_by_topic.size(), 1u);
  restored.apply(h.sm.applied_index() + 1, 1, delete_topic("a").SerializeAsString());
  restored.publish();
  EXPECT_TRUE(restored.current()->offsets.empty());
}

TEST(SnapshotTest, WatchHistoryStartsAfterTheSnapshot) {
  Harness h;
  for (int i = 0; i < 5; ++i) h.run(create_group("g" + std::to_string(i)));
  MetadataStateMachine restored;
  std::string error;
  ASSERT_TRUE(restored.restore(5, h.sm.snapshot(), &error)) << error;
  EXPECT_TRUE(restored.current()->watch_events(5, 0).compacted);
  EXPECT_FALSE(restored.current()->watch_events(6, 0).compacted);
  restored.apply(6, 1, create_group("x").SerializeAsString());
  restored.publish();
  EXPECT_EQ(restored.current()->watch_events(6, 0).events.size(), 1u);
}

class RestoreFailureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    feed(&sm_, workload(3, 100));
    before_ = sm_.snapshot();
    published_before_ = sm_.current();
  }
  void expect_unchanged() {
    EXPECT_EQ(sm_.snapshot(), before_);
    EXPECT_EQ(sm_.applied_index(), 103u);
    EXPECT_EQ(sm_.current(), published_before_);
  }
  MetadataStateMachine sm_;
  std::string before_;
  std::shared_ptr<const State> published_before_;
};

TEST_F(RestoreFailureTest, GarbageLeavesStateUnchanged) {
  std::string error;
  EXPECT_FALSE(sm_.restore(500, "\xff\xff\xff not a snapshot", &error));
  EXPECT_FALSE(error.empty());
  expect_unchanged();
}

TEST_F(RestoreFailureTest, UnknownFormatVersionLeavesStateUnchanged) {
  v1::StateSnapshot snapshot;
  snapshot.set_format_version(99);
  snapshot.set_revision(500);
  std::string error;
  EXPECT_FALSE(sm_.restore(500, snapshot.SerializeAsString(), &error));
  EXPECT_NE(error.find("format"), std::string::npos);
  expect_unchanged();
}

TEST_F(RestoreFailureTest, DuplicateRecordsLeaveStateUnchanged) {
  v1::StateSnapshot snapshot;
  snapshot.set_format_version(kSnapshotFormatVersion);
  snapshot.set_revision(500);
  snapshot.add_brokers()->set_id(1);
  snapshot.add_brokers()->set_id(1);
  std::string error;
  EXPECT_FALSE(sm_.restore(500, snapshot.SerializeAsString(), &error));
  expect_unchanged();
}

TEST_F(RestoreFailureTest, MisnumberedPartitionsLeaveStateUnchanged) {
  v1::StateSnapshot snapshot;
  snapshot.set_format_version(kSnapshotFormatVersion);
  snapshot.set_revision(500);
  auto* topic = snapshot.add_topics();
  topic->set_name("t");
  topic->add_partitions()->set_partition(3);
  std::string error;
  EXPECT_FALSE(sm_.restore(500, snapshot.SerializeAsString(), &error));
  expect_unchanged();
}

TEST_F(RestoreFailureTest, RevisionThatDoesNotMatchTheIndexLeavesStateUnchanged) {
  MetadataStateMachine other;
  feed(&other, workload(4, 10));
  std::string error;
  EXPECT_FALSE(sm_.restore(9999, other.snapshot(), &error));
  EXPECT_NE(error.find("revision"), std::string::npos);
  expect_unchanged();
}

}  // namespace
}  // namespace raftmeta::state
