// The Ready contract of raw_node.h: what goes out before and after
// persistence, async accept/on_persisted/on_applied, must_sync, and create().
#include <gtest/gtest.h>

#include "sidecar/raft/tests/scenario_net.h"

namespace raftmeta::raft::test {
namespace {

std::unique_ptr<RawNode> solo_leader(MemoryStorage* disk, NodeId id = 1,
                                     std::vector<NodeId> voters = {1}) {
  Snapshot boot;
  boot.meta.conf.voters = voters;
  disk->apply_snapshot(boot);
  std::string error;
  auto node = RawNode::create(default_config(id), disk, &error);
  EXPECT_TRUE(node) << error;
  return node;
}

void persist(MemoryStorage* disk, const Ready& rd) {
  if (rd.snapshot) disk->apply_snapshot(*rd.snapshot);
  disk->append(rd.entries);
  if (rd.hard_state) disk->set_hard_state(*rd.hard_state);
}

TEST(ReadyContract, CreateRefusesInvalidConfigAndInconsistentStorage) {
  MemoryStorage disk;
  std::string error;
  Config c = default_config(0);
  EXPECT_EQ(RawNode::create(c, &disk, &error), nullptr);
  EXPECT_FALSE(error.empty());
  c = default_config(1);
  c.election_tick = 1;
  EXPECT_EQ(RawNode::create(c, &disk, &error), nullptr);
  disk.set_hard_state(HardState{1, kNoNode, 5});  // commit beyond the log
  error.clear();
  EXPECT_EQ(RawNode::create(default_config(1), &disk, &error), nullptr);
  EXPECT_NE(error.find("commit"), std::string::npos) << error;
  EXPECT_EQ(RawNode::create(default_config(1), nullptr, &error), nullptr);
}

TEST(ReadyContract, LeaderOwnMatchAdvancesOnlyWhenPersisted) {
  MemoryStorage disk;
  auto node = solo_leader(&disk);
  node->campaign();
  Ready rd = node->ready();
  ASSERT_EQ(rd.entries.size(), 1u);  // the no-op
  node->accept(rd);
  EXPECT_EQ(node->status().commit, 0u) << "not durable yet";
  EXPECT_FALSE(node->ready().entries.size() > 0) << "entries are never handed out twice";
  persist(&disk, rd);
  node->on_persisted(rd.entries.back().index, rd.entries.back().term);
  EXPECT_EQ(node->status().commit, 1u);
  EXPECT_EQ(node->status().persisted, 1u);
}

TEST(ReadyContract, CommittedEntriesNeverRunAheadOfPersistence) {
  MemoryStorage disk;
  auto node = solo_leader(&disk, 1, {1, 2, 3});
  node->campaign();
  for (NodeId v : {2u, 3u}) {
    Message r = msg(MessageType::kPreVoteResponse, v, 1, 1);
    node->step(r);
  }
  for (NodeId v : {2u, 3u}) node->step(msg(MessageType::kVoteResponse, v, 1, 1));
  ASSERT_EQ(node->status().role, Role::kLeader);
  Ready rd = node->ready();
  node->accept(rd);  // the writer has it; not durable yet
  // Both followers acknowledge the no-op: it is committed...
  for (NodeId v : {2u, 3u}) {
    Message ack = msg(MessageType::kAppendResponse, v, 1, 1);
    ack.index = 1;
    node->step(ack);
  }
  EXPECT_EQ(node->status().commit, 1u);
  // ...but not handed out for applying before it is durable here.
  Ready early = node->ready();
  EXPECT_TRUE(early.committed_entries.empty());
  EXPECT_TRUE(early.hard_state.has_value());
  EXPECT_FALSE(early.must_sync) << "a commit-only hard state change needs no fsync";
  node->accept(early);
  persist(&disk, rd);
  persist(&disk, early);
  node->on_persisted(1, 1);
  Ready later = node->ready();
  ASSERT_EQ(later.committed_entries.size(), 1u);
  EXPECT_EQ(later.committed_entries[0].index, 1u);
  node->accept(later);
  EXPECT_EQ(node->status().applied, 0u);
  node->on_applied(1);
  EXPECT_EQ(node->status().applied, 1u);
}

TEST(ReadyContract, VotesAndAppendResponsesWaitForPersistence) {
  Net net(3, [](Config& c) { c.pre_vote = false; });
  net.set_manual(2, true);
  Message vote = msg(MessageType::kVote, 1, 2, 1);
  net.node(2).step(vote);
  Ready rd = net.node(2).ready();
  ASSERT_TRUE(rd.hard_state.has_value());
  EXPECT_EQ(rd.hard_state->vote, 1u);
  EXPECT_TRUE(rd.must_sync);
  EXPECT_TRUE(rd.messages.empty());
  ASSERT_EQ(rd.persisted_messages.size(), 1u);
  EXPECT_EQ(rd.persisted_messages[0].type, MessageType::kVoteResponse);
  net.node(2).advance(rd);
  Message app = msg(MessageType::kAppend, 1, 2, 1);
  app.entries.push_back(Entry{1, 1, EntryType::kNormal, ""});
  net.node(2).step(app);
  rd = net.node(2).ready();
  ASSERT_EQ(rd.persisted_messages.size(), 1u);
  EXPECT_EQ(rd.persisted_messages[0].type, MessageType::kAppendResponse);
  EXPECT_TRUE(rd.messages.empty());
}

TEST(ReadyContract, CandidateVoteRequestsLeaveOnlyAfterItsVoteIsDurable) {
  Net net(3, [](Config& c) { c.pre_vote = false; });
  net.set_manual(1, true);
  net.node(1).campaign();
  Ready rd = net.node(1).ready();
  ASSERT_TRUE(rd.hard_state.has_value());
  EXPECT_EQ(rd.hard_state->term, 1u);
  EXPECT_EQ(rd.hard_state->vote, 1u);
  int votes = 0;
  for (const Message& m : rd.persisted_messages) votes += m.type == MessageType::kVote ? 1 : 0;
  EXPECT_EQ(votes, 2);
  for (const Message& m : rd.messages) EXPECT_NE(m.type, MessageType::kVote);
}

TEST(ReadyContract, LeaderAppendsMayLeaveBeforePersistence) {
  Net net(3);
  net.campaign(1);
  net.deliver_all();
  net.set_manual(1, true);
  net.node(1).propose("parallel");
  Ready rd = net.node(1).ready();
  ASSERT_EQ(rd.entries.size(), 1u);
  int appends = 0;
  for (const Message& m : rd.messages) appends += m.type == MessageType::kAppend ? 1 : 0;
  EXPECT_EQ(appends, 2);
}

TEST(ReadyContract, HasReadyIsFalseWhenEverythingWasHandled) {
  Net net(3);
  net.campaign(1);
  net.deliver_all();
  for (NodeId id : {1u, 2u, 3u}) EXPECT_FALSE(net.node(id).has_ready()) << id;
}

TEST(ReadyContract, AsyncPersistenceOutOfStepWithReadiesKeepsOrder) {
  MemoryStorage disk;
  auto node = solo_leader(&disk);
  node->campaign();
  std::vector<Ready> pending;
  for (int i = 0; i < 5; ++i) {
    node->propose("a" + std::to_string(i));
    Ready rd = node->ready();
    node->accept(rd);
    pending.push_back(std::move(rd));
  }
  EXPECT_EQ(node->status().commit, 0u);
  // The writer finishes the first three Readies.
  for (int i = 0; i < 3; ++i) persist(&disk, pending[i]);
  node->on_persisted(pending[2].entries.back().index, pending[2].entries.back().term);
  EXPECT_EQ(node->status().commit, pending[2].entries.back().index);
  Ready rd = node->ready();
  ASSERT_FALSE(rd.committed_entries.empty());
  EXPECT_EQ(rd.committed_entries.back().index, pending[2].entries.back().index);
  EXPECT_TRUE(rd.entries.empty()) << "already accepted entries are not handed out again";
}

}  // namespace
}  // namespace raftmeta::raft::test
