// The state machine through the Applier contract: every command's effect,
// client request ids, commands that fail at apply time, revisions.
#include "sidecar/node/state/metadata_state_machine.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "sidecar/node/state/snapshot_codec.h"
#include "sidecar/node/state/tests/test_commands.h"
#include "sidecar/node/state/validation.h"

namespace raftmeta::state {
namespace {

using namespace testing;  // NOLINT

std::vector<int> ids(const google::protobuf::RepeatedField<std::int32_t>& field) {
  return {field.begin(), field.end()};
}

TEST(StateMachineTest, EveryEntryAdvancesTheRevision) {
  Harness h;
  EXPECT_EQ(h.run_bytes("").code, kOk);  // a leader's no-op
  EXPECT_EQ(h.state()->revision(), 1u);
  EXPECT_EQ(h.run_bytes("\xff\xff garbage").code, kInvalidArgument);
  EXPECT_EQ(h.state()->revision(), 2u);
  EXPECT_EQ(h.run(delete_topic("missing")).code, kNotFound);
  EXPECT_EQ(h.state()->revision(), 3u);
  EXPECT_EQ(h.sm.applied_index(), 3u);
}

TEST(StateMachineTest, AnOldIndexIsRefusedWithoutRewinding) {
  Harness h;
  h.run(create_group("g"));
  h.run(create_group("h"));
  auto outcome = h.sm.apply(1, 1, create_group("x").SerializeAsString());
  EXPECT_EQ(outcome.code, kFailedPrecondition);
  EXPECT_EQ(h.sm.applied_index(), 2u);
  h.sm.publish();
  EXPECT_FALSE(h.state()->find_group("x"));
}

TEST(StateMachineTest, PublishIsWhatReadersSee) {
  MetadataStateMachine sm;
  sm.apply(1, 1, create_group("g").SerializeAsString());
  EXPECT_EQ(sm.current()->revision(), 0u);
  EXPECT_FALSE(sm.current()->find_group("g"));
  sm.publish();
  EXPECT_EQ(sm.current()->revision(), 1u);
  EXPECT_TRUE(sm.current()->find_group("g"));
}

TEST(StateMachineTest, CreateTopicAssignsReplicasRoundRobinAndElectsLeaders) {
  Harness h;
  h.register_brokers(3);
  auto outcome = h.run(create_topic("orders", 4, 2));
  ASSERT_EQ(outcome.code, kOk) << outcome.message;
  auto response = parse<v1::CreateTopicResponse>(outcome);
  EXPECT_EQ(response.revision(), 4u);
  const v1::Topic& t = response.topic();
  EXPECT_EQ(t.topic_id(), 4u);
  EXPECT_EQ(t.partitions_size(), 4);
  std::map<int, int> leaders;
  for (int i = 0; i < 4; ++i) {
    const auto& p = t.partitions(i);
    EXPECT_EQ(p.partition(), i);
    EXPECT_EQ(p.topic(), "orders");
    ASSERT_EQ(p.replicas_size(), 2);
    EXPECT_NE(p.replicas(0), p.replicas(1));
    EXPECT_EQ(ids(p.isr()), ids(p.replicas()));
    EXPECT_EQ(p.leader(), p.replicas(0));
    EXPECT_EQ(p.leader_epoch(), 0);
    ++leaders[p.leader()];
  }
  EXPECT_EQ(leaders.size(), 3u);  // spread over all brokers
  auto stored = h.state()->find_topic("orders");
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->SerializeAsString(), t.SerializeAsString());
}

TEST(StateMachineTest, AutomaticAssignmentSkipsFencedBrokers) {
  Harness h;
  auto epochs = h.register_brokers(3);
  ASSERT_EQ(h.run(fence(2, epochs[1], kT0 + 60'000)).code, kOk);
  ASSERT_EQ(h.run(create_topic("t", 6, 2)).code, kOk);
  for (const auto& p : h.state()->find_topic("t")->partitions()) {
    EXPECT_FALSE(std::find(p.replicas().begin(), p.replicas().end(), 2) != p.replicas().end());
  }
  EXPECT_EQ(h.run(create_topic("u", 1, 3)).code, kFailedPrecondition);
}

TEST(StateMachineTest, ACommandWithoutAnOperationFailsAndTheRevisionAdvances) {
  Harness h;
  v1::Command empty;
  empty.mutable_header()->set_client_id("c");
  auto outcome = h.run(empty);
  EXPECT_EQ(outcome.code, kInvalidArgument);
  EXPECT_EQ(h.state()->revision(), 1u);
  EXPECT_TRUE(h.state()->watch_events(1, 0).events.empty());
}

TEST(StateMachineTest, CreateTopicWithExplicitAssignmentAndConfigs) {
  Harness h;
  h.register_brokers(3);
  auto command = create_topic_assigned("t", {{3, 1}, {2, 3}});
  (*command.mutable_create_topic()->mutable_configs())["retention.ms"] = "1000";
  ASSERT_EQ(h.run(command).code, kOk);
  auto t = h.state()->find_topic("t");
  EXPECT_EQ(ids(t->partitions(0).replicas()), (std::vector<int>{3, 1}));
  EXPECT_EQ(t->partitions(0).leader(), 3);
  EXPECT_EQ(t->partitions(1).leader(), 2);
  EXPECT_EQ(t->configs().at("retention.ms"), "1000");
}

TEST(StateMachineTest, DeleteTopicDeletesItsCommittedOffsets) {
  Harness h;
  h.register_brokers(1);
  h.run(create_topic("a", 2, 1));
  h.run(create_topic("b", 1, 1));
  h.run(commit_offsets("g1", {{"a", 0, 1}, {"a", 1, 2}, {"b", 0, 3}}));
  h.run(commit_offsets("g2", {{"a", 1, 4}}));
  ASSERT_EQ(h.run(delete_topic("a")).code, kOk);
  EXPECT_EQ(h.state()->offsets.size(), 1u);  // only b/0 of g1 is left
  EXPECT_EQ(h.state()->offsets_by_topic.size(), 1u);
  auto read = h.state()->watch_events(h.state()->revision(), 0);
  ASSERT_EQ(read.events.size(), 1u);
  const auto& changes = read.events[0]->changes();
  ASSERT_EQ(changes.size(), 3);  // topic deleted, then offsets of g1 and of g2
  EXPECT_EQ(changes[0].kind(), v1::CHANGE_KIND_TOPIC_DELETED);
  EXPECT_EQ(changes[1].kind(), v1::CHANGE_KIND_OFFSETS_DELETED);
  EXPECT_EQ(changes[1].offsets().group_id(), "g1");
  EXPECT_EQ(changes[1].offsets().offsets_size(), 2);
  EXPECT_EQ(changes[2].offsets().group_id(), "g2");
}

TEST(StateMachineTest, DeleteTopicRemovesItAndHidesItsOffsets) {
  Harness h;
  h.register_brokers(1);
  ASSERT_EQ(h.run(create_topic("t", 1, 1)).code, kOk);
  ASSERT_EQ(h.run(commit_offsets("g", {{"t", 0, 7}})).code, kOk);
  auto outcome = h.run(delete_topic("t"));
  ASSERT_EQ(outcome.code, kOk);
  EXPECT_EQ(parse<v1::DeleteTopicResponse>(outcome).topic_id(), 2u);
  EXPECT_FALSE(h.state()->find_topic("t"));
  // Re-created under the same name: the old commit does not come back.
  ASSERT_EQ(h.run(create_topic("t", 1, 1)).code, kOk);
  std::vector<v1::CommittedOffset> out;
  ASSERT_TRUE(h.state()->fetch_offsets("g", {}, &out).ok());
  EXPECT_TRUE(out.empty());
  v1::TopicPartition tp;
  tp.set_topic("t");
  ASSERT_TRUE(h.state()->fetch_offsets("g", {tp}, &out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].offset(), -1);
}

TEST(StateMachineTest, ListTopicsByPrefixAndPage) {
  Harness h;
  h.register_brokers(1);
  for (const char* name : {"a.1", "a.2", "a.3", "b.1"}) h.run(create_topic(name, 1, 1));
  bool more = false;
  auto all = h.state()->list_topics("", "", 0, &more);
  EXPECT_EQ(all.size(), 4u);
  EXPECT_FALSE(more);
  auto page = h.state()->list_topics("a.", "", 2, &more);
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[1]->name(), "a.2");
  EXPECT_TRUE(more);
  auto rest = h.state()->list_topics("a.", "a.2", 2, &more);
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0]->name(), "a.3");
  EXPECT_FALSE(more);
}

TEST(StateMachineTest, AlterPartitionChangesLeaderIsrAndOffsetsWithEpochs) {
  Harness h;
  h.register_brokers(3);
  h.run(create_topic_assigned("t", {{1, 2, 3}}));
  auto shrink = alter_partition("t", 0, 0);
  for (int b : {1, 2}) shrink.mutable_alter_partition()->mutable_isr()->add_broker_ids(b);
  shrink.mutable_alter_partition()->set_high_watermark(50);
  auto outcome = h.run(shrink);
  ASSERT_EQ(outcome.code, kOk) << outcome.message;
  auto p = parse<v1::AlterPartitionResponse>(outcome).partition();
  EXPECT_EQ(ids(p.isr()), (std::vector<int>{1, 2}));
  EXPECT_EQ(p.leader_epoch(), 0);  // same leader
  EXPECT_EQ(p.partition_epoch(), 1);
  EXPECT_EQ(p.high_watermark(), 50);

  auto move = alter_partition("t", 0, 0);
  move.mutable_alter_partition()->set_leader(2);
  move.mutable_alter_partition()->set_partition_epoch(1);
  p = parse<v1::AlterPartitionResponse>(h.run(move)).partition();
  EXPECT_EQ(p.leader(), 2);
  EXPECT_EQ(p.leader_epoch(), 1);
  EXPECT_EQ(p.partition_epoch(), 2);
  // The old leader's epoch is now fenced.
  EXPECT_EQ(h.run(alter_partition("t", 0, 0)).code, kFailedPrecondition);
  std::shared_ptr<const v1::Topic> owner;
  EXPECT_EQ(h.state()->find_partition("t", 0, &owner)->leader(), 2);
}

TEST(StateMachineTest, BrokerRegistrationHeartbeatAndEpochs) {
  Harness h;
  auto outcome = h.run(register_broker(5, kT0, "inc-a"));
  ASSERT_EQ(outcome.code, kOk);
  const auto epoch = parse<v1::RegisterBrokerResponse>(outcome).broker_epoch();
  EXPECT_EQ(epoch, 1u);
  auto b = h.state()->find_broker(5);
  EXPECT_EQ(b->host(), "broker-5");
  EXPECT_EQ(b->last_heartbeat_ms(), kT0);
  EXPECT_FALSE(b->fenced());

  ASSERT_EQ(h.run(heartbeat(5, epoch, kT0 + 500)).code, kOk);
  EXPECT_EQ(h.state()->find_broker(5)->last_heartbeat_ms(), kT0 + 500);
  EXPECT_EQ(h.state()->find_broker(5)->last_heartbeat_revision(), 2u);

  // Same incarnation: same epoch. New incarnation: new epoch; old one is stale.
  auto again = parse<v1::RegisterBrokerResponse>(h.run(register_broker(5, kT0, "inc-a")));
  EXPECT_EQ(again.broker_epoch(), epoch);
  auto restarted = parse<v1::RegisterBrokerResponse>(h.run(register_broker(5, kT0, "inc-b")));
  EXPECT_EQ(restarted.broker_epoch(), 4u);
  EXPECT_EQ(h.run(heartbeat(5, epoch, kT0)).code, kFailedPrecondition);

  auto defaults = register_broker(6, kT0, "x", 0);
  ASSERT_EQ(h.run(defaults).code, kOk);
  EXPECT_EQ(h.state()->find_broker(6)->session_timeout_ms(), kDefaultSessionTimeoutMs);
  EXPECT_EQ(h.state()->list_brokers().size(), 2u);
}

TEST(StateMachineTest, FencingMovesLeadershipAndHeartbeatUnfences) {
  Harness h;
  auto epochs = h.register_brokers(2);
  h.run(create_topic_assigned("t", {{1, 2}}));
  // Not expired yet at kT0 + timeout: nothing happens.
  ASSERT_EQ(h.run(fence(1, epochs[0], kT0 + 10'000)).code, kOk);
  EXPECT_FALSE(h.state()->find_broker(1)->fenced());
  ASSERT_EQ(h.run(fence(1, epochs[0], kT0 + 10'001)).code, kOk);
  EXPECT_TRUE(h.state()->find_broker(1)->fenced());
  std::shared_ptr<const v1::Topic> owner;
  const v1::Partition* p = h.state()->find_partition("t", 0, &owner);
  EXPECT_EQ(p->leader(), 2);
  EXPECT_EQ(p->leader_epoch(), 1);
  EXPECT_EQ(ids(p->isr()), (std::vector<int>{2}));

  // Broker 2 fenced too: it stays the last ISR member, the partition has no leader.
  ASSERT_EQ(h.run(fence(2, epochs[1], kT0 + 20'000)).code, kOk);
  p = h.state()->find_partition("t", 0, &owner);
  EXPECT_EQ(p->leader(), -1);
  EXPECT_EQ(ids(p->isr()), (std::vector<int>{2}));
  EXPECT_EQ(p->leader_epoch(), 2);

  // Broker 1 heartbeats: unfenced, but not in the ISR, so no leader yet.
  auto hb = h.run(heartbeat(1, epochs[0], kT0 + 21'000));
  ASSERT_EQ(hb.code, kOk);
  EXPECT_FALSE(parse<v1::BrokerHeartbeatResponse>(hb).fenced());
  EXPECT_FALSE(h.state()->find_broker(1)->fenced());
  EXPECT_EQ(h.state()->find_partition("t", 0, &owner)->leader(), -1);
  // Broker 2 heartbeats: it leads again.
  ASSERT_EQ(h.run(heartbeat(2, epochs[1], kT0 + 21'000)).code, kOk);
  p = h.state()->find_partition("t", 0, &owner);
  EXPECT_EQ(p->leader(), 2);
  EXPECT_EQ(p->leader_epoch(), 3);
}

TEST(StateMachineTest, FenceWithAStaleEpochOrAfterAHeartbeatDoesNothing) {
  Harness h;
  auto epochs = h.register_brokers(1);
  ASSERT_EQ(h.run(heartbeat(1, epochs[0], kT0 + 9'000)).code, kOk);
  // Proposed at kT0 + 10'001 by a leader that had not seen the heartbeat.
  ASSERT_EQ(h.run(fence(1, epochs[0], kT0 + 10'001)).code, kOk);
  EXPECT_FALSE(h.state()->find_broker(1)->fenced());
  ASSERT_EQ(h.run(fence(1, epochs[0] + 7, kT0 + 60'000)).code, kOk);
  EXPECT_FALSE(h.state()->find_broker(1)->fenced());
}

TEST(StateMachineTest, UnregisterRemovesTheBrokerFromLeadershipAndIsr) {
  Harness h;
  h.register_brokers(3);
  h.run(create_topic_assigned("t", {{1, 2, 3}}));
  ASSERT_EQ(h.run(unregister_broker(1)).code, kOk);
  EXPECT_FALSE(h.state()->find_broker(1));
  std::shared_ptr<const v1::Topic> owner;
  const v1::Partition* p = h.state()->find_partition("t", 0, &owner);
  EXPECT_EQ(p->leader(), 2);
  EXPECT_EQ(ids(p->isr()), (std::vector<int>{2, 3}));
  EXPECT_EQ(ids(p->replicas()), (std::vector<int>{1, 2, 3}));
}

TEST(StateMachineTest, RegisteringABrokerElectsItWhereNoLeaderWas) {
  Harness h;
  auto epochs = h.register_brokers(1);
  h.run(create_topic("t", 2, 1));
  h.run(fence(1, epochs[0], kT0 + 60'000));
  std::shared_ptr<const v1::Topic> owner;
  EXPECT_EQ(h.state()->find_partition("t", 1, &owner)->leader(), -1);
  h.run(register_broker(1, kT0 + 61'000, "new-incarnation"));
  EXPECT_EQ(h.state()->find_partition("t", 1, &owner)->leader(), 1);
}

TEST(StateMachineTest, GroupsLifecycle) {
  Harness h;
  auto created = h.run(create_group("g"));
  ASSERT_EQ(created.code, kOk);
  EXPECT_EQ(parse<v1::CreateGroupResponse>(created).group().state(), v1::GROUP_STATE_EMPTY);
  auto updated = parse<v1::UpdateGroupResponse>(h.run(update_group("g", 0, {"m1", "m2"})));
  EXPECT_EQ(updated.group().generation(), 1);
  EXPECT_EQ(updated.group().members_size(), 2);
  EXPECT_EQ(updated.group().leader_member_id(), "m1");
  EXPECT_EQ(h.state()->find_group("g")->state(), v1::GROUP_STATE_STABLE);
  h.run(create_group("h"));
  h.run(create_group("other"));
  EXPECT_EQ(h.state()->list_groups("").size(), 3u);
  EXPECT_EQ(h.state()->list_groups("h").size(), 1u);
  EXPECT_EQ(h.run(delete_group("g")).code, kFailedPrecondition);
  ASSERT_EQ(h.run(update_group("g", 1, {})).code, kOk);
  ASSERT_EQ(h.run(delete_group("g")).code, kOk);
  EXPECT_FALSE(h.state()->find_group("g"));
}

TEST(StateMachineTest, OffsetsCommitFetchAndDelete) {
  Harness h;
  h.register_brokers(1);
  h.run(create_topic("a", 3, 1));
  h.run(create_topic("b", 1, 1));
  auto single = h.run(commit_offsets("g", {{"a", 0, 10}}));
  ASSERT_EQ(single.code, kOk);
  EXPECT_TRUE(h.state()->find_group("g"));  // created on first commit
  ASSERT_EQ(h.run(commit_offsets("g", {{"a", 1, 11}, {"a", 2, 12}, {"b", 0, 20}})).code, kOk);
  ASSERT_EQ(h.run(commit_offsets("g", {{"a", 0, 15}})).code, kOk);
  ASSERT_EQ(h.run(commit_offsets("other", {{"a", 0, 99}})).code, kOk);

  std::vector<v1::CommittedOffset> out;
  ASSERT_TRUE(h.state()->fetch_offsets("g", {}, &out).ok());
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].offset(), 15);
  EXPECT_EQ(out[0].commit_time_ms(), kT0);
  EXPECT_EQ(out[3].topic(), "b");
  EXPECT_EQ(h.state()->fetch_offsets("nope", {}, &out).code, kNotFound);

  auto deleted = h.run(delete_offsets("g", {{"a", 1}, {"a", 9}}));
  EXPECT_EQ(parse<v1::DeleteOffsetsResponse>(deleted).deleted(), 1u);
  ASSERT_TRUE(h.state()->fetch_offsets("g", {}, &out).ok());
  EXPECT_EQ(out.size(), 3u);
  auto all = h.run(delete_offsets("g", {}));
  EXPECT_EQ(parse<v1::DeleteOffsetsResponse>(all).deleted(), 3u);
  ASSERT_TRUE(h.state()->fetch_offsets("g", {}, &out).ok());
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(h.state()->fetch_offsets("other", {}, &out).ok());
  EXPECT_EQ(out.size(), 1u);
}

TEST(StateMachineTest, DeletingAGroupDeletesItsOffsets) {
  Harness h;
  h.register_brokers(1);
  h.run(create_topic("a", 1, 1));
  h.run(commit_offsets("g", {{"a", 0, 1}}));
  ASSERT_EQ(h.run(delete_group("g")).code, kOk);
  EXPECT_TRUE(h.state()->offsets.empty());
}

TEST(StateMachineTest, ProducerIdBlocksAreMonotonicAndDisjoint) {
  Harness h;
  auto epochs = h.register_brokers(2);
  std::int64_t previous_end = 0;
  for (int i = 0; i < 5; ++i) {
    auto r = parse<v1::AllocateProducerIdsResponse>(
        h.run(allocate_producer_ids(1 + i % 2, epochs[i % 2])));
    EXPECT_EQ(r.first_producer_id(), previous_end);
    EXPECT_EQ(r.count(), kProducerIdBlockSize);
    previous_end = r.first_producer_id() + r.count();
  }
  EXPECT_EQ(h.state()->next_producer_id(), previous_end);
}

TEST(StateMachineTest, ARetriedWriteGetsItsOriginalOutcome) {
  Harness h;
  h.register_brokers(1);
  auto first = h.run(with_header(create_topic("t", 1, 1), "client-a", 1));
  ASSERT_EQ(first.code, kOk);
  const auto revision = h.state()->revision();
  // The retry would fail with ALREADY_EXISTS if applied again.
  auto retry = h.run(with_header(create_topic("t", 1, 1), "client-a", 1));
  EXPECT_EQ(retry.code, kOk);
  EXPECT_EQ(retry.response, first.response);
  EXPECT_EQ(parse<v1::CreateTopicResponse>(retry).revision(), revision);
  // A different request id, or another client with the same id, is new.
  EXPECT_EQ(h.run(with_header(create_topic("t", 1, 1), "client-a", 2)).code, kAlreadyExists);
  EXPECT_EQ(h.run(with_header(create_topic("t", 1, 1), "client-b", 1)).code, kAlreadyExists);
  // Errors are remembered too.
  auto failed = h.run(with_header(delete_topic("zzz"), "client-a", 3));
  EXPECT_EQ(failed.code, kNotFound);
  h.run(create_topic("zzz", 1, 1));
  auto failed_retry = h.run(with_header(delete_topic("zzz"), "client-a", 3));
  EXPECT_EQ(failed_retry.code, kNotFound);
  EXPECT_EQ(failed_retry.message, failed.message);
  EXPECT_TRUE(h.state()->find_topic("zzz"));
}

TEST(StateMachineTest, RequestIdZeroIsNeverDeduplicated) {
  Harness h;
  EXPECT_EQ(h.run(with_header(create_group("g"), "c", 0)).code, kOk);
  EXPECT_EQ(h.run(with_header(create_group("g"), "c", 0)).code, kAlreadyExists);
}

TEST(StateMachineTest, RememberedRequestsAreBoundedPerClient) {
  StateMachineOptions options;
  options.sessions.max_requests_per_client = 3;
  Harness h(options);
  for (std::uint64_t id = 1; id <= 5; ++id) {
    h.run(with_header(create_group("g" + std::to_string(id)), "c", id));
  }
  const auto& sessions = h.state()->sessions;
  EXPECT_EQ(sessions.find("c", 1), nullptr);
  EXPECT_EQ(sessions.find("c", 2), nullptr);
  EXPECT_NE(sessions.find("c", 3), nullptr);
  EXPECT_NE(sessions.find("c", 5), nullptr);
  // Forgotten: applied again (and fails, the group exists).
  EXPECT_EQ(h.run(with_header(create_group("g1"), "c", 1)).code, kAlreadyExists);
}

// RequestHeader.first_unacknowledged: the client says which ids it will not
// send again; their outcomes are forgotten and a late copy is refused
// rather than applied a second time.
TEST(StateMachineTest, AcknowledgedRequestsAreForgottenAndTheirLateCopiesRefused) {
  Harness h;
  auto acknowledging = [](v1::Command c, std::uint64_t id, std::uint64_t first_unacknowledged) {
    c = with_header(std::move(c), "c", id);
    c.mutable_header()->set_first_unacknowledged(first_unacknowledged);
    return c;
  };
  ASSERT_EQ(h.run(acknowledging(create_group("g"), 1, 1)).code, kOk);
  ASSERT_EQ(h.run(acknowledging(delete_group("g"), 2, 2)).code, kOk);
  // Request 1 was acknowledged by request 2: forgotten; 2 is remembered.
  EXPECT_EQ(h.state()->sessions.find("c", 1), nullptr);
  ASSERT_NE(h.state()->sessions.find("c", 2), nullptr);
  EXPECT_TRUE(h.state()->sessions.acknowledged("c", 1));
  EXPECT_FALSE(h.state()->sessions.acknowledged("c", 2));

  // A late copy of request 1 would create the group again; it is refused.
  const auto revision = h.state()->revision();
  const auto late = h.run(acknowledging(create_group("g"), 1, 1));
  EXPECT_EQ(late.code, kFailedPrecondition) << late.message;
  EXPECT_NE(late.message.find("already answered"), std::string::npos) << late.message;
  EXPECT_EQ(h.state()->revision(), revision + 1);  // the entry was applied, as a refusal
  EXPECT_FALSE(h.state()->find_group("g"));
  // A retry of the unacknowledged request 2 still gets its outcome.
  EXPECT_EQ(h.run(acknowledging(delete_group("g"), 2, 2)).code, kOk);

  // A floor above the request's own id is clamped to it: request 3 cannot
  // acknowledge request 5 before it was even sent.
  ASSERT_EQ(h.run(acknowledging(create_group("g3"), 3, 9)).code, kOk);
  EXPECT_TRUE(h.state()->sessions.acknowledged("c", 2));
  EXPECT_FALSE(h.state()->sessions.acknowledged("c", 3));
  EXPECT_EQ(h.run(acknowledging(create_group("g5"), 5, 3)).code, kOk);

  // The floor is part of the snapshot.
  State restored;
  std::string error;
  ASSERT_TRUE(decode_snapshot(encode_snapshot(*h.state()), &restored, &error)) << error;
  EXPECT_TRUE(restored.sessions.acknowledged("c", 2));
  EXPECT_FALSE(restored.sessions.acknowledged("c", 3));
  EXPECT_NE(restored.sessions.find("c", 3), nullptr);
}

TEST(StateMachineTest, IdleClientsExpireByRevisionAndByCount) {
  StateMachineOptions options;
  options.sessions.retention_revisions = 10;
  options.sessions.max_clients = 3;
  Harness h(options);
  h.run(with_header(create_group("a"), "old", 1));         // revision 1
  for (int i = 0; i < 10; ++i) h.run_bytes("");            // revisions 2..11
  EXPECT_NE(h.state()->sessions.find("old", 1), nullptr);  // 1 + 10 >= 11
  h.run_bytes("");                                         // revision 12
  EXPECT_EQ(h.state()->sessions.find("old", 1), nullptr);

  for (int c = 0; c < 4; ++c) {
    h.run(with_header(create_group("x" + std::to_string(c)), "c" + std::to_string(c), 1));
  }
  EXPECT_EQ(h.state()->sessions.size(), 3u);
  EXPECT_EQ(h.state()->sessions.find("c0", 1), nullptr);  // the oldest went first
  EXPECT_NE(h.state()->sessions.find("c3", 1), nullptr);
}

TEST(StateMachineTest, ACommandValidWhenProposedCanFailAtApplyAndStateMovesOn) {
  Harness h;
  h.register_brokers(1);
  // Two clients race to create the same topic: both validate against the
  // same published state; the second fails when applied.
  auto a = with_header(create_topic("t", 1, 1), "a", 1);
  auto b = with_header(create_topic("t", 2, 1), "b", 1);
  ASSERT_TRUE(validate(a, *h.state()).ok());
  ASSERT_TRUE(validate(b, *h.state()).ok());
  EXPECT_EQ(h.run(a).code, kOk);
  auto second = h.run(b);
  EXPECT_EQ(second.code, kAlreadyExists);
  EXPECT_TRUE(second.response.empty());
  EXPECT_EQ(h.state()->find_topic("t")->partitions_size(), 1);
  // A heartbeat proposed before a re-registration arrives with a stale epoch.
  auto epoch = h.state()->find_broker(1)->broker_epoch();
  auto hb = heartbeat(1, epoch, kT0);
  ASSERT_TRUE(validate(hb, *h.state()).ok());
  h.run(register_broker(1, kT0, "another"));
  EXPECT_EQ(h.run(hb).code, kFailedPrecondition);
  // The state keeps applying.
  EXPECT_EQ(h.run(create_group("g")).code, kOk);
}

TEST(StateMachineTest, ChangesAreRecordedForWatchers) {
  Harness h;
  auto epochs = h.register_brokers(1);       // revision 1
  h.run(create_topic("t", 2, 1));            // 2
  h.run(delete_topic("nope"));               // 3: failed, no event
  h.run_bytes("");                           // 4: no-op, no event
  h.run(fence(1, epochs[0], kT0 + 60'000));  // 5
  auto read = h.state()->watch_events(1, 0);
  ASSERT_FALSE(read.compacted);
  ASSERT_EQ(read.events.size(), 3u);
  EXPECT_EQ(read.events[0]->revision(), 1u);
  EXPECT_EQ(read.events[0]->changes(0).kind(), v1::CHANGE_KIND_BROKER_REGISTERED);
  EXPECT_EQ(read.events[1]->changes(0).kind(), v1::CHANGE_KIND_TOPIC_CREATED);
  EXPECT_EQ(read.events[1]->changes(0).topic().name(), "t");
  const auto& fenced = *read.events[2];
  EXPECT_EQ(fenced.revision(), 5u);
  ASSERT_EQ(fenced.changes_size(), 3);  // broker fenced, 2 partitions lose their leader
  EXPECT_EQ(fenced.changes(0).kind(), v1::CHANGE_KIND_BROKER_FENCED);
  EXPECT_EQ(fenced.changes(1).kind(), v1::CHANGE_KIND_PARTITION_CHANGED);
  EXPECT_EQ(fenced.changes(1).partition().leader(), -1);
}

TEST(StateMachineTest, WatchHistoryIsBoundedAndReportsCompaction) {
  StateMachineOptions options;
  options.watch_capacity = 5;
  Harness h(options);
  for (int i = 0; i < 20; ++i) h.run(create_group("g" + std::to_string(i)));
  auto old = h.state()->watch_events(3, 0);
  EXPECT_TRUE(old.compacted);
  EXPECT_EQ(old.compact_revision, 16u);
  auto recent = h.state()->watch_events(16, 0);
  EXPECT_FALSE(recent.compacted);
  EXPECT_EQ(recent.events.size(), 5u);
}

}  // namespace
}  // namespace raftmeta::state
