// judge(): every rule, at and around its boundary, with injected times.
#include "sidecar/health/stall_rules.h"

#include <gtest/gtest.h>

namespace raftmeta::health {
namespace {

constexpr std::int64_t kMs = 1'000'000;
// An arbitrary monotonic origin far from zero (0 means "never").
constexpr std::int64_t kT0 = 1'000'000 * kMs;

StallLimits limits() {
  StallLimits l;
  l.loop_stall_ms = 5000;
  l.apply_stall_ms = 10000;
  l.storage_stall_ms = 8000;
  return l;
}

// Started at kT0, everything fresh at kT0, nothing waiting, no write.
ProgressSnapshot healthy() {
  ProgressSnapshot p;
  p.startup_done = true;
  p.startup_done_ns = kT0;
  p.raft_loop_turn_ns = kT0;
  p.raft_loop_turns = 10;
  p.apply_queued_index = 7;
  p.applied_index = 7;
  p.apply_progress_ns = kT0;
  return p;
}

TEST(StallRules, HealthyIsLive) {
  const HealthVerdict v = judge(healthy(), kT0 + 100 * kMs, limits());
  EXPECT_TRUE(v.live());
  EXPECT_EQ(v.summary(), "ok");
  EXPECT_EQ(v.part(Part::kRaftLoop).silent_ms, 100);
  EXPECT_EQ(v.part(Part::kApplyLoop).silent_ms, -1);  // nothing waiting
  EXPECT_EQ(v.part(Part::kStorage).silent_ms, -1);    // no write
}

TEST(StallRules, RaftLoopNotStalledOneMsBeforeLimit) {
  const HealthVerdict v = judge(healthy(), kT0 + 4999 * kMs, limits());
  EXPECT_FALSE(v.part(Part::kRaftLoop).stalled);
  EXPECT_TRUE(v.live());
}

TEST(StallRules, RaftLoopStalledAtAndAfterLimit) {
  const HealthVerdict at = judge(healthy(), kT0 + 5000 * kMs, limits());
  EXPECT_TRUE(at.part(Part::kRaftLoop).stalled);
  EXPECT_FALSE(at.live());
  const HealthVerdict after = judge(healthy(), kT0 + 7250 * kMs, limits());
  EXPECT_TRUE(after.part(Part::kRaftLoop).stalled);
  EXPECT_EQ(after.part(Part::kRaftLoop).silent_ms, 7250);
  EXPECT_EQ(after.part(Part::kRaftLoop).limit_ms, 5000);
  EXPECT_EQ(after.summary(), "raft_loop stalled for 7250 ms (limit 5000 ms)");
}

TEST(StallRules, StorageWriteInProgressExtendsTheLoopLimit) {
  ProgressSnapshot p = healthy();
  p.storage_write_started_ns = kT0;  // the loop waits on this write
  const HealthVerdict mid = judge(p, kT0 + 7999 * kMs, limits());
  EXPECT_FALSE(mid.part(Part::kRaftLoop).stalled);
  EXPECT_EQ(mid.part(Part::kRaftLoop).limit_ms, 8000);
  EXPECT_FALSE(mid.part(Part::kStorage).stalled);
  EXPECT_TRUE(mid.live());
  // Without the write, the same silence is a loop stall.
  p.storage_write_started_ns = 0;
  EXPECT_TRUE(judge(p, kT0 + 7999 * kMs, limits()).part(Part::kRaftLoop).stalled);
}

TEST(StallRules, LoopLimitIsNeverShortenedByAShorterStorageLimit) {
  StallLimits l = limits();
  l.storage_stall_ms = 1000;
  ProgressSnapshot p = healthy();
  p.storage_write_started_ns = kT0 + 4000 * kMs;
  const HealthVerdict v = judge(p, kT0 + 4500 * kMs, l);
  EXPECT_FALSE(v.part(Part::kRaftLoop).stalled);
  EXPECT_EQ(v.part(Part::kRaftLoop).limit_ms, 5000);
}

TEST(StallRules, StorageStalledAtLimitNotBefore) {
  ProgressSnapshot p = healthy();
  p.storage_write_started_ns = kT0 + 1000 * kMs;
  p.raft_loop_turn_ns = kT0 + 8999 * kMs;  // loop keeps turning (async writer)
  const HealthVerdict before = judge(p, kT0 + 8999 * kMs, limits());
  EXPECT_FALSE(before.part(Part::kStorage).stalled);
  EXPECT_EQ(before.part(Part::kStorage).silent_ms, 7999);
  const HealthVerdict at = judge(p, kT0 + 9000 * kMs, limits());
  EXPECT_TRUE(at.part(Part::kStorage).stalled);
  EXPECT_FALSE(at.part(Part::kRaftLoop).stalled);
  EXPECT_FALSE(at.live());
}

TEST(StallRules, ApplyNotJudgedWhileNothingWaits) {
  ProgressSnapshot p = healthy();
  p.raft_loop_turn_ns = kT0 + 99'000 * kMs;
  // Apply idle for 99 s with nothing queued: fine.
  const HealthVerdict v = judge(p, kT0 + 99'000 * kMs, limits());
  EXPECT_FALSE(v.part(Part::kApplyLoop).stalled);
  EXPECT_TRUE(v.live());
}

TEST(StallRules, ApplyStalledWhenEntriesWaitWithoutProgress) {
  ProgressSnapshot p = healthy();
  p.apply_queued_index = 9;  // 8 and 9 waiting
  p.apply_wait_started_ns = kT0;
  auto at = [&](std::int64_t ms) {
    p.raft_loop_turn_ns = kT0 + ms * kMs;  // the Raft loop is fine
    return judge(p, kT0 + ms * kMs, limits());
  };
  EXPECT_FALSE(at(9999).part(Part::kApplyLoop).stalled);
  const HealthVerdict v = at(10'000);
  EXPECT_TRUE(v.part(Part::kApplyLoop).stalled);
  EXPECT_EQ(v.part(Part::kApplyLoop).silent_ms, 10'000);
  EXPECT_EQ(v.summary(), "apply_loop stalled for 10000 ms (limit 10000 ms)");
}

TEST(StallRules, ApplyProgressRestartsTheClock) {
  ProgressSnapshot p = healthy();
  p.apply_queued_index = 20;
  p.applied_index = 15;  // moving, but behind
  p.apply_wait_started_ns = kT0;
  p.apply_progress_ns = kT0 + 6000 * kMs;
  p.raft_loop_turn_ns = kT0 + 12'000 * kMs;
  EXPECT_FALSE(judge(p, kT0 + 12'000 * kMs, limits()).part(Part::kApplyLoop).stalled);
  EXPECT_TRUE(judge(p, kT0 + 16'000 * kMs, limits()).part(Part::kApplyLoop).stalled);
}

TEST(StallRules, ApplyIdleLongAgoIsNotStalledWhenWorkJustArrived) {
  ProgressSnapshot p = healthy();  // last apply progress at kT0
  p.apply_queued_index = 8;
  p.apply_wait_started_ns = kT0 + 60'000 * kMs;  // work arrived a minute later
  p.raft_loop_turn_ns = kT0 + 60'100 * kMs;
  EXPECT_FALSE(judge(p, kT0 + 60'100 * kMs, limits()).part(Part::kApplyLoop).stalled);
  EXPECT_TRUE(judge(p, kT0 + 70'000 * kMs, limits()).part(Part::kApplyLoop).stalled);
}

TEST(StallRules, StartupReplayNeverFailsLiveness) {
  ProgressSnapshot p;  // nothing stamped yet: replay running
  p.storage_write_started_ns = kT0;
  p.apply_queued_index = 100;
  p.apply_wait_started_ns = kT0;
  const HealthVerdict v = judge(p, kT0 + 3'600'000 * kMs, limits());
  EXPECT_TRUE(v.live());
  EXPECT_FALSE(v.startup_done);
  EXPECT_EQ(v.summary(), "starting");
  // The same stamps after start-up count.
  p.startup_done = true;
  EXPECT_FALSE(judge(p, kT0 + 3'600'000 * kMs, limits()).live());
}

TEST(StallRules, SilenceIsMeasuredFromStartupDoneAtTheEarliest) {
  ProgressSnapshot p = healthy();
  p.raft_loop_turn_ns = kT0;  // last turn before a long replay finished
  p.startup_done_ns = kT0 + 30'000 * kMs;
  EXPECT_FALSE(judge(p, kT0 + 34'999 * kMs, limits()).part(Part::kRaftLoop).stalled);
  EXPECT_TRUE(judge(p, kT0 + 35'000 * kMs, limits()).part(Part::kRaftLoop).stalled);
}

TEST(StallRules, NeverStampedWithoutStartupTimeIsNotJudged) {
  ProgressSnapshot p;
  p.startup_done = true;  // startup_done_ns not set by the caller
  const HealthVerdict v = judge(p, kT0, limits());
  EXPECT_TRUE(v.live());
  EXPECT_EQ(v.part(Part::kRaftLoop).silent_ms, -1);
}

TEST(StallRules, JsonNamesEveryStalledPart) {
  ProgressSnapshot p = healthy();
  p.apply_queued_index = 9;
  p.apply_wait_started_ns = kT0;
  p.storage_write_started_ns = kT0;
  const HealthVerdict v = judge(p, kT0 + 12'000 * kMs, limits());
  const nlohmann::json j = v.to_json();
  EXPECT_EQ(j["live"], false);
  // Raft loop: 12 s silent against the extended limit max(5, 8) = 8 s.
  ASSERT_EQ(j["stalled"].size(), 3u);
  EXPECT_EQ(j["stalled"][1]["part"], "apply_loop");
  EXPECT_EQ(j["stalled"][1]["stalled_for_ms"], 12'000);
  EXPECT_TRUE(v.part(Part::kRaftLoop).stalled);
  EXPECT_EQ(j["parts"]["raft_loop"]["stalled"], true);
  EXPECT_EQ(j["parts"]["apply_loop"]["silent_ms"], 12'000);
  EXPECT_EQ(j["parts"]["storage"]["limit_ms"], 8000);
}

TEST(StallRules, SnapshotCopiesTheStamps) {
  ProgressStamps s;
  s.note_raft_turn(kT0);
  s.note_apply_queued(5, kT0 + kMs);
  s.note_applied(3, kT0 + 2 * kMs);
  s.begin_storage_write(kT0 + 3 * kMs);
  s.mark_startup_done(kT0 + 4 * kMs);
  const ProgressSnapshot p = snapshot(s);
  EXPECT_EQ(p.raft_loop_turn_ns, kT0);
  EXPECT_EQ(p.raft_loop_turns, 1u);
  EXPECT_EQ(p.apply_queued_index, 5u);
  EXPECT_EQ(p.apply_wait_started_ns, kT0 + kMs);
  EXPECT_EQ(p.applied_index, 3u);
  EXPECT_EQ(p.apply_progress_ns, kT0 + 2 * kMs);
  EXPECT_EQ(p.storage_write_started_ns, kT0 + 3 * kMs);
  EXPECT_TRUE(p.startup_done);
  EXPECT_EQ(p.startup_done_ns, kT0 + 4 * kMs);
  s.end_storage_write();
  EXPECT_EQ(snapshot(s).storage_write_started_ns, 0);
  EXPECT_EQ(snapshot(s).storage_writes, 1u);
}

TEST(StallRules, WaitStartsOnlyWhenTheApplyLoopHadCaughtUp) {
  ProgressStamps s;
  s.note_apply_queued(5, kT0);  // applied 0 == queued 0: a wait begins
  EXPECT_EQ(s.apply_wait_started_ns.load(), kT0);
  s.note_apply_queued(8, kT0 + kMs);  // still behind: same wait
  EXPECT_EQ(s.apply_wait_started_ns.load(), kT0);
  s.note_applied(8, kT0 + 2 * kMs);
  s.note_apply_queued(9, kT0 + 3 * kMs);  // caught up, so a new wait
  EXPECT_EQ(s.apply_wait_started_ns.load(), kT0 + 3 * kMs);
  s.note_apply_queued(9, kT0 + 4 * kMs);  // not higher: ignored
  EXPECT_EQ(s.apply_wait_started_ns.load(), kT0 + 3 * kMs);
}

}  // namespace
}  // namespace raftmeta::health
