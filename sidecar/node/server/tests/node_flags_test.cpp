#include "sidecar/node/server/node_flags.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <initializer_list>
#include <string>
#include <vector>

namespace raftmeta::node::server {
namespace {

using Outcome = ParsedFlags::Outcome;

ParsedFlags parse(std::initializer_list<std::string> args) {
  std::vector<std::string> storage{"raftmeta-node"};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<const char*> argv;
  for (const auto& s : storage) argv.push_back(s.c_str());
  return parse_node_flags(static_cast<int>(argv.size()), argv.data());
}

// Sets an environment variable for the life of the object.
class ScopedEnv {
 public:
  ScopedEnv(std::string name, const std::string& value) : name_(std::move(name)) {
    ::setenv(name_.c_str(), value.c_str(), 1);
  }
  ~ScopedEnv() { ::unsetenv(name_.c_str()); }

 private:
  std::string name_;
};

const std::initializer_list<std::string> kMinimal = {"--id",         "2", "--data-dir", "/tmp/d",
                                                     "--cluster-id", "c1"};

TEST(NodeFlags, MinimalFlagsGetDesignDefaults) {
  ParsedFlags p = parse(kMinimal);
  ASSERT_EQ(p.outcome, Outcome::kRun) << p.message;
  const NodeFlags& f = p.flags;
  EXPECT_EQ(f.id, 2u);
  EXPECT_EQ(f.data_dir, "/tmp/d");
  EXPECT_EQ(f.cluster_id, "c1");
  EXPECT_EQ(f.listen_peer, "0.0.0.0:7400");
  EXPECT_EQ(f.listen_client, "0.0.0.0:7401");
  EXPECT_EQ(f.listen_http, "0.0.0.0:7402");
  EXPECT_EQ(f.shutdown_timeout_ms, 10000);
  EXPECT_EQ(f.heartbeat_ms, 100);
  EXPECT_EQ(f.election_ms, 1000);
  EXPECT_EQ(f.loop_stall_ms, 5000);
  EXPECT_EQ(f.apply_stall_ms, 10000);
  EXPECT_EQ(f.storage_stall_ms, 10000);
  EXPECT_FALSE(f.join);
  EXPECT_FALSE(f.enable_failpoints);
  EXPECT_EQ(f.log_level, "info");
  EXPECT_EQ(f.log_format, LogFormat::kText);
  EXPECT_EQ(f.max_request_bytes, 4u * 1024 * 1024);
  EXPECT_TRUE(f.initial_members.empty());
  // A wildcard listen address is not something peers can dial.
  EXPECT_EQ(f.advertise_peer, "");
}

TEST(NodeFlags, EveryFlagIsParsed) {
  ParsedFlags p =
      parse({"--id=1", "--data-dir=/d", "--cluster-id=uid-1", "--listen-peer=127.0.0.1:1",
             "--advertise-peer=node-1:7400", "--listen-client=127.0.0.1:2",
             "--listen-http=127.0.0.1:3", "--shutdown-timeout-ms=500", "--heartbeat-ms=50",
             "--election-ms=500", "--loop-stall-ms=1000", "--apply-stall-ms=2000",
             "--storage-stall-ms=3000", "--snapshot-entries=77", "--enable-failpoints",
             "--log-level=debug", "--log-format=json", "--max-request-bytes=65536"});
  ASSERT_EQ(p.outcome, Outcome::kRun) << p.message;
  const NodeFlags& f = p.flags;
  EXPECT_EQ(f.listen_peer, "127.0.0.1:1");
  EXPECT_EQ(f.advertise_peer, "node-1:7400");
  EXPECT_EQ(f.listen_client, "127.0.0.1:2");
  EXPECT_EQ(f.listen_http, "127.0.0.1:3");
  EXPECT_EQ(f.shutdown_timeout_ms, 500);
  EXPECT_EQ(f.heartbeat_ms, 50);
  EXPECT_EQ(f.election_ms, 500);
  EXPECT_EQ(f.loop_stall_ms, 1000);
  EXPECT_EQ(f.apply_stall_ms, 2000);
  EXPECT_EQ(f.storage_stall_ms, 3000);
  EXPECT_EQ(f.snapshot_entries, 77u);
  EXPECT_TRUE(f.enable_failpoints);
  EXPECT_EQ(f.log_level, "debug");
  EXPECT_EQ(f.log_format, LogFormat::kJson);
  EXPECT_EQ(f.max_request_bytes, 65536u);
}

TEST(NodeFlags, InitialMembersGiveAdvertiseAddress) {
  ParsedFlags p = parse({"--id", "2", "--data-dir", "/d", "--cluster-id", "c", "--initial-members",
                         "1=a:7400, 2=b:7400,3=[::1]:7400"});
  ASSERT_EQ(p.outcome, Outcome::kRun) << p.message;
  ASSERT_EQ(p.flags.initial_members.size(), 3u);
  EXPECT_EQ(p.flags.initial_members[0], (InitialMember{1, "a:7400"}));
  EXPECT_EQ(p.flags.initial_members[1], (InitialMember{2, "b:7400"}));
  EXPECT_EQ(p.flags.initial_members[2], (InitialMember{3, "[::1]:7400"}));
  EXPECT_EQ(p.flags.advertise_peer, "b:7400");
}

TEST(NodeFlags, EnvironmentVariablesSetFlags) {
  ScopedEnv id("RAFTMETA_ID", "3");
  ScopedEnv dir("RAFTMETA_DATA_DIR", "/env/dir");
  ScopedEnv cluster("RAFTMETA_CLUSTER_ID", "env-cluster");
  ScopedEnv hb("RAFTMETA_HEARTBEAT_MS", "20");
  ScopedEnv join("RAFTMETA_JOIN", "true");
  ScopedEnv fp("RAFTMETA_ENABLE_FAILPOINTS", "1");
  ScopedEnv client("RAFTMETA_LISTEN_CLIENT", "127.0.0.1:9999");
  ParsedFlags p = parse({});
  ASSERT_EQ(p.outcome, Outcome::kRun) << p.message;
  EXPECT_EQ(p.flags.id, 3u);
  EXPECT_EQ(p.flags.data_dir, "/env/dir");
  EXPECT_EQ(p.flags.cluster_id, "env-cluster");
  EXPECT_EQ(p.flags.heartbeat_ms, 20);
  EXPECT_TRUE(p.flags.join);
  EXPECT_TRUE(p.flags.enable_failpoints);
  EXPECT_EQ(p.flags.listen_client, "127.0.0.1:9999");
}

TEST(NodeFlags, CommandLineWinsOverEnvironment) {
  ScopedEnv hb("RAFTMETA_HEARTBEAT_MS", "20");
  ParsedFlags p = parse({"--id=1", "--data-dir=/d", "--cluster-id=c", "--heartbeat-ms=30"});
  ASSERT_EQ(p.outcome, Outcome::kRun) << p.message;
  EXPECT_EQ(p.flags.heartbeat_ms, 30);
}

TEST(NodeFlags, EnvNameIsUpperSnake) {
  EXPECT_EQ(env_name_of("listen-peer"), "RAFTMETA_LISTEN_PEER");
  EXPECT_EQ(env_name_of("shutdown-timeout-ms"), "RAFTMETA_SHUTDOWN_TIMEOUT_MS");
}

void expect_usage_error(const ParsedFlags& p, const std::string& fragment) {
  EXPECT_EQ(p.outcome, Outcome::kUsageError);
  EXPECT_NE(p.message.find(fragment), std::string::npos) << p.message;
  EXPECT_EQ(p.message.find('\n'), std::string::npos) << "not one line: " << p.message;
  EXPECT_FALSE(p.message.empty());
}

TEST(NodeFlags, MissingRequiredFlagsAreUsageErrors) {
  expect_usage_error(parse({"--data-dir=/d", "--cluster-id=c"}), "--id");
  expect_usage_error(parse({"--id=1", "--cluster-id=c"}), "--data-dir");
  expect_usage_error(parse({"--id=1", "--data-dir=/d"}), "--cluster-id");
}

TEST(NodeFlags, BadValuesAreUsageErrors) {
  auto with = [](std::string extra) {
    return parse({"--id=1", "--data-dir=/d", "--cluster-id=c", extra});
  };
  expect_usage_error(with("--heartbeat-ms=abc"), "heartbeat");
  expect_usage_error(with("--heartbeat-ms=0"), "heartbeat");
  expect_usage_error(with("--log-format=xml"), "log-format");
  expect_usage_error(with("--log-level=loud"), "log-level");
  expect_usage_error(with("--listen-client=nohost"), "--listen-client");
  expect_usage_error(with("--listen-http=host:70000"), "--listen-http");
  expect_usage_error(with("--advertise-peer=x"), "--advertise-peer");
  expect_usage_error(with("--election-ms=150"), "--election-ms");
  expect_usage_error(with("--no-such-flag"), "no-such-flag");
  expect_usage_error(parse({"--id=0", "--data-dir=/d", "--cluster-id=c"}), "--id");
}

TEST(NodeFlags, InitialMembersErrors) {
  auto with = [](std::string members) {
    return parse({"--id=1", "--data-dir=/d", "--cluster-id=c", "--initial-members", members});
  };
  expect_usage_error(with("1=a:1,1=b:1"), "appears twice");
  expect_usage_error(with("1=a:1,2=a:1"), "appears twice");
  expect_usage_error(with("2=a:1,3=b:1"), "does not contain");
  expect_usage_error(with("1=a"), "invalid address");
  expect_usage_error(with("x=a:1"), "numeric id");
  expect_usage_error(with("0=a:1"), "numeric id");
  expect_usage_error(with("a:1"), "id=host:port");
}

TEST(NodeFlags, JoinAndInitialMembersExcludeEachOther) {
  ParsedFlags p =
      parse({"--id=1", "--data-dir=/d", "--cluster-id=c", "--initial-members=1=a:1", "--join"});
  EXPECT_EQ(p.outcome, Outcome::kUsageError);
  EXPECT_EQ(p.message.find('\n'), std::string::npos);
}

TEST(NodeFlags, HelpIsNotAnError) {
  ParsedFlags p = parse({"--help"});
  EXPECT_EQ(p.outcome, Outcome::kPrintAndExit);
  EXPECT_NE(p.message.find("--initial-members"), std::string::npos);
}

TEST(HostPort, Syntax) {
  EXPECT_TRUE(is_host_port("a:1"));
  EXPECT_TRUE(is_host_port("bc-0.bc-peers.default.svc:7400"));
  EXPECT_TRUE(is_host_port("[::]:7400"));
  EXPECT_FALSE(is_host_port(":7400"));
  EXPECT_FALSE(is_host_port("a:"));
  EXPECT_FALSE(is_host_port("a:0"));
  EXPECT_FALSE(is_host_port("a:65536"));
  EXPECT_FALSE(is_host_port("::1:7400"));
  EXPECT_FALSE(is_host_port("[]:7400"));
}

}  // namespace
}  // namespace raftmeta::node::server
