// Planted bugs, end to end: raftmeta-node-planted with one bug switched on
// (planted_bugs.h) runs a short scenario chosen so the bug is certainly
// exercised; the recorded history goes through the same linearizability
// checker as every chaos run, which must report an anomaly naming the
// operations involved. The same scenario against the real raftmeta-node is
// the control: it must stay linearizable, so the anomaly is the bug's.
//
// ack-before-commit: the leader is cut off from its peers (peer-send error),
// a commit sent to it alone is acknowledged from its own disk, a new leader is
// elected without it, and after healing a linearizable read shows the older
// offset (the real node never acknowledges that commit).
//
// double-apply-after-restart: a follower is restarted after offset 1 was
// committed, so the replay of its log (its first batch) holds that commit;
// offset 2 is committed next, and the planted member applies its first batch
// again after it; a linearizable read at that member then shows offset 1
// (the real node's state machine refuses an index it has applied).
//
// lease-without-clock: the leader's Raft loop is blocked (failpoint), so its
// lease is never renewed nor cleared; the other two elect a new leader and
// acknowledge a newer offset; a lease read at the old leader then returns the
// older offset (the real node refuses it: its lease has run out on the clock).
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "e2e/cluster/chaos/linearizability_checker.h"
#include "e2e/cluster/chaos/planted_bugs.h"
#include "e2e/cluster/chaos/workload.h"
#include "e2e/cluster/process_cluster.h"
#include "raftmeta/v1/metadata.grpc.pb.h"
#include "sidecar/ctl/endpoint_client.h"

namespace raftmeta::chaos {
namespace {

namespace v1 = ::raftmeta::v1;
using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

// Scenario attempts in one test (a fresh leader each time): one suffices
// unless set-up steps time out on a loaded machine.
constexpr int kAttempts = 3;
constexpr milliseconds kStartupWait{10000};
// Fresh clusters tried when set-up fails (as chaos_run.cpp does).
constexpr int kClusters = 3;

std::string planted_binary() { return RAFTMETA_PLANTED_NODE_BINARY; }

// Sets the members' environment in this process (children inherit it).
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// Records operations against one cluster on one clock.
class Recorder {
 public:
  Recorder(std::string cluster_id, std::string client_id)
      : cluster_id_(std::move(cluster_id)), client_id_(std::move(client_id)) {}

  // Offset commit of `value` for `group` through any of `endpoints`
  // (retried with the same request id). Recorded as ok or unknown.
  bool commit(const std::vector<std::string>& endpoints, const std::string& group,
              std::int64_t value, milliseconds budget = milliseconds(10000)) {
    ctl::EndpointClient client(endpoints, {.total_timeout = budget,
                                           .attempt_timeout = milliseconds(1500),
                                           .retry_backoff = milliseconds(50)});
    v1::CommitOffsetsRequest req;
    req.mutable_header()->set_cluster_id(cluster_id_);
    req.mutable_header()->set_client_id(client_id_);
    req.mutable_header()->set_request_id(next_request_id_++);
    req.set_group_id(group);
    req.set_generation(-1);
    auto* o = req.add_offsets();
    o->set_topic(Workload::kOffsetsTopic);
    o->set_partition(0);
    o->set_offset(value);
    o->set_leader_epoch(-1);
    Operation op;
    op.client = 1;
    op.key = group;
    op.kind = OpKind::kOffsetCommit;
    op.input = value;
    op.invoke_ns = now_ns();
    v1::CommitOffsetsResponse resp;
    const grpc::Status status = client.call(true, [&](const auto& ch, grpc::ClientContext* ctx) {
      resp.Clear();
      return v1::Metadata::Stub(ch).CommitOffsets(ctx, req, &resp);
    });
    if (status.ok()) {
      op.complete_ns = now_ns();
      op.revision = resp.revision();
    } else {
      op.outcome = Outcome::kUnknown;
    }
    record(op);
    return status.ok();
  }

  // One lease read of `group`'s offset at exactly `endpoint`; recorded when
  // answered. The offset read, or nullopt.
  std::optional<std::int64_t> lease_read(const std::string& endpoint, const std::string& group) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    auto channel = grpc::CreateCustomChannel(endpoint, grpc::InsecureChannelCredentials(), args);
    v1::FetchOffsetsRequest req;
    req.mutable_read()->set_cluster_id(cluster_id_);
    req.mutable_read()->set_consistency(v1::CONSISTENCY_LEASE);
    req.set_group_id(group);
    auto* p = req.add_partitions();
    p->set_topic(Workload::kOffsetsTopic);
    p->set_partition(0);
    Operation op;
    op.client = 2;
    op.key = group;
    op.kind = OpKind::kOffsetFetch;
    op.level = ReadLevel::kLease;
    op.invoke_ns = now_ns();
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + milliseconds(2000));
    v1::FetchOffsetsResponse resp;
    const grpc::Status status = v1::Metadata::Stub(channel).FetchOffsets(&ctx, req, &resp);
    last_read_error_ = status.error_message();
    if (!status.ok()) return std::nullopt;
    op.complete_ns = now_ns();
    op.output = resp.offsets_size() > 0 ? resp.offsets(0).offset() : -1;
    op.revision = resp.revision();
    record(op);
    return op.output;
  }

  // A linearizable read of `group`'s offset through any of `endpoints`
  // (retried); recorded when answered.
  std::optional<std::int64_t> linearizable_read(const std::vector<std::string>& endpoints,
                                                const std::string& group) {
    ctl::EndpointClient client(endpoints, {.total_timeout = milliseconds(10000),
                                           .attempt_timeout = milliseconds(1500),
                                           .retry_backoff = milliseconds(50)});
    v1::FetchOffsetsRequest req;
    req.mutable_read()->set_cluster_id(cluster_id_);
    req.mutable_read()->set_consistency(v1::CONSISTENCY_LINEARIZABLE);
    req.set_group_id(group);
    auto* p = req.add_partitions();
    p->set_topic(Workload::kOffsetsTopic);
    p->set_partition(0);
    Operation op;
    op.client = 3;
    op.key = group;
    op.kind = OpKind::kOffsetFetch;
    op.level = ReadLevel::kLinearizable;
    op.invoke_ns = now_ns();
    v1::FetchOffsetsResponse resp;
    const grpc::Status status = client.call(false, [&](const auto& ch, grpc::ClientContext* ctx) {
      resp.Clear();
      return v1::Metadata::Stub(ch).FetchOffsets(ctx, req, &resp);
    });
    if (!status.ok()) return std::nullopt;
    op.complete_ns = now_ns();
    op.output = resp.offsets_size() > 0 ? resp.offsets(0).offset() : -1;
    op.revision = resp.revision();
    record(op);
    return op.output;
  }

  const std::vector<Operation>& history() const { return history_; }
  const std::string& last_read_error() const { return last_read_error_; }

 private:
  std::int64_t now_ns() const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now() - origin_)
        .count();
  }
  void record(Operation op) {
    op.id = static_cast<std::int64_t>(history_.size()) + 1;
    history_.push_back(std::move(op));
  }

  const std::string cluster_id_;
  const std::string client_id_;
  const SteadyClock::time_point origin_ = SteadyClock::now();
  std::uint64_t next_request_id_ = 1;
  std::vector<Operation> history_;
  std::string last_read_error_;
};

struct ScenarioResult {
  bool ran = false;  // the scenario reached its decisive read
  std::string trace;
  CheckResult check;
};

// A fresh 3-member cluster of `binary` with the workload's topic set up.
struct PlantedCluster {
  e2e::ClusterOptions options;
  std::unique_ptr<e2e::ProcessCluster> cluster;
  std::vector<std::string> endpoints;  // every member's client address
  milliseconds leader_wait{0};
};

// Starts `out`; false, with *trace saying why, when start or set-up failed.
bool start_planted_cluster(const std::string& binary, const std::string& name, int port_base,
                           PlantedCluster* out, std::string* trace) {
  out->options.cluster_id = "planted-" + name;
  out->options.binary = binary;
  out->options.port_base_hint = port_base;
  out->cluster = std::make_unique<e2e::ProcessCluster>(out->options);
  e2e::ProcessCluster& cluster = *out->cluster;
  std::string error;
  if (!cluster.start_all(&error)) {
    *trace = "start: " + error;
    return false;
  }
  out->leader_wait = kStartupWait + milliseconds(4 * out->options.election_ms) + e2e::kSlack;
  WorkloadOptions wo;
  wo.cluster_id = out->options.cluster_id;
  wo.clients = 1;
  for (std::uint64_t id : cluster.ids()) {
    wo.endpoints[static_cast<int>(id)] = cluster.client_address(id);
    out->endpoints.push_back(cluster.client_address(id));
  }
  Workload setup(wo, SteadyClock::now(), nullptr);
  if (!cluster.wait_leader(out->leader_wait) || !setup.setup(milliseconds(30000), &error)) {
    *trace = "set-up: " + error + "\n" + cluster.diagnostics(20);
    return false;
  }
  return true;
}

// The lease scenario on a fresh 3-member cluster of `binary`.
// With `until_answered` a refused decisive read starts another attempt (the
// planted build: a refusal means the lease had been cleared just before the
// block, so the bug was not exercised).
ScenarioResult lease_scenario(const std::string& binary, const std::string& name, int port_base,
                              bool until_answered) {
  ScenarioResult result;
  bool answered = false;
  PlantedCluster planted;
  if (!start_planted_cluster(binary, name, port_base, &planted, &result.trace)) return result;
  e2e::ProcessCluster& cluster = *planted.cluster;
  const e2e::ClusterOptions& co = planted.options;
  const milliseconds leader_wait = planted.leader_wait;
  const std::vector<std::string>& all = planted.endpoints;
  Recorder rec(co.cluster_id, name + "-client");
  const std::string group = "planted-group";
  std::int64_t value = 0;
  for (int attempt = 0; attempt < kAttempts && !(result.ran && (answered || !until_answered));
       ++attempt) {
    const auto leader = cluster.wait_leader(leader_wait);
    if (!leader) continue;
    std::vector<std::uint64_t> others;
    std::vector<std::string> other_endpoints;
    for (std::uint64_t id : cluster.ids()) {
      if (id == *leader) continue;
      others.push_back(id);
      other_endpoints.push_back(cluster.client_address(id));
    }
    // The old value, acknowledged and visible at the leader under its lease.
    if (!rec.commit(all, group, ++value)) continue;
    const bool seen = e2e::ProcessCluster::wait_until(
        [&] { return rec.lease_read(cluster.client_address(*leader), group) == value; },
        milliseconds(5000) + e2e::kSlack, milliseconds(50));
    if (!seen) continue;
    // The leader's loop stops turning; the others elect a new leader.
    if (!cluster.set_failpoint(*leader, "raft-loop", "block")) continue;
    const auto successor = cluster.wait_leader(leader_wait, others);
    if (successor && rec.commit(other_endpoints, group, ++value)) {
      // The decisive read, after the newer value was acknowledged.
      const auto read = rec.lease_read(cluster.client_address(*leader), group);
      result.ran = true;
      answered = read.has_value();
      result.trace +=
          "attempt " + std::to_string(attempt + 1) + ": leader " + std::to_string(*leader) +
          " blocked, new leader " + std::to_string(*successor) +
          ", lease read at the old leader: " +
          (read ? "answered " + std::to_string(*read) : "refused (" + rec.last_read_error() + ")") +
          "\n";
    }
    cluster.set_failpoint(*leader, "raft-loop", "off");
  }
  if (!result.ran || (until_answered && !answered)) result.trace += cluster.diagnostics(20);
  result.check = check_linearizability(rec.history(), CheckOptions{});
  return result;
}

// The ack-before-commit scenario on a fresh 3-member cluster of `binary`:
// the leader can no longer send to its peers (peer-send error), a commit sent
// to it alone is answered (planted: on its own disk only) or not (the real
// node: never committed), the others elect a new leader, the old one rejoins
// and its unreplicated entry is replaced; a linearizable read then shows the
// older offset.
ScenarioResult ack_scenario(const std::string& binary, const std::string& name, int port_base,
                            bool until_acknowledged) {
  ScenarioResult result;
  PlantedCluster planted;
  if (!start_planted_cluster(binary, name, port_base, &planted, &result.trace)) return result;
  e2e::ProcessCluster& cluster = *planted.cluster;
  const e2e::ClusterOptions& co = planted.options;
  const milliseconds leader_wait = planted.leader_wait;
  const std::vector<std::string>& all = planted.endpoints;
  Recorder rec(co.cluster_id, name + "-client");
  const std::string group = "planted-group";
  std::int64_t value = 0;
  bool acknowledged = false;
  for (int attempt = 0;
       attempt < kAttempts && !(result.ran && (acknowledged || !until_acknowledged)); ++attempt) {
    const auto leader = cluster.wait_leader(leader_wait);
    if (!leader) continue;
    std::vector<std::uint64_t> others;
    for (std::uint64_t id : cluster.ids()) {
      if (id != *leader) others.push_back(id);
    }
    if (!rec.commit(all, group, ++value)) continue;
    if (!cluster.set_failpoint(*leader, "peer-send", "error")) continue;
    // One attempt at the cut-off leader only, shorter than its CheckQuorum.
    acknowledged = rec.commit({cluster.client_address(*leader)}, group, ++value,
                              milliseconds(co.election_ms / 2));
    const auto successor = cluster.wait_leader(leader_wait, others);
    cluster.set_failpoint(*leader, "peer-send", "off");
    if (!successor) continue;
    // Healed: every member applied the new leader's commit index.
    const bool converged = cluster.wait_until(
        [&] {
          const auto l = cluster.view(*successor);
          if (!l.answered || l.role != "leader") return false;
          for (std::uint64_t id : cluster.ids()) {
            const auto v = cluster.view(id);
            if (!v.answered || v.applied < l.commit || v.leader_id != *successor) return false;
          }
          return true;
        },
        leader_wait, milliseconds(50));
    if (!converged) continue;
    const auto read = rec.linearizable_read(all, group);
    result.ran = read.has_value();
    result.trace += "attempt " + std::to_string(attempt + 1) + ": leader " +
                    std::to_string(*leader) + " cut off, commit of " + std::to_string(value) +
                    " at it " + (acknowledged ? "acknowledged" : "not acknowledged") +
                    ", new leader " + std::to_string(*successor) +
                    ", read after healing: " + (read ? std::to_string(*read) : "no answer") + "\n";
  }
  if (!result.ran || (until_acknowledged && !acknowledged)) {
    result.trace += cluster.diagnostics(20);
  }
  result.check = check_linearizability(rec.history(), CheckOptions{});
  return result;
}

// The double-apply scenario on a fresh 3-member cluster of `binary`.
ScenarioResult double_apply_scenario(const std::string& binary, const std::string& name,
                                     int port_base) {
  ScenarioResult result;
  PlantedCluster planted;
  if (!start_planted_cluster(binary, name, port_base, &planted, &result.trace)) return result;
  e2e::ProcessCluster& cluster = *planted.cluster;
  const e2e::ClusterOptions& co = planted.options;
  const milliseconds leader_wait = planted.leader_wait;
  const std::vector<std::string>& all = planted.endpoints;
  Recorder rec(co.cluster_id, name + "-client");
  const std::string group = "planted-group";
  const auto leader = cluster.wait_leader(leader_wait);
  if (!leader) {
    result.trace = "no leader\n" + cluster.diagnostics(20);
    return result;
  }
  std::uint64_t follower = 0;
  for (std::uint64_t id : cluster.ids()) {
    if (id != *leader) follower = id;
  }
  auto applied_at_least = [&](std::uint64_t id, std::uint64_t revision) {
    return cluster.wait_until(
        [&] {
          const auto v = cluster.view(id);
          return v.answered && v.applied >= revision;
        },
        leader_wait, milliseconds(20));
  };
  if (!rec.commit(all, group, 1)) {
    result.trace = "commit of 1 not acknowledged\n" + cluster.diagnostics(20);
    return result;
  }
  const std::uint64_t first_revision = rec.history().back().revision;
  // The follower holds the commit (and its stored commit index covers it, so
  // its replay after the restart applies it) before it is killed.
  if (!applied_at_least(follower, first_revision)) {
    result.trace = "member " + std::to_string(follower) + " did not apply the first commit\n";
    return result;
  }
  std::this_thread::sleep_for(milliseconds(co.heartbeat_ms * 3));
  std::string error;
  cluster.kill(follower);
  if (!cluster.start(follower, false, false, &error) ||
      !applied_at_least(follower, first_revision)) {
    result.trace = "restart of member " + std::to_string(follower) + ": " + error + "\n" +
                   cluster.diagnostics(20);
    return result;
  }
  if (!rec.commit(all, group, 2)) {
    result.trace = "commit of 2 not acknowledged\n" + cluster.diagnostics(20);
    return result;
  }
  const std::uint64_t second_revision = rec.history().back().revision;
  if (!applied_at_least(follower, second_revision)) {
    result.trace = "member " + std::to_string(follower) + " did not apply the second commit\n";
    return result;
  }
  const auto read = rec.linearizable_read({cluster.client_address(follower)}, group);
  result.ran = read.has_value();
  result.trace += "member " + std::to_string(follower) + " restarted after offset 1 (revision " +
                  std::to_string(first_revision) + "), offset 2 at revision " +
                  std::to_string(second_revision) +
                  ", linearizable read there: " + (read ? std::to_string(*read) : "no answer") +
                  "\n";
  result.check = check_linearizability(rec.history(), CheckOptions{});
  return result;
}

// Runs `scenario` on fresh clusters until one reaches its decisive step
// (a set-up that failed on a loaded machine does not fail the test).
template <typename Scenario>
ScenarioResult on_fresh_clusters(int port_base, const Scenario& scenario) {
  ScenarioResult r;
  std::string traces;
  for (int cluster = 0; cluster < kClusters && !r.ran; ++cluster) {
    r = scenario(port_base + cluster * 37);
    traces += r.trace;
  }
  r.trace = traces;
  return r;
}

TEST(PlantedBugs, LeaseWithoutClockIsCaught) {
  ScopedEnv bug(planted::kEnvVar, "lease-without-clock");
  const ScenarioResult r = on_fresh_clusters(
      25500, [](int port) { return lease_scenario(planted_binary(), "lease", port, true); });
  std::cout << r.trace << r.check.summary() << std::flush;
  ASSERT_TRUE(r.ran) << r.trace;
  EXPECT_EQ(r.check.verdict, Verdict::kNotLinearizable) << r.check.summary();
  ASSERT_FALSE(r.check.anomalies.empty());
  // The report names the stale lease read that cannot be placed.
  const std::string& report = r.check.anomalies[0].report;
  EXPECT_NE(report.find("cannot place"), std::string::npos) << report;
  EXPECT_NE(report.find("offset-fetch(lease)"), std::string::npos) << report;
}

// Control: the same scenario against the real node is linearizable (the old
// leader refuses the lease read once its lease ran out on the clock).
TEST(PlantedBugs, LeaseScenarioWithoutThePlantedBugIsClean) {
  const ScenarioResult r = on_fresh_clusters(25700, [](int port) {
    return lease_scenario(e2e::node_binary(), "lease-control", port, false);
  });
  std::cout << r.trace << r.check.summary() << std::flush;
  ASSERT_TRUE(r.ran) << r.trace;
  EXPECT_EQ(r.check.verdict, Verdict::kLinearizable) << r.check.summary();
}

TEST(PlantedBugs, AckBeforeCommitIsCaught) {
  ScopedEnv bug(planted::kEnvVar, "ack-before-commit");
  const ScenarioResult r = on_fresh_clusters(
      25800, [](int port) { return ack_scenario(planted_binary(), "ack", port, true); });
  std::cout << r.trace << r.check.summary() << std::flush;
  ASSERT_TRUE(r.ran) << r.trace;
  EXPECT_EQ(r.check.verdict, Verdict::kNotLinearizable) << r.check.summary();
  ASSERT_FALSE(r.check.anomalies.empty());
  // The report names the read that cannot follow the acknowledged commit.
  const std::string& report = r.check.anomalies[0].report;
  EXPECT_NE(report.find("cannot place"), std::string::npos) << report;
  EXPECT_NE(report.find("offset-commit"), std::string::npos) << report;
}

// Control: on the real node the cut-off leader never acknowledges the commit.
TEST(PlantedBugs, AckScenarioWithoutThePlantedBugIsClean) {
  const ScenarioResult r = on_fresh_clusters(
      25900, [](int port) { return ack_scenario(e2e::node_binary(), "ack-control", port, false); });
  std::cout << r.trace << r.check.summary() << std::flush;
  ASSERT_TRUE(r.ran) << r.trace;
  EXPECT_EQ(r.check.verdict, Verdict::kLinearizable) << r.check.summary();
}

TEST(PlantedBugs, DoubleApplyAfterRestartIsCaught) {
  ScopedEnv bug(planted::kEnvVar, "double-apply-after-restart");
  const ScenarioResult r = on_fresh_clusters(26000, [](int port) {
    return double_apply_scenario(planted_binary(), "double-apply", port);
  });
  std::cout << r.trace << r.check.summary() << std::flush;
  ASSERT_TRUE(r.ran) << r.trace;
  EXPECT_EQ(r.check.verdict, Verdict::kNotLinearizable) << r.check.summary();
  ASSERT_FALSE(r.check.anomalies.empty());
  // The report names the read that shows the re-applied older commit.
  const std::string& report = r.check.anomalies[0].report;
  EXPECT_NE(report.find("cannot place"), std::string::npos) << report;
  EXPECT_NE(report.find("offset-fetch(linearizable)"), std::string::npos) << report;
}

// Control: the real node never applies an entry twice.
TEST(PlantedBugs, DoubleApplyScenarioWithoutThePlantedBugIsClean) {
  const ScenarioResult r = on_fresh_clusters(26200, [](int port) {
    return double_apply_scenario(e2e::node_binary(), "double-apply-control", port);
  });
  std::cout << r.trace << r.check.summary() << std::flush;
  ASSERT_TRUE(r.ran) << r.trace;
  EXPECT_EQ(r.check.verdict, Verdict::kLinearizable) << r.check.summary();
}

}  // namespace
}  // namespace raftmeta::chaos
