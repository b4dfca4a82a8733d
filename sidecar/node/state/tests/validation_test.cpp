// Every validation rule, checked through the pure validate() against a
// prepared State (the state machine re-checks the same function at apply).
#include "sidecar/node/state/validation.h"

#include <gtest/gtest.h>

#include "sidecar/node/state/tests/test_commands.h"

namespace raftmeta::state {
namespace {

using namespace testing;  // NOLINT

class ValidationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    epochs_ = h_.register_brokers(3);
    ASSERT_EQ(h_.run(create_topic("orders", 3, 2)).code, kOk);
    ASSERT_EQ(h_.run(create_group("g")).code, kOk);
  }
  CommandStatus check(const v1::Command& c) { return validate(c, *h_.state()); }
  int code(const v1::Command& c) { return check(c).code; }

  Harness h_;
  std::vector<std::uint64_t> epochs_;
};

TEST(TopicNameTest, FollowsKafkasRules) {
  std::string why;
  EXPECT_TRUE(valid_topic_name("a", &why));
  EXPECT_TRUE(valid_topic_name("Orders.v2_east-1", &why));
  EXPECT_TRUE(valid_topic_name("...", &why));
  EXPECT_TRUE(valid_topic_name(std::string(249, 'x'), &why));
  EXPECT_FALSE(valid_topic_name(std::string(250, 'x'), &why));
  EXPECT_NE(why.find("249"), std::string::npos);
  EXPECT_FALSE(valid_topic_name("", &why));
  EXPECT_FALSE(valid_topic_name(".", &why));
  EXPECT_FALSE(valid_topic_name("..", &why));
  for (const char* bad : {"a b", "a/b", "a:b", "é", "a\nb", "a*"}) {
    EXPECT_FALSE(valid_topic_name(bad, &why)) << bad;
  }
}

TEST(GroupIdTest, RejectsEmptyLongAndControlCharacters) {
  std::string why;
  EXPECT_TRUE(valid_group_id("my group/é", &why));
  EXPECT_FALSE(valid_group_id("", &why));
  EXPECT_FALSE(valid_group_id(std::string(250, 'g'), &why));
  EXPECT_FALSE(valid_group_id("a\tb", &why));
}

TEST_F(ValidationTest, CreateTopicRules) {
  EXPECT_EQ(code(create_topic("fresh", 1, 1)), kOk);
  EXPECT_EQ(code(create_topic("bad name", 1, 1)), kInvalidArgument);
  EXPECT_EQ(code(create_topic("..", 1, 1)), kInvalidArgument);
  EXPECT_EQ(code(create_topic(std::string(250, 'x'), 1, 1)), kInvalidArgument);
  EXPECT_EQ(code(create_topic("fresh", 0, 1)), kInvalidArgument);
  EXPECT_EQ(code(create_topic("fresh", kMaxPartitions + 1, 1)), kInvalidArgument);
  EXPECT_EQ(code(create_topic("fresh", 1, 0)), kInvalidArgument);
  EXPECT_EQ(code(create_topic("fresh", 1, -3)), kInvalidArgument);
  auto existing = check(create_topic("orders", 1, 1));
  EXPECT_EQ(existing.code, kAlreadyExists);
  EXPECT_NE(existing.message.find("orders"), std::string::npos);
  // Only 3 unfenced brokers.
  EXPECT_EQ(code(create_topic("fresh", 1, 3)), kOk);
  EXPECT_EQ(code(create_topic("fresh", 1, 4)), kFailedPrecondition);

  auto empty_key = create_topic("fresh", 1, 1);
  (*empty_key.mutable_create_topic()->mutable_configs())[""] = "x";
  EXPECT_EQ(code(empty_key), kInvalidArgument);
  auto long_value = create_topic("fresh", 1, 1);
  (*long_value.mutable_create_topic()->mutable_configs())["retention.ms"] =
      std::string(kMaxConfigValueLength + 1, '1');
  EXPECT_EQ(code(long_value), kInvalidArgument);
}

TEST_F(ValidationTest, CreateTopicExplicitAssignmentRules) {
  EXPECT_EQ(code(create_topic_assigned("fresh", {{1, 2}, {2, 3}})), kOk);
  EXPECT_EQ(code(create_topic_assigned("fresh", {{1, 9}})), kInvalidArgument);  // unknown broker
  EXPECT_EQ(code(create_topic_assigned("fresh", {{1, 1}})), kInvalidArgument);  // repeated
  EXPECT_EQ(code(create_topic_assigned("fresh", {{1, 2}, {3}})), kInvalidArgument);  // rf
  auto missing = create_topic_assigned("fresh", {{1}, {2}});
  missing.mutable_create_topic()->set_partitions(3);
  EXPECT_EQ(code(missing), kInvalidArgument);
  auto repeated = create_topic_assigned("fresh", {{1}, {2}});
  repeated.mutable_create_topic()->mutable_assignments(1)->set_partition(0);
  EXPECT_EQ(code(repeated), kInvalidArgument);
  // Every named broker must be registered (fenced ones are allowed).
  EXPECT_EQ(code(create_topic_assigned("fresh", {{1, 2, 3}})), kOk);
}

TEST_F(ValidationTest, DeleteTopicRules) {
  EXPECT_EQ(code(delete_topic("orders")), kOk);
  EXPECT_EQ(code(delete_topic("missing")), kNotFound);
  EXPECT_EQ(code(delete_topic("")), kInvalidArgument);
}

TEST_F(ValidationTest, AlterPartitionRules) {
  std::shared_ptr<const v1::Topic> topic;
  const v1::Partition* p = h_.state()->find_partition("orders", 0, &topic);
  ASSERT_NE(p, nullptr);
  const int epoch = p->leader_epoch();
  const int leader = p->leader();
  const int other = p->replicas(1);

  EXPECT_EQ(code(alter_partition("orders", 0, epoch)), kOk);
  EXPECT_EQ(code(alter_partition("missing", 0, epoch)), kNotFound);
  EXPECT_EQ(code(alter_partition("orders", 3, epoch)), kNotFound);
  EXPECT_EQ(code(alter_partition("orders", -1, epoch)), kNotFound);
  auto stale = check(alter_partition("orders", 0, epoch + 1));
  EXPECT_EQ(stale.code, kFailedPrecondition);
  EXPECT_NE(stale.message.find("leader epoch"), std::string::npos);
  auto stale_partition_epoch = alter_partition("orders", 0, epoch);
  stale_partition_epoch.mutable_alter_partition()->set_partition_epoch(p->partition_epoch() + 1);
  EXPECT_EQ(code(stale_partition_epoch), kFailedPrecondition);

  auto shrink = alter_partition("orders", 0, epoch);
  shrink.mutable_alter_partition()->mutable_isr()->add_broker_ids(leader);
  EXPECT_EQ(code(shrink), kOk);
  auto drop_leader = alter_partition("orders", 0, epoch);
  drop_leader.mutable_alter_partition()->mutable_isr()->add_broker_ids(other);
  EXPECT_EQ(code(drop_leader), kInvalidArgument);  // the leader must stay in the ISR
  auto empty_isr = alter_partition("orders", 0, epoch);
  empty_isr.mutable_alter_partition()->mutable_isr();
  EXPECT_EQ(code(empty_isr), kInvalidArgument);
  auto outsider = alter_partition("orders", 0, epoch);
  int not_replica = 1;
  while (not_replica == leader || not_replica == other) ++not_replica;
  outsider.mutable_alter_partition()->mutable_isr()->add_broker_ids(leader);
  outsider.mutable_alter_partition()->mutable_isr()->add_broker_ids(not_replica);
  EXPECT_EQ(code(outsider), kInvalidArgument);

  auto move_leader = alter_partition("orders", 0, epoch);
  move_leader.mutable_alter_partition()->set_leader(other);
  EXPECT_EQ(code(move_leader), kOk);
  auto leader_outside = alter_partition("orders", 0, epoch);
  leader_outside.mutable_alter_partition()->set_leader(not_replica);
  EXPECT_EQ(code(leader_outside), kInvalidArgument);
  auto bad_leader = alter_partition("orders", 0, epoch);
  bad_leader.mutable_alter_partition()->set_leader(-2);
  EXPECT_EQ(code(bad_leader), kInvalidArgument);

  auto replicas = alter_partition("orders", 0, epoch);
  for (int b : {1, 2, 3}) replicas.mutable_alter_partition()->mutable_replicas()->add_broker_ids(b);
  EXPECT_EQ(code(replicas), kOk);
  auto unknown = alter_partition("orders", 0, epoch);
  for (int b : {leader, other, 42}) {
    unknown.mutable_alter_partition()->mutable_replicas()->add_broker_ids(b);
  }
  EXPECT_EQ(code(unknown), kInvalidArgument);
  auto dup = alter_partition("orders", 0, epoch);
  for (int b : {leader, leader})
    dup.mutable_alter_partition()->mutable_replicas()->add_broker_ids(b);
  EXPECT_EQ(code(dup), kInvalidArgument);

  auto offsets = alter_partition("orders", 0, epoch);
  offsets.mutable_alter_partition()->set_high_watermark(100);
  offsets.mutable_alter_partition()->set_log_start_offset(10);
  EXPECT_EQ(code(offsets), kOk);
  auto inverted = alter_partition("orders", 0, epoch);
  inverted.mutable_alter_partition()->set_high_watermark(5);
  inverted.mutable_alter_partition()->set_log_start_offset(10);
  EXPECT_EQ(code(inverted), kInvalidArgument);
  auto negative = alter_partition("orders", 0, epoch);
  negative.mutable_alter_partition()->set_high_watermark(-1);
  EXPECT_EQ(code(negative), kInvalidArgument);
  ASSERT_EQ(h_.run(offsets).code, kOk);
  auto backwards = alter_partition("orders", 0, epoch);
  backwards.mutable_alter_partition()->set_log_start_offset(5);
  EXPECT_EQ(code(backwards), kInvalidArgument);  // log start offset never decreases
}

TEST_F(ValidationTest, AFencedBrokerNeitherJoinsTheIsrNorLeads) {
  std::shared_ptr<const v1::Topic> topic;
  const v1::Partition* p = h_.state()->find_partition("orders", 0, &topic);
  const int other = p->replicas(1);
  ASSERT_EQ(h_.run(fence(other, epochs_[other - 1], kT0 + 60'000)).code, kOk);
  p = h_.state()->find_partition("orders", 0, &topic);
  ASSERT_EQ(p->isr_size(), 1);  // fencing removed it from the ISR
  auto rejoin = alter_partition("orders", 0, p->leader_epoch());
  rejoin.mutable_alter_partition()->mutable_isr()->add_broker_ids(p->leader());
  rejoin.mutable_alter_partition()->mutable_isr()->add_broker_ids(other);
  EXPECT_EQ(code(rejoin), kFailedPrecondition);  // a fenced broker does not join the ISR
  // A partition whose only ISR member is the fenced broker has no leader,
  // and electing that broker is refused although it is in the ISR.
  ASSERT_EQ(h_.run(create_topic_assigned("solo", {{other}})).code, kOk);
  p = h_.state()->find_partition("solo", 0, &topic);
  ASSERT_EQ(p->leader(), -1);
  auto elect = alter_partition("solo", 0, p->leader_epoch());
  elect.mutable_alter_partition()->set_leader(other);
  EXPECT_EQ(code(elect), kFailedPrecondition);
  auto no_leader = alter_partition("solo", 0, p->leader_epoch());
  no_leader.mutable_alter_partition()->set_leader(-1);
  EXPECT_EQ(code(no_leader), kOk);
}

TEST_F(ValidationTest, BrokerRules) {
  EXPECT_EQ(code(register_broker(7)), kOk);
  EXPECT_EQ(code(register_broker(-1)), kInvalidArgument);
  auto no_host = register_broker(7);
  no_host.mutable_register_broker()->clear_host();
  EXPECT_EQ(code(no_host), kInvalidArgument);
  auto long_host = register_broker(7);
  long_host.mutable_register_broker()->set_host(std::string(kMaxHostLength + 1, 'h'));
  EXPECT_EQ(code(long_host), kInvalidArgument);
  for (int port : {0, -1, 65536}) {
    auto bad_port = register_broker(7);
    bad_port.mutable_register_broker()->set_port(port);
    EXPECT_EQ(code(bad_port), kInvalidArgument) << port;
  }
  EXPECT_EQ(code(register_broker(7, kT0, "", 0)), kOk);  // default timeout
  EXPECT_EQ(code(register_broker(7, kT0, "", 999)), kInvalidArgument);
  EXPECT_EQ(code(register_broker(7, kT0, "", kMaxSessionTimeoutMs + 1)), kInvalidArgument);

  EXPECT_EQ(code(heartbeat(1, epochs_[0], kT0)), kOk);
  EXPECT_EQ(code(heartbeat(1, epochs_[0] + 1, kT0)), kFailedPrecondition);
  EXPECT_EQ(code(heartbeat(9, 1, kT0)), kNotFound);
  EXPECT_EQ(code(unregister_broker(1)), kOk);
  EXPECT_EQ(code(unregister_broker(9)), kNotFound);
  EXPECT_EQ(code(allocate_producer_ids(1, epochs_[0])), kOk);
  EXPECT_EQ(code(allocate_producer_ids(1, epochs_[0] + 1)), kFailedPrecondition);
  EXPECT_EQ(code(allocate_producer_ids(9, 1)), kNotFound);
}

TEST_F(ValidationTest, GroupRules) {
  EXPECT_EQ(code(create_group("h")), kOk);
  EXPECT_EQ(code(create_group("g")), kAlreadyExists);
  EXPECT_EQ(code(create_group("")), kInvalidArgument);
  EXPECT_EQ(code(create_group(std::string(250, 'g'))), kInvalidArgument);

  EXPECT_EQ(code(update_group("g", 0, {"m1", "m2"})), kOk);
  EXPECT_EQ(code(update_group("g", 1, {"m1"})), kFailedPrecondition);  // stale generation
  EXPECT_EQ(code(update_group("nope", 0, {"m1"})), kNotFound);
  EXPECT_EQ(code(update_group("g", 0, {"m1", "m1"})), kInvalidArgument);
  EXPECT_EQ(code(update_group("g", 0, {""})), kInvalidArgument);
  auto bad_leader = update_group("g", 0, {"m1"});
  bad_leader.mutable_update_group()->set_leader_member_id("m9");
  EXPECT_EQ(code(bad_leader), kInvalidArgument);
  auto stable_empty = update_group("g", 0, {});
  stable_empty.mutable_update_group()->set_state(v1::GROUP_STATE_STABLE);
  EXPECT_EQ(code(stable_empty), kInvalidArgument);
  auto unknown_state = update_group("g", 0, {"m1"});
  unknown_state.mutable_update_group()->set_state(static_cast<v1::GroupState>(77));
  EXPECT_EQ(code(unknown_state), kInvalidArgument);

  EXPECT_EQ(code(delete_group("g")), kOk);
  EXPECT_EQ(code(delete_group("nope")), kNotFound);
  ASSERT_EQ(h_.run(update_group("g", 0, {"m1"})).code, kOk);
  EXPECT_EQ(code(delete_group("g")), kFailedPrecondition);  // still has members
}

TEST_F(ValidationTest, CommitOffsetRules) {
  EXPECT_EQ(code(commit_offsets("g", {{"orders", 0, 5}})), kOk);
  EXPECT_EQ(code(commit_offsets("new-group", {{"orders", 0, 5}})), kOk);  // auto-created
  EXPECT_EQ(code(commit_offsets("g", {})), kInvalidArgument);
  EXPECT_EQ(code(commit_offsets("g", {{"orders", 0, -1}})), kInvalidArgument);
  EXPECT_EQ(code(commit_offsets("g", {{"orders", 0, 1}, {"orders", 0, 2}})), kInvalidArgument);
  EXPECT_EQ(code(commit_offsets("g", {{"missing", 0, 1}})), kNotFound);
  EXPECT_EQ(code(commit_offsets("g", {{"orders", 3, 1}})), kNotFound);
  EXPECT_EQ(code(commit_offsets("", {{"orders", 0, 1}})), kInvalidArgument);
  auto long_metadata = commit_offsets("g", {{"orders", 0, 1}});
  long_metadata.mutable_commit_offsets()->mutable_offsets(0)->set_metadata(
      std::string(kMaxOffsetMetadataLength + 1, 'm'));
  EXPECT_EQ(code(long_metadata), kInvalidArgument);
  std::vector<OffsetSpec> too_many;
  for (std::size_t i = 0; i <= kMaxOffsetsPerCommit; ++i) {
    too_many.push_back({"t" + std::to_string(i), 0, 1});
  }
  EXPECT_EQ(code(commit_offsets("g", too_many)), kInvalidArgument);

  ASSERT_EQ(h_.run(update_group("g", 0, {"m1"})).code, kOk);
  EXPECT_EQ(code(commit_offsets("g", {{"orders", 0, 5}}, 1, "m1")), kOk);
  EXPECT_EQ(code(commit_offsets("g", {{"orders", 0, 5}}, 0, "m1")), kFailedPrecondition);
  EXPECT_EQ(code(commit_offsets("g", {{"orders", 0, 5}}, 1, "m2")), kFailedPrecondition);
  EXPECT_EQ(code(commit_offsets("nope", {{"orders", 0, 5}}, 0, "m1")), kFailedPrecondition);

  EXPECT_EQ(code(delete_offsets("g", {{"orders", 0}})), kOk);
  EXPECT_EQ(code(delete_offsets("nope", {})), kNotFound);
}

TEST_F(ValidationTest, ACommandWithoutAnOperationIsInvalid) {
  v1::Command empty;
  EXPECT_EQ(code(empty), kInvalidArgument);
}

TEST_F(ValidationTest, LongNamesAreCutInMessages) {
  auto status = check(create_topic(std::string(100000, '!'), 1, 1));
  EXPECT_EQ(status.code, kInvalidArgument);
  EXPECT_LT(status.message.size(), 300u);
}

}  // namespace
}  // namespace raftmeta::state
