// Snapshots: compaction, InstallSnapshot to a lagging follower, truncation of
// a conflicting log, stale snapshots, snapshots racing in-flight appends,
// report_snapshot, and restart from a snapshot.
#include <gtest/gtest.h>

#include "sidecar/raft/tests/scenario_net.h"

namespace raftmeta::raft::test {
namespace {

Net elected(std::size_t n, NodeId leader = 1) {
  Net net(n);
  net.campaign(leader);
  net.deliver_all();
  return net;
}

std::vector<std::string> numbered(const std::string& prefix, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(prefix + std::to_string(i));
  return out;
}

TEST(Snapshot, LaggingFollowerWhoseNextIndexWasCompactedGetsASnapshot) {
  Net net = elected(3);
  net.isolate(3);
  for (const auto& d : numbered("s", 20)) net.propose(1, d);
  net.deliver_all();
  const Index applied = net.status(1).applied;
  net.compact(1, applied);
  EXPECT_EQ(net.status(1).first_index, applied + 1);
  net.delivered().clear();
  net.heal();
  net.tick_all(3);
  bool snapshot_sent = false;
  for (const Message& m : net.delivered()) {
    snapshot_sent |= m.type == MessageType::kSnapshot && m.to == 3;
  }
  EXPECT_TRUE(snapshot_sent);
  EXPECT_EQ(net.storage(3).snapshot().meta.index, applied);
  EXPECT_EQ(net.app(3).data(), numbered("s", 20));
  net.propose(1, "after");
  net.deliver_all();
  EXPECT_EQ(net.app(3).data().back(), "after");
  EXPECT_EQ(net.status(1).progress.size(), 2u);
  for (const PeerProgress& p : net.status(1).progress) EXPECT_EQ(p.state, "replicate");
}

TEST(Snapshot, InstallingTruncatesAConflictingLog) {
  MemoryStorage disk;
  Snapshot boot;
  boot.meta.conf.voters = {1, 2, 3};
  disk.apply_snapshot(boot);
  disk.append({Entry{1, 1, EntryType::kNormal, "a"}, Entry{1, 2, EntryType::kNormal, "b"},
               Entry{1, 3, EntryType::kNormal, "c"}, Entry{1, 4, EntryType::kNormal, "d"}});
  disk.set_hard_state(HardState{1, kNoNode, 1});
  std::string error;
  auto node = RawNode::create(default_config(2), &disk, &error);
  ASSERT_TRUE(node) << error;
  Message snap = msg(MessageType::kSnapshot, 1, 2, 2);
  snap.snapshot = Snapshot{SnapshotMeta{3, 2, ConfState{{1, 2, 3}, {}, {}}}, encode_app({})};
  ASSERT_TRUE(node->step(snap));
  Ready rd = node->ready();
  ASSERT_TRUE(rd.snapshot.has_value());
  EXPECT_EQ(rd.snapshot->meta.index, 3u);
  EXPECT_TRUE(rd.must_sync);
  ASSERT_TRUE(disk.apply_snapshot(*rd.snapshot));
  node->advance(rd);
  const Status s = node->status();
  EXPECT_EQ(s.last_index, 3u) << "entry 4 of the conflicting log is gone";
  EXPECT_EQ(s.commit, 3u);
  EXPECT_EQ(s.applied, 3u);
  EXPECT_EQ(s.first_index, 4u);
  ASSERT_EQ(rd.persisted_messages.size(), 1u);
  EXPECT_EQ(rd.persisted_messages[0].type, MessageType::kAppendResponse);
  EXPECT_EQ(rd.persisted_messages[0].index, 3u);
}

TEST(Snapshot, StaleSnapshotIsIgnored) {
  Net net = elected(3);
  for (const auto& d : numbered("x", 5)) net.propose(1, d);
  net.deliver_all();
  const Index commit = net.status(2).commit;
  Message snap = msg(MessageType::kSnapshot, 1, 2, 1);
  snap.snapshot = Snapshot{SnapshotMeta{2, 1, ConfState{{1, 2, 3}, {}, {}}}, encode_app({})};
  net.clear_queue();
  net.node(2).step(snap);
  Ready rd = net.node(2).ready();
  EXPECT_FALSE(rd.snapshot.has_value());
  ASSERT_EQ(rd.persisted_messages.size(), 1u);
  EXPECT_EQ(rd.persisted_messages[0].index, commit);
  net.node(2).advance(rd);
  EXPECT_EQ(net.status(2).last_index, net.status(1).last_index);
}

TEST(Snapshot, SnapshotWhileAppendsAreInFlightRecovers) {
  Net net = elected(3);
  for (const auto& d : numbered("a", 5)) net.propose(1, d);
  // Hold back the appends in flight to 3.
  std::vector<Message> held;
  std::deque<Message> rest;
  for (Message& m : net.queue()) {
    if (m.to == 3) {
      held.push_back(m);
    } else {
      rest.push_back(m);
    }
  }
  net.queue() = rest;
  ASSERT_FALSE(held.empty());
  net.cut_one_way(1, 3);
  net.deliver_all();
  for (const auto& d : numbered("b", 5)) net.propose(1, d);
  net.deliver_all();
  net.compact(1, net.status(1).applied);
  net.heal();
  net.tick_all(3);  // 3 rejects, the leader finds the log compacted: snapshot
  EXPECT_GE(net.storage(3).snapshot().meta.index, 10u);
  // The old appends arrive late, after the snapshot.
  net.send(held);
  net.deliver_all();
  net.tick_all(2);
  std::vector<std::string> all = numbered("a", 5);
  for (const auto& d : numbered("b", 5)) all.push_back(d);
  EXPECT_EQ(net.app(3).data(), all);
  EXPECT_EQ(net.status(3).last_index, net.status(1).last_index);
  net.propose(1, "later");
  net.deliver_all();
  EXPECT_EQ(net.app(3).data().back(), "later");
}

TEST(Snapshot, FailedSnapshotIsRetried) {
  Net net = elected(3);
  net.isolate(3);
  for (const auto& d : numbered("f", 5)) net.propose(1, d);
  net.deliver_all();
  net.compact(1, net.status(1).applied);
  net.heal();
  net.drop(MessageType::kSnapshot);
  net.tick_all(2);
  auto progress_of_3 = [&] {
    for (const PeerProgress& p : net.status(1).progress) {
      if (p.id == 3) return p;
    }
    return PeerProgress{};
  };
  EXPECT_EQ(progress_of_3().state, "snapshot");
  net.node(1).report_snapshot(3, false);
  EXPECT_EQ(progress_of_3().state, "probe");
  net.allow(MessageType::kSnapshot);
  net.tick_all(3);
  EXPECT_EQ(net.app(3).data(), numbered("f", 5));
}

TEST(Snapshot, NodeRestartsFromACompactedStorage) {
  Net net = elected(3);
  net.add_empty(4);
  net.propose_conf(1, ConfChangeType::kAddLearner, 4);
  net.tick_all(3);
  for (const auto& d : numbered("r", 5)) net.propose(1, d);
  net.deliver_all();
  const Index applied = net.status(2).applied;
  net.compact(2, applied);
  net.crash(2);
  net.restart(2);
  const Status s = net.status(2);
  EXPECT_EQ(s.first_index, applied + 1);
  EXPECT_GE(s.commit, applied);
  EXPECT_EQ(s.conf.learners, std::vector<NodeId>{4});
  net.tick_all(3);
  net.propose(1, "post");
  net.deliver_all();
  EXPECT_EQ(net.app(2).data().back(), "post");
}

TEST(Snapshot, NewMemberCatchesUpFromASnapshotWithTheConfiguration) {
  Net net = elected(3);
  for (const auto& d : numbered("n", 5)) net.propose(1, d);
  net.deliver_all();
  net.add_empty(4);
  net.propose_conf(1, ConfChangeType::kAddLearner, 4);
  net.isolate(4);
  net.tick_all(2);
  net.compact(1, net.status(1).applied);
  net.heal();
  net.tick_all(3);
  EXPECT_EQ(net.app(4).data(), numbered("n", 5));
  EXPECT_EQ(net.status(4).conf.learners, std::vector<NodeId>{4});
  EXPECT_EQ(net.status(4).role, Role::kLearner);
}

}  // namespace
}  // namespace raftmeta::raft::test
