// StallWatchdog: verdict publication and stall counting with injected times,
// and the thread's start/stop.
#include "sidecar/health/stall_watchdog.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace raftmeta::health {
namespace {

constexpr std::int64_t kMs = 1'000'000;
constexpr std::int64_t kT0 = 1'000'000 * kMs;

StallLimits limits() { return {/*loop*/ 1000, /*apply*/ 2000, /*storage*/ 3000}; }

class StallWatchdogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    stamps_.mark_startup_done(kT0);
    stamps_.note_raft_turn(kT0);
  }
  ProgressStamps stamps_;
  NodeMetrics metrics_;
};

TEST_F(StallWatchdogTest, PublishesTheJudgedVerdict) {
  StallWatchdog dog(stamps_, limits(), &metrics_);
  EXPECT_TRUE(dog.verdict().live());  // before any check
  EXPECT_EQ(dog.verdict().judged_at_ns, 0);
  HealthVerdict v = dog.check_once(kT0 + 999 * kMs);
  EXPECT_TRUE(v.live());
  EXPECT_EQ(dog.verdict().judged_at_ns, kT0 + 999 * kMs);
  EXPECT_EQ(dog.verdict().part(Part::kRaftLoop).silent_ms, 999);
  v = dog.check_once(kT0 + 1000 * kMs);
  EXPECT_FALSE(v.live());
  const HealthVerdict published = dog.verdict();
  EXPECT_TRUE(published.part(Part::kRaftLoop).stalled);
  EXPECT_EQ(published.part(Part::kRaftLoop).silent_ms, 1000);
  EXPECT_EQ(published.part(Part::kRaftLoop).limit_ms, 1000);
  EXPECT_TRUE(published.startup_done);
  EXPECT_EQ(published.judged_at_ns, kT0 + 1000 * kMs);
}

TEST_F(StallWatchdogTest, CountsEachStallOnceWhenItBegins) {
  StallWatchdog dog(stamps_, limits(), &metrics_);
  dog.check_once(kT0 + 1500 * kMs);  // stalled
  dog.check_once(kT0 + 1600 * kMs);  // still the same stall
  dog.check_once(kT0 + 1700 * kMs);
  EXPECT_EQ(dog.stalls_detected(Part::kRaftLoop), 1u);
  stamps_.note_raft_turn(kT0 + 1800 * kMs);  // recovers
  EXPECT_TRUE(dog.check_once(kT0 + 1800 * kMs).live());
  dog.check_once(kT0 + 2800 * kMs);  // a second stall
  EXPECT_EQ(dog.stalls_detected(Part::kRaftLoop), 2u);
  EXPECT_EQ(dog.stalls_detected(Part::kApplyLoop), 0u);
  EXPECT_EQ(dog.stalls_detected(Part::kStorage), 0u);
  EXPECT_EQ(metrics_.stalls_detected_total[static_cast<int>(Part::kRaftLoop)].load(), 2u);
}

TEST_F(StallWatchdogTest, CountsPartsIndependently) {
  StallWatchdog dog(stamps_, limits(), nullptr);
  stamps_.note_apply_queued(3, kT0);
  stamps_.begin_storage_write(kT0);
  stamps_.note_raft_turn(kT0 + 3000 * kMs);
  const HealthVerdict v = dog.check_once(kT0 + 3000 * kMs);
  EXPECT_FALSE(v.part(Part::kRaftLoop).stalled);
  EXPECT_TRUE(v.part(Part::kApplyLoop).stalled);
  EXPECT_TRUE(v.part(Part::kStorage).stalled);
  EXPECT_EQ(dog.stalls_detected(Part::kRaftLoop), 0u);
  EXPECT_EQ(dog.stalls_detected(Part::kApplyLoop), 1u);
  EXPECT_EQ(dog.stalls_detected(Part::kStorage), 1u);
}

TEST_F(StallWatchdogTest, ThreadPublishesVerdictsUntilStopped) {
  // Real clock: the stamps are set "now" and the limits are far away, so the
  // only thing asserted is that the thread judges repeatedly and stops.
  ProgressStamps stamps;
  const std::int64_t turn_ns = monotonic_ns();
  stamps.mark_startup_done(turn_ns);
  stamps.note_raft_turn(turn_ns);
  StallWatchdog dog(stamps, {3'600'000, 3'600'000, 3'600'000}, nullptr, /*period_ms=*/5);
  EXPECT_EQ(dog.verdict().judged_at_ns, 0);
  dog.start();
  // Generous bound: only a hang would take this long.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  HealthVerdict seen = dog.verdict();
  int changes = 0;
  while (changes < 3 && std::chrono::steady_clock::now() < deadline) {
    const HealthVerdict v = dog.verdict();
    // Never a torn read: the silence always matches the time it was judged at.
    if (v.judged_at_ns != 0) {
      ASSERT_EQ(v.part(Part::kRaftLoop).silent_ms, (v.judged_at_ns - turn_ns) / kMs);
    }
    if (v.judged_at_ns != seen.judged_at_ns) {
      EXPECT_GT(v.judged_at_ns, seen.judged_at_ns);
      ++changes;
      seen = v;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_GE(changes, 3);
  EXPECT_TRUE(seen.live());
  EXPECT_TRUE(seen.startup_done);
  dog.stop();
  const std::int64_t after_stop = dog.verdict().judged_at_ns;
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(dog.verdict().judged_at_ns, after_stop);
  dog.stop();  // idempotent
}

}  // namespace
}  // namespace raftmeta::health
