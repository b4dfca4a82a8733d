// Failpoints: action parsing, the registry's enabled/disabled behaviour, and
// the block/sleep/error/panic semantics on real threads.
#include "sidecar/health/failpoints.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>

namespace raftmeta::health {
namespace {

using Kind = FailpointAction::Kind;

// Polls `cond` until true; the bound only guards against a hang.
template <typename Cond>
bool eventually(Cond cond) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

FailpointState state_of(const FailpointRegistry& r, std::string_view name) {
  for (const FailpointState& s : r.list()) {
    if (s.name == name) return s;
  }
  ADD_FAILURE() << "no failpoint " << name;
  return {};
}

TEST(FailpointAction, ParsesEveryForm) {
  std::string error;
  EXPECT_EQ(FailpointAction::parse("off", &error)->kind, Kind::kOff);
  EXPECT_EQ(FailpointAction::parse("block", &error)->kind, Kind::kBlock);
  EXPECT_EQ(FailpointAction::parse("error", &error)->kind, Kind::kError);
  EXPECT_EQ(FailpointAction::parse("panic", &error)->kind, Kind::kPanic);
  const auto sleep = FailpointAction::parse(" sleep(250)\n", &error);
  ASSERT_TRUE(sleep);
  EXPECT_EQ(sleep->kind, Kind::kSleep);
  EXPECT_EQ(sleep->sleep_ms, 250);
  EXPECT_EQ(FailpointAction::parse("sleep(0)", &error)->sleep_ms, 0);
}

TEST(FailpointAction, RejectsBadTextWithAMessage) {
  for (std::string_view bad : {"", "blok", "Block", "sleep", "sleep()", "sleep(-1)", "sleep(abc)",
                               "sleep(10ms)", "sleep(10", "error!"}) {
    std::string error;
    EXPECT_FALSE(FailpointAction::parse(bad, &error)) << bad;
    EXPECT_NE(error.find("bad failpoint action"), std::string::npos) << bad << ": " << error;
  }
  std::string error;
  FailpointAction::parse("blok", &error);
  EXPECT_NE(error.find("off, block, sleep(<ms>), error or panic"), std::string::npos);
}

TEST(FailpointAction, ToStringRoundTrips) {
  for (std::string_view text : {"off", "block", "sleep(1234)", "error", "panic"}) {
    std::string error;
    const auto a = FailpointAction::parse(text, &error);
    ASSERT_TRUE(a) << error;
    EXPECT_EQ(a->to_string(), text);
  }
}

TEST(FailpointRegistry, KnowsTheDesignPoints) {
  FailpointRegistry r;
  std::vector<std::string> names;
  for (const auto& s : r.list()) names.push_back(s.name);
  EXPECT_EQ(names, (std::vector<std::string>{"apply-loop", "peer-send", "persist", "raft-loop",
                                             "read-path"}));
}

TEST(FailpointRegistry, DisabledRefusesEverything) {
  FailpointRegistry r;  // disabled by default
  EXPECT_FALSE(r.enabled());
  EXPECT_NE(r.set(kFailpointApplyLoop, "error").find("not enabled"), std::string::npos);
  EXPECT_NE(r.apply_spec("apply-loop=error").find("not enabled"), std::string::npos);
  EXPECT_FALSE(r.eval(kFailpointApplyLoop));
  EXPECT_EQ(state_of(r, kFailpointApplyLoop).action.kind, Kind::kOff);
}

TEST(FailpointRegistry, DisabledIgnoresTheEnvironmentVariable) {
  ::setenv("RAFTMETA_FAILPOINTS", "apply-loop=error", 1);
  FailpointRegistry r;
  EXPECT_EQ(r.load_from_environment(), "");
  ::unsetenv("RAFTMETA_FAILPOINTS");
  EXPECT_FALSE(r.eval(kFailpointApplyLoop));
  EXPECT_EQ(state_of(r, kFailpointApplyLoop).action.kind, Kind::kOff);
}

TEST(FailpointRegistry, EnabledLoadsTheEnvironmentVariable) {
  ::setenv("RAFTMETA_FAILPOINTS", " apply-loop=error ; persist=sleep(5);;", 1);
  FailpointRegistry r(true);
  EXPECT_EQ(r.load_from_environment(), "");
  ::unsetenv("RAFTMETA_FAILPOINTS");
  EXPECT_EQ(state_of(r, kFailpointApplyLoop).action.kind, Kind::kError);
  EXPECT_EQ(state_of(r, kFailpointPersist).action, (FailpointAction{Kind::kSleep, 5}));
  EXPECT_TRUE(r.eval(kFailpointApplyLoop));
}

TEST(FailpointRegistry, SpecIsAllOrNothing) {
  FailpointRegistry r(true);
  EXPECT_NE(r.apply_spec("apply-loop=error;persist=bogus").find("persist"), std::string::npos);
  EXPECT_NE(r.apply_spec("apply-loop=error;no-such-point=off").find("unknown failpoint"),
            std::string::npos);
  EXPECT_NE(r.apply_spec("apply-loop").find("expected name=action"), std::string::npos);
  EXPECT_EQ(state_of(r, kFailpointApplyLoop).action.kind, Kind::kOff);
}

TEST(FailpointRegistry, UnknownPointsAreRefusedAndAddedOnesWork) {
  FailpointRegistry r(true);
  EXPECT_NE(r.set("nope", "error").find("unknown failpoint 'nope'"), std::string::npos);
  EXPECT_FALSE(r.eval("nope"));
  r.add("nope");
  EXPECT_EQ(r.set("nope", "error"), "");
  EXPECT_TRUE(r.eval("nope"));
}

TEST(FailpointRegistry, ErrorAndOffAndHits) {
  FailpointRegistry r(true);
  EXPECT_FALSE(r.eval(kFailpointPersist));
  EXPECT_EQ(r.set(kFailpointPersist, "error"), "");
  EXPECT_TRUE(r.eval(kFailpointPersist));
  EXPECT_TRUE(r.eval(kFailpointPersist));
  EXPECT_FALSE(r.eval(kFailpointPeerSend));  // other points unaffected
  EXPECT_EQ(state_of(r, kFailpointPersist).hits, 2u);
  EXPECT_EQ(r.set(kFailpointPersist, "off"), "");
  EXPECT_FALSE(r.eval(kFailpointPersist));
  EXPECT_EQ(state_of(r, kFailpointPersist).hits, 2u);
  EXPECT_NE(r.set(kFailpointPersist, "sleep(x)").find("bad failpoint action"), std::string::npos);
}

TEST(FailpointRegistry, BlockHoldsExactlyTheCallingThread) {
  FailpointRegistry r(true);
  ASSERT_EQ(r.set(kFailpointApplyLoop, "block"), "");
  ASSERT_EQ(r.set(kFailpointRaftLoop, "error"), "");
  std::atomic<bool> returned{false};
  bool result = true;
  std::thread apply([&] {
    result = r.eval(kFailpointApplyLoop);
    returned = true;
  });
  ASSERT_TRUE(eventually([&] { return state_of(r, kFailpointApplyLoop).blocked_threads == 1; }));
  // Other threads evaluate other points, list and set, while it is blocked.
  std::thread other([&] {
    EXPECT_TRUE(r.eval(kFailpointRaftLoop));
    EXPECT_FALSE(r.eval(kFailpointPersist));
  });
  other.join();
  EXPECT_TRUE(r.eval(kFailpointRaftLoop));
  EXPECT_EQ(r.set(kFailpointPeerSend, "sleep(1)"), "");
  EXPECT_FALSE(returned.load());
  // Setting block again does not release it.
  EXPECT_EQ(r.set(kFailpointApplyLoop, "block"), "");
  EXPECT_FALSE(returned.load());
  EXPECT_EQ(state_of(r, kFailpointApplyLoop).blocked_threads, 1);
  EXPECT_EQ(r.set(kFailpointApplyLoop, "off"), "");
  apply.join();
  EXPECT_TRUE(returned.load());
  EXPECT_FALSE(result);
  EXPECT_EQ(state_of(r, kFailpointApplyLoop).blocked_threads, 0);
}

TEST(FailpointRegistry, ReleasedThreadCarriesOutTheNewAction) {
  FailpointRegistry r(true);
  ASSERT_EQ(r.set(kFailpointPersist, "block"), "");
  bool result = false;
  std::thread writer([&] { result = r.eval(kFailpointPersist); });
  ASSERT_TRUE(eventually([&] { return state_of(r, kFailpointPersist).blocked_threads == 1; }));
  EXPECT_EQ(r.set(kFailpointPersist, "error"), "");
  writer.join();
  EXPECT_TRUE(result);
}

TEST(FailpointRegistry, BlockHoldsEveryThreadThatReachesIt) {
  FailpointRegistry r(true);
  ASSERT_EQ(r.set(kFailpointPeerSend, "block"), "");
  std::atomic<int> returned{0};
  std::vector<std::thread> senders;
  for (int i = 0; i < 3; ++i) {
    senders.emplace_back([&] {
      r.eval(kFailpointPeerSend);
      ++returned;
    });
  }
  ASSERT_TRUE(eventually([&] { return state_of(r, kFailpointPeerSend).blocked_threads == 3; }));
  EXPECT_EQ(returned.load(), 0);
  EXPECT_EQ(r.set(kFailpointPeerSend, "off"), "");
  for (auto& t : senders) t.join();
  EXPECT_EQ(returned.load(), 3);
}

TEST(FailpointRegistry, SleepWaitsAtLeastItsDuration) {
  FailpointRegistry r(true);
  ASSERT_EQ(r.set(kFailpointPersist, "sleep(30)"), "");
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(r.eval(kFailpointPersist));
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(30));
  EXPECT_EQ(state_of(r, kFailpointPersist).hits, 1u);
}

TEST(FailpointRegistry, ChangingAPointCutsItsSleepShort) {
  FailpointRegistry r(true);
  ASSERT_EQ(r.set(kFailpointReadPath, "sleep(3600000)"), "");
  std::atomic<bool> returned{false};
  std::thread reader([&] {
    EXPECT_FALSE(r.eval(kFailpointReadPath));
    returned = true;
  });
  ASSERT_TRUE(eventually([&] { return state_of(r, kFailpointReadPath).hits == 1; }));
  EXPECT_EQ(r.set(kFailpointReadPath, "off"), "");
  reader.join();  // would hang for an hour without the wake-up
  EXPECT_TRUE(returned.load());
}

TEST(FailpointRegistryDeathTest, PanicAbortsNamingThePoint) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        spdlog::set_default_logger(spdlog::stderr_color_st("death"));
        FailpointRegistry r(true);
        r.set(kFailpointApplyLoop, "panic");
        r.eval(kFailpointApplyLoop);
      },
      "failpoint apply-loop: panic");
}

}  // namespace
}  // namespace raftmeta::health
