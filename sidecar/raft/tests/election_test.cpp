// Leader election (Raft §5.2), PreVote and CheckQuorum, as transcripts.
#include <gtest/gtest.h>

#include "sidecar/raft/tests/scenario_net.h"

namespace raftmeta::raft::test {
namespace {

constexpr int kElection = 10;  // default_config().election_tick

TEST(Election, CandidateWithMajorityBecomesLeaderAndAllAgreeOnTerm) {
  Net net(3);
  net.campaign(1);
  net.deliver_all();
  EXPECT_EQ(net.leader(), 1u);
  const Term term = net.status(1).term;
  EXPECT_EQ(term, 1u);
  for (NodeId id : {2u, 3u}) {
    EXPECT_EQ(net.status(id).term, term);
    EXPECT_EQ(net.status(id).leader, 1u);
    EXPECT_EQ(net.status(id).role, Role::kFollower);
  }
}

TEST(Election, CandidateWithoutMajorityDoesNotWinAndPreVoteKeepsTerm) {
  Net net(3);
  net.isolate(1);
  net.campaign(1);
  net.deliver_all();
  EXPECT_EQ(net.status(1).role, Role::kPreCandidate);
  EXPECT_EQ(net.status(1).term, 0u);  // pre-vote does not bump the term
  EXPECT_EQ(net.leader(), kNoNode);
}

TEST(Election, WithoutPreVoteALosingCandidateBumpsItsTerm) {
  Net net(3, [](Config& c) { c.pre_vote = false; });
  net.isolate(1);
  net.campaign(1);
  net.deliver_all();
  EXPECT_EQ(net.status(1).role, Role::kCandidate);
  EXPECT_EQ(net.status(1).term, 1u);
}

TEST(Election, AtMostOneLeaderPerTermWhenTwoCampaignAtOnce) {
  Net net(5, [](Config& c) { c.pre_vote = false; });
  net.node(1).campaign();
  net.node(2).campaign();
  net.deliver_all();
  for (Term t = 1; t <= 3; ++t) EXPECT_LE(net.leaders_in_term(t), 1u) << "term " << t;
  net.tick_all(4 * kElection);
  EXPECT_NE(net.leader(), kNoNode);
  for (Term t = 1; t <= net.status(net.leader()).term; ++t) EXPECT_LE(net.leaders_in_term(t), 1u);
}

TEST(Election, FollowerTimesOutAndANewLeaderIsElectedAfterLeaderCrash) {
  Net net(3);
  net.campaign(1);
  net.deliver_all();
  net.crash(1);
  net.tick_all(3 * kElection);
  const NodeId leader = net.leader();
  EXPECT_TRUE(leader == 2 || leader == 3) << leader;
  EXPECT_GT(net.status(leader).term, 1u);
}

TEST(Election, RandomizedTimeoutIsSeededWithinOneToTwoElectionTimeouts) {
  auto ticks_until_campaign = [](std::uint64_t seed, NodeId id) {
    Net net(3, [seed](Config& c) { c.seed = seed; });
    net.isolate(id);
    for (int t = 1; t <= 3 * kElection; ++t) {
      net.tick(id);
      if (net.status(id).role == Role::kPreCandidate) return t;
    }
    return -1;
  };
  std::set<int> seen;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    const int t = ticks_until_campaign(seed, 1);
    EXPECT_GE(t, kElection);
    EXPECT_LT(t, 2 * kElection);
    EXPECT_EQ(t, ticks_until_campaign(seed, 1)) << "same seed, same timeout";
    seen.insert(t);
  }
  EXPECT_GT(seen.size(), 3u) << "timeouts are randomized";
}

TEST(Election, VoteForShorterLogWithHigherTermIsRefusedAndTermAdopted) {
  Net net(3);
  net.campaign(1);
  net.deliver_all();
  net.propose(1, "a");
  net.propose(1, "b");
  net.deliver_all();
  // Node 2 has not heard from a leader for an election timeout.
  net.isolate(2);
  net.tick(2, kElection);
  Message vote;
  vote.type = MessageType::kVote;
  vote.from = 3;
  vote.to = 2;
  vote.term = 100;
  vote.index = 1;  // shorter log
  vote.log_term = 1;
  net.clear_queue();
  net.heal();
  EXPECT_TRUE(net.node(2).step(vote));
  net.process(2);
  EXPECT_EQ(net.status(2).term, 100u);  // adopts the term
  EXPECT_NE(net.status(2).vote, 3u);
  bool rejected = false;
  for (const Message& m : net.queue()) {
    if (m.type == MessageType::kVoteResponse && m.from == 2 && m.to == 3) rejected = m.reject;
  }
  EXPECT_TRUE(rejected);
}

TEST(Election, VoterGrantsOnlyOneVotePerTerm) {
  Net net(3, [](Config& c) { c.pre_vote = false; });
  Message vote = msg(MessageType::kVote, 2, 1, 5);
  ASSERT_TRUE(net.node(1).step(vote));
  vote.from = 3;
  ASSERT_TRUE(net.node(1).step(vote));
  net.process(1);
  int granted = 0;
  for (const Message& m : net.queue()) {
    if (m.type == MessageType::kVoteResponse && !m.reject) ++granted;
  }
  EXPECT_EQ(granted, 1);
  EXPECT_EQ(net.status(1).vote, 2u);
}

TEST(Election, CheckQuorumLeaderStepsDownWithoutQuorumWithinElectionTimeout) {
  Net net(3);
  net.campaign(1);
  net.deliver_all();
  net.isolate(1);
  // Activity is checked once per election timeout: the window in which the
  // isolation started still counts, the next one does not.
  net.tick(1, kElection);
  net.tick(1, kElection);
  EXPECT_EQ(net.status(1).role, Role::kFollower);
  EXPECT_EQ(net.status(1).leader, kNoNode);
}

TEST(Election, FollowersIgnoreCampaignsWhileTheyHearFromALeader) {
  Net net(3, [](Config& c) { c.pre_vote = false; });
  net.campaign(1);
  net.deliver_all();
  Message vote = msg(MessageType::kVote, 3, 2, 7);
  vote.index = net.status(3).last_index;
  vote.log_term = 1;
  EXPECT_FALSE(net.node(2).step(vote));
  EXPECT_EQ(net.status(2).term, 1u);
  EXPECT_EQ(net.status(2).leader, 1u);
}

TEST(Election, RejoiningPartitionedNodeDoesNotDisruptHealthyLeader) {
  Net net(3);
  net.campaign(1);
  net.deliver_all();
  net.isolate(3);
  for (int i = 0; i < 5 * kElection; ++i) net.tick(3);
  EXPECT_EQ(net.status(3).term, 1u);  // pre-votes failed, no term inflation
  net.tick_all(2 * kElection);        // leader keeps working with node 2
  net.heal();
  net.tick_all(3 * kElection);
  EXPECT_EQ(net.leader(), 1u);
  EXPECT_EQ(net.status(1).term, 1u);
  EXPECT_EQ(net.status(3).leader, 1u);
}

// Leader 1 cannot talk to 2 (both ways); 3 talks to both. PreVote + CheckQuorum
// keep leader 1 in office (3 still hears from it) and the cluster commits.
TEST(Election, PartialPartitionStaysLiveWithPreVoteAndCheckQuorum) {
  Net net(3);
  net.campaign(1);
  net.deliver_all();
  net.cut(1, 2);
  net.tick_all(5 * kElection);
  const NodeId leader = net.leader();
  ASSERT_NE(leader, kNoNode);
  EXPECT_EQ(net.status(leader).term, net.status(3).term);
  const auto r = net.propose(leader, "live");
  ASSERT_EQ(r.status, ProposeStatus::kOk);
  net.tick_all(2);
  EXPECT_GE(net.status(leader).commit, r.index);
  EXPECT_LE(net.status(leader).term, 3u) << "no election storm";
}

// Leader 1's messages to 2 are lost, 2's messages to 1 arrive.
TEST(Election, OneWayPartitionFromLeaderToFollowerStaysLive) {
  Net net(3);
  net.campaign(1);
  net.deliver_all();
  net.cut_one_way(1, 2);
  net.tick_all(5 * kElection);
  EXPECT_EQ(net.leader(), 1u);
  EXPECT_EQ(net.status(1).term, 1u);
  const auto r = net.propose(1, "x");
  net.tick_all(2);
  EXPECT_GE(net.status(1).commit, r.index);
}

// The leader can send but hears nothing back: CheckQuorum makes it step down
// and the others elect a leader that can commit.
TEST(Election, LeaderThatHearsNoOneStepsDownAndOthersElectANewOne) {
  Net net(3);
  net.campaign(1);
  net.deliver_all();
  net.cut_one_way(2, 1);
  net.cut_one_way(3, 1);
  net.tick_all(6 * kElection);
  const NodeId leader = net.leader();
  ASSERT_TRUE(leader == 2 || leader == 3) << leader;
  const auto r = net.propose(leader, "after");
  ASSERT_EQ(r.status, ProposeStatus::kOk);
  net.tick_all(2);
  EXPECT_GE(net.status(leader).commit, r.index);
}

TEST(Election, LearnerNeverCampaigns) {
  Net net({1, 2}, {3});
  net.isolate(3);
  net.tick(3, 5 * kElection);
  EXPECT_EQ(net.status(3).role, Role::kLearner);
  EXPECT_EQ(net.status(3).term, 0u);
}

TEST(Election, SingleVoterElectsItselfAndCommitsAfterPersisting) {
  Net net(1);
  net.campaign(1);
  net.deliver_all();
  EXPECT_EQ(net.leader(), 1u);
  const auto r = net.propose(1, "solo");
  ASSERT_EQ(r.status, ProposeStatus::kOk);
  EXPECT_EQ(net.status(1).commit, r.index);
  EXPECT_EQ(net.app(1).data(), std::vector<std::string>{"solo"});
}

}  // namespace
}  // namespace raftmeta::raft::test
