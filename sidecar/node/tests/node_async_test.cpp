// The asynchronous request API (Node::propose_async, read_barrier_async) and
// what it rests on (DeadlineTimer, PendingAnswer): every callback runs
// exactly once, on the thread node.h names, by its deadline, and after
// shutdown at once; many requests are in flight without a thread each.
#include <gtest/gtest.h>
#include <pthread.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "sidecar/node/completion.h"
#include "sidecar/node/deadline_timer.h"
#include "sidecar/node/tests/test_cluster.h"

namespace raftmeta::node::testing {
namespace {

using std::chrono::milliseconds;

std::string thread_name() {
  char name[16] = {};
  pthread_getname_np(pthread_self(), name, sizeof(name));
  return name;
}

// Records how often and on which thread a callback ran, and what it got.
// Shared with the callback: a late callback (or the notify after the value)
// may still run when the test has moved on.
template <typename T>
struct Recorded : std::enable_shared_from_this<Recorded<T>> {
  std::mutex mu;
  int calls = 0;
  std::string thread;
  std::optional<T> value;
  Completion<bool> first;

  static std::shared_ptr<Recorded> make() { return std::make_shared<Recorded>(); }
  std::function<void(T)> callback() {
    return [self = this->shared_from_this()](T v) {
      {
        std::lock_guard<std::mutex> lock(self->mu);
        ++self->calls;
        self->thread = thread_name();
        self->value = std::move(v);
      }
      self->first.complete(true);
    };
  }
  bool wait(std::chrono::milliseconds bound) { return first.wait_until(after(bound)).has_value(); }
  int count() {
    std::lock_guard<std::mutex> lock(mu);
    return calls;
  }
};

class CountingEntry final : public DeadlineTimer::Entry {
 public:
  void expire() override {
    thread = thread_name();
    ++count;
    expired.complete(true);  // last: the test reads the fields after it
  }
  std::atomic<int> count{0};
  std::string thread;
  Completion<bool> expired;
};

TEST(DeadlineTimer, EntryExpiresOnTheTimerThreadAfterItsDeadline) {
  DeadlineTimer timer;
  auto entry = std::make_shared<CountingEntry>();
  const auto deadline = Clock::now() + milliseconds(50);
  ASSERT_TRUE(timer.schedule(entry, deadline));
  ASSERT_TRUE(entry->expired.wait_until(after(kSlack)).has_value());
  EXPECT_GE(Clock::now(), deadline);
  EXPECT_EQ(entry->thread, "deadline-timer");
  EXPECT_EQ(entry->count.load(), 1);
  EXPECT_EQ(timer.size(), 0u);
}

TEST(DeadlineTimer, CancelledEntryNeverExpiresAndExpireAllAnswersTheRest) {
  DeadlineTimer timer;
  auto cancelled = std::make_shared<CountingEntry>();
  auto pending = std::make_shared<CountingEntry>();
  const auto far = Clock::now() + std::chrono::hours(1);
  ASSERT_TRUE(timer.schedule(cancelled, far));
  ASSERT_TRUE(timer.schedule(pending, far));
  timer.cancel(*cancelled);
  EXPECT_EQ(timer.size(), 1u);
  timer.expire_all();
  EXPECT_EQ(cancelled->count.load(), 0);
  EXPECT_EQ(pending->count.load(), 1);
  // After expire_all() nothing is accepted.
  auto late = std::make_shared<CountingEntry>();
  EXPECT_FALSE(timer.schedule(late, far));
  EXPECT_EQ(late->count.load(), 0);
}

TEST(PendingAnswer, DeliverAndExpireRacingRunTheCallbackExactlyOnce) {
  DeadlineTimer timer;
  constexpr int kAnswers = 2000;
  std::atomic<int> calls{0};
  std::vector<std::shared_ptr<PendingAnswer<int>>> answers;
  for (int i = 0; i < kAnswers; ++i) {
    auto a =
        std::make_shared<PendingAnswer<int>>([&calls](int) { ++calls; }, [] { return -1; }, &timer);
    ASSERT_TRUE(timer.schedule(a, Clock::now() + std::chrono::hours(1)));
    answers.push_back(a);
  }
  // Two threads deliver every answer while the timer expires them all.
  std::thread first([&] {
    for (auto& a : answers) a->deliver(1);
  });
  std::thread second([&] {
    for (auto it = answers.rbegin(); it != answers.rend(); ++it) (*it)->deliver(2);
  });
  timer.expire_all();
  first.join();
  second.join();
  EXPECT_EQ(calls.load(), kAnswers);
  EXPECT_EQ(timer.size(), 0u);
}

TEST(NodeAsync, ProposeAsyncOnTheLeaderIsAnsweredByTheApplyLoop) {
  TestCluster c(3);
  c.start_all();
  const raft::NodeId leader = c.wait_for_leader();
  ASSERT_NE(leader, raft::kNoNode);
  ASSERT_TRUE(c.write(leader, "set warm 1").status.ok());  // leader settled
  auto r = Recorded<ProposeReply>::make();
  c.node(leader).propose_async("set a 1", after(kSlack), r->callback());
  ASSERT_TRUE(r->wait(kSlack + kSlack));
  ASSERT_TRUE(r->value->status.ok()) << r->value->status.message;
  EXPECT_EQ(r->value->outcome.response, "ok " + std::to_string(r->value->index));
  EXPECT_EQ(r->thread, "apply-loop");
  EXPECT_EQ(r->count(), 1);
  EXPECT_EQ(c.kv(leader).current()->data.at("a"), "1");
}

TEST(NodeAsync, ProposeAsyncOnAFollowerIsForwardedAndAnswered) {
  TestCluster c(3);
  c.start_all();
  const raft::NodeId leader = c.wait_for_leader();
  ASSERT_NE(leader, raft::kNoNode);
  const raft::NodeId follower = leader == 1 ? 2 : 1;
  ProposeReply reply;
  const Deadline until = after(kElectionBound);
  do {
    auto r = Recorded<ProposeReply>::make();
    c.node(follower).propose_async("set f 2", after(kSlack), r->callback());
    ASSERT_TRUE(r->wait(kSlack + kSlack));
    reply = *r->value;
  } while (!reply.status.ok() && Clock::now() < until);
  ASSERT_TRUE(reply.status.ok()) << reply.status.message;
  ASSERT_TRUE(c.wait_applied(follower, reply.index));
  EXPECT_EQ(c.kv(follower).current()->data.at("f"), "2");
}

TEST(NodeAsync, ManyRequestsInFlightFromOneThreadAreAllAnswered) {
  TestCluster c(3);
  c.start_all();
  const raft::NodeId leader = c.wait_for_leader();
  ASSERT_NE(leader, raft::kNoNode);
  ASSERT_TRUE(c.write(leader, "set warm 1").status.ok());
  // More requests than any worker pool had threads, issued without waiting.
  constexpr int kRequests = 500;
  std::atomic<int> answered{0};
  std::atomic<int> ok{0};
  auto all = std::make_shared<Completion<bool>>();
  for (int i = 0; i < kRequests; ++i) {
    c.node(leader).propose_async("set k" + std::to_string(i) + " v", after(kSlack + kSlack),
                                 [&ok, &answered, all](ProposeReply reply) {
                                   if (reply.status.ok()) ++ok;
                                   if (++answered == kRequests) all->complete(true);
                                 });
  }
  ASSERT_TRUE(all->wait_until(after(kSlack * 4)).has_value());
  EXPECT_EQ(answered.load(), kRequests);
  EXPECT_EQ(ok.load(), kRequests);
  EXPECT_EQ(c.kv(leader).current()->data.at("k499"), "v");
}

TEST(NodeAsync, ReadBarrierAsyncAtEveryLevel) {
  TestCluster c(3);
  c.start_all();
  const raft::NodeId leader = c.wait_for_leader();
  ASSERT_NE(leader, raft::kNoNode);
  const raft::NodeId follower = leader == 1 ? 2 : 1;
  ProposeReply w = c.write(leader, "set x 42");
  ASSERT_TRUE(w.status.ok());

  // Linearizable on a follower: the write is visible once it answers.
  ReadBarrierReply lin;
  const Deadline until = after(kElectionBound);
  do {
    auto r = Recorded<ReadBarrierReply>::make();
    c.node(follower).read_barrier_async(Consistency::kLinearizable, after(kSlack), r->callback());
    ASSERT_TRUE(r->wait(kSlack + kSlack));
    lin = *r->value;
  } while (!lin.status.ok() && Clock::now() < until);
  ASSERT_TRUE(lin.status.ok()) << lin.status.message;
  EXPECT_GE(lin.revision, w.index);
  EXPECT_EQ(c.kv(follower).current()->data.at("x"), "42");

  // Stale: answered at once, on the caller's thread.
  auto stale = Recorded<ReadBarrierReply>::make();
  c.node(follower).read_barrier_async(Consistency::kStale, after(kSlack), stale->callback());
  ASSERT_EQ(stale->count(), 1);
  EXPECT_EQ(stale->thread, thread_name());
  EXPECT_TRUE(stale->value->status.ok());

  // Lease on a follower: refused at once with the leader's hint.
  auto refused = Recorded<ReadBarrierReply>::make();
  c.node(follower).read_barrier_async(Consistency::kLease, after(kSlack), refused->callback());
  ASSERT_EQ(refused->count(), 1);
  EXPECT_EQ(refused->value->status.code, kUnavailable);
  EXPECT_EQ(refused->value->status.leader_id, leader);

  // Lease on the leader, once a heartbeat round was acknowledged.
  ReadBarrierReply lease;
  const Deadline lease_until = after(kElectionBound);
  do {
    auto r = Recorded<ReadBarrierReply>::make();
    c.node(leader).read_barrier_async(Consistency::kLease, after(kSlack), r->callback());
    ASSERT_TRUE(r->wait(kSlack + kSlack));
    lease = *r->value;
    if (!lease.status.ok()) std::this_thread::sleep_for(milliseconds(10));
  } while (!lease.status.ok() && Clock::now() < lease_until);
  ASSERT_TRUE(lease.status.ok()) << lease.status.message;
  EXPECT_GE(lease.revision, w.index);
}

// A write that commits but is never applied in time (the leader's apply loop
// is blocked) is answered DEADLINE_EXCEEDED by the deadline timer; when the
// apply loop resumes, its late answer is dropped (exactly once).
TEST(NodeAsync, DeadlineWinsWhileTheApplyLoopIsBlockedAndTheLateAnswerIsDropped) {
  TestCluster c(3);
  c.start_all();
  const raft::NodeId leader = c.wait_for_leader();
  ASSERT_NE(leader, raft::kNoNode);
  ASSERT_TRUE(c.write(leader, "set warm 1").status.ok());
  ASSERT_EQ(c.failpoints(leader).set(health::kFailpointApplyLoop, "block"), "");
  auto r = Recorded<ProposeReply>::make();
  const Deadline deadline = after(milliseconds(300));
  c.node(leader).propose_async("set late 1", deadline, r->callback());
  ASSERT_TRUE(r->wait(kSlack + kSlack));
  EXPECT_GE(Clock::now(), deadline);
  EXPECT_EQ(r->value->status.code, kDeadlineExceeded) << r->value->status.message;
  EXPECT_EQ(r->thread, "deadline-timer");
  ASSERT_EQ(c.failpoints(leader).set(health::kFailpointApplyLoop, "off"), "");
  // The entry is applied eventually (on every member); the callback stays
  // at one call.
  ProposeReply after_it = c.write(leader, "set after 1");
  ASSERT_TRUE(after_it.status.ok()) << after_it.status.message;
  EXPECT_EQ(r->count(), 1);
}

TEST(NodeAsync, AfterShutdownRequestsAreRefusedAtOnce) {
  TestCluster c(1);
  c.start_all();
  ASSERT_NE(c.wait_for_leader(), raft::kNoNode);
  Node& node = c.node(1);
  ASSERT_TRUE(node.shutdown(after(kSlack)));
  auto p = Recorded<ProposeReply>::make();
  node.propose_async("set a 1", after(kSlack), p->callback());
  ASSERT_EQ(p->count(), 1);
  EXPECT_EQ(p->value->status.code, kUnavailable);
  auto r = Recorded<ReadBarrierReply>::make();
  node.read_barrier_async(Consistency::kLinearizable, after(kSlack), r->callback());
  ASSERT_EQ(r->count(), 1);
  EXPECT_EQ(r->value->status.code, kUnavailable);
}

}  // namespace
}  // namespace raftmeta::node::testing
