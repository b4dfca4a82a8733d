#include "sidecar/node/state/broker_sessions.h"

#include <gtest/gtest.h>

#include "sidecar/node/state/tests/test_commands.h"
#include "sidecar/node/state/validation.h"

namespace raftmeta::state {
namespace {

using namespace testing;  // NOLINT

TEST(BrokerSessionsTest, ExpiredBrokersAreThoseSilentLongerThanTheirTimeout) {
  Harness h;
  h.run(register_broker(1, kT0, "a", 10'000));
  h.run(register_broker(2, kT0, "b", 30'000));
  h.run(register_broker(3, kT0 + 5'000, "c", 10'000));
  const auto state = h.state();
  EXPECT_TRUE(expired_brokers(*state, kT0 + 10'000).empty());
  auto at_10001 = expired_brokers(*state, kT0 + 10'001);
  ASSERT_EQ(at_10001.size(), 1u);
  EXPECT_EQ(at_10001[0].broker_id(), 1);
  EXPECT_EQ(at_10001[0].broker_epoch(), 1u);
  auto at_20000 = expired_brokers(*state, kT0 + 20'000);
  ASSERT_EQ(at_20000.size(), 2u);
  EXPECT_EQ(at_20000[1].broker_id(), 3);
  EXPECT_EQ(expired_brokers(*state, kT0 + 40'000).size(), 3u);
  // A clock behind the heartbeats expires nobody.
  EXPECT_TRUE(expired_brokers(*state, 0).empty());
}

TEST(BrokerSessionsTest, FencedBrokersAreNotProposedAgain) {
  Harness h;
  h.run(register_broker(1, kT0, "a", 10'000));
  auto targets = expired_brokers(*h.state(), kT0 + 20'000);
  ASSERT_EQ(targets.size(), 1u);
  const std::string command = make_fence_command(targets, kT0 + 20'000);
  ASSERT_FALSE(command.empty());
  EXPECT_EQ(h.run_bytes(command).code, kOk);
  EXPECT_TRUE(h.state()->find_broker(1)->fenced());
  EXPECT_TRUE(expired_brokers(*h.state(), kT0 + 99'000).empty());
}

TEST(BrokerSessionsTest, FenceCommandCarriesTheTimeAndTargets) {
  v1::FenceBrokers::Target target;
  target.set_broker_id(4);
  target.set_broker_epoch(9);
  v1::Command command;
  ASSERT_TRUE(command.ParseFromString(make_fence_command({target}, 1234)));
  EXPECT_EQ(command.leader_time_ms(), 1234);
  ASSERT_EQ(command.fence_brokers().brokers_size(), 1);
  EXPECT_EQ(command.fence_brokers().brokers(0).broker_id(), 4);
  EXPECT_EQ(command.fence_brokers().brokers(0).broker_epoch(), 9u);
  EXPECT_TRUE(make_fence_command({}, 1234).empty());
}

TEST(BrokerSessionsTest, RestampSetsTheLeaderTimeAndKeepsTheRestOfTheCommand) {
  v1::Command command;
  command.set_leader_time_ms(1000);  // a follower's clock
  command.mutable_header()->set_client_id("broker-7");
  command.mutable_header()->set_request_id(42);
  command.mutable_broker_heartbeat()->set_broker_id(7);
  std::string bytes = command.SerializeAsString();
  ASSERT_TRUE(restamp_leader_time(&bytes, 5000));
  v1::Command restamped;
  ASSERT_TRUE(restamped.ParseFromString(bytes));
  EXPECT_EQ(restamped.leader_time_ms(), 5000);
  EXPECT_EQ(restamped.header().client_id(), "broker-7");
  EXPECT_EQ(restamped.header().request_id(), 42u);
  EXPECT_EQ(restamped.broker_heartbeat().broker_id(), 7);

  std::string garbage = "\xff\xff\xff not a command";
  const std::string before = garbage;
  EXPECT_FALSE(restamp_leader_time(&garbage, 5000));
  EXPECT_EQ(garbage, before);
}

TEST(BrokerSessionsTest, ExtremeClockValuesDoNotOverflow) {
  v1::Broker broker;
  broker.set_session_timeout_ms(1000);
  broker.set_last_heartbeat_ms(std::numeric_limits<std::int64_t>::min());
  EXPECT_TRUE(session_expired(broker, std::numeric_limits<std::int64_t>::max()));
  broker.set_last_heartbeat_ms(std::numeric_limits<std::int64_t>::max());
  EXPECT_FALSE(session_expired(broker, std::numeric_limits<std::int64_t>::min()));
}

}  // namespace
}  // namespace raftmeta::state
