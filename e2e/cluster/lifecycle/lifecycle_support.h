// Shared pieces of the cluster-lifecycle acceptance tests (issue 7): a
// fixture that starts a cluster of real raftmeta-node processes with short
// timers, runs raftmetactl as a child process, and a writer that records
// which writes were acknowledged so a test can check that none was lost.
//
// Time bounds are the configured timers plus kSlack (process_cluster.h), the
// one tolerance of process tests.
//
// Thread use: the fixture belongs to the test's thread; AckedWriter runs its
// own "acked-writer" thread and hands out its results after stop().
#pragma once

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "e2e/cluster/child_process.h"
#include "e2e/cluster/cluster_client.h"
#include "e2e/cluster/process_cluster.h"
#include "raftmeta/v1/metadata.grpc.pb.h"

namespace raftmeta::e2e::lifecycle {

// What one raftmetactl run printed and how it ended.
struct CtlResult {
  int exit_code = -1;  // -1: did not finish in time
  std::string output;  // stdout and stderr together
  bool ok() const { return exit_code == 0; }
};

// Creates topics one after another through a ClusterClient and remembers
// every name whose creation was acknowledged, with the revision it got.
class AckedWriter {
 public:
  AckedWriter(std::vector<std::string> endpoints, std::string cluster_id, std::string prefix)
      : endpoints_(std::move(endpoints)),
        cluster_id_(std::move(cluster_id)),
        prefix_(std::move(prefix)) {
    thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "acked-writer");
      run();
    });
  }
  ~AckedWriter() { stop(); }

  void stop() {
    stopping_.store(true);
    if (thread_.joinable()) thread_.join();
  }
  std::uint64_t acknowledged() const { return acknowledged_.load(); }
  std::uint64_t failed() const { return failed_.load(); }
  // Waits until `more` writes beyond the count at the call are acknowledged.
  bool wait_for_more(std::uint64_t more, std::chrono::milliseconds timeout) const {
    const std::uint64_t target = acknowledged_.load() + more;
    return ProcessCluster::wait_until([&] { return acknowledged_.load() >= target; }, timeout,
                                      std::chrono::milliseconds(10));
  }
  // Acknowledged names; call after stop().
  const std::vector<std::string>& acked_names() const { return acked_; }
  // The revision each acknowledged write got, in the same order; after stop().
  const std::vector<std::uint64_t>& acked_revisions() const { return acked_revisions_; }
  std::string last_error() const {
    std::lock_guard lock(mu_);
    return last_error_;
  }

 private:
  void run() {
    ClusterClient client(endpoints_, cluster_id_, std::chrono::milliseconds(20000));
    for (std::uint64_t i = 0; !stopping_.load(); ++i) {
      const std::string name = prefix_ + std::to_string(i);
      raftmeta::v1::CreateTopicResponse resp;
      const grpc::Status s = client.create_topic(name, 1, &resp);
      if (s.ok()) {
        acked_.push_back(name);
        acked_revisions_.push_back(resp.revision());
        acknowledged_.fetch_add(1);
      } else {
        failed_.fetch_add(1);
        std::lock_guard lock(mu_);
        last_error_ = s.error_message();
      }
    }
  }

  const std::vector<std::string> endpoints_;
  const std::string cluster_id_;
  const std::string prefix_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> acknowledged_{0};
  std::atomic<std::uint64_t> failed_{0};
  // Written by the writer thread, read after stop().
  std::vector<std::string> acked_;
  std::vector<std::uint64_t> acked_revisions_;
  mutable std::mutex mu_;  // guards last_error_
  std::string last_error_;
  std::thread thread_;
};

class LifecycleTest : public ::testing::Test {
 protected:
  static ClusterOptions short_timers(int port_base_hint) {
    ClusterOptions o;
    o.port_base_hint = port_base_hint;
    o.heartbeat_ms = 50;
    o.election_ms = 500;
    o.loop_stall_ms = 3000;
    o.apply_stall_ms = 5000;
    o.storage_stall_ms = 5000;
    o.shutdown_timeout_ms = 5000;
    return o;
  }

  // Starts the cluster, waits for a leader and registers broker 1 (topics
  // with replication factor 1 need one unfenced broker).
  void start_cluster(ClusterOptions options) {
    cluster_ = std::make_unique<ProcessCluster>(std::move(options));
    std::string error;
    ASSERT_TRUE(cluster_->start_all(&error)) << error;
    ASSERT_TRUE(cluster_->wait_leader(election_bound())) << "no leader elected";
    // A broker whose session outlives the test: the leader fences brokers
    // that stop heartbeating, and these tests send no heartbeats.
    const CtlResult r = ctl_until_ok(cluster_->ids(),
                                     {"broker", "register", "--id", "1", "--host", "broker-1",
                                      "--session-timeout-ms", "3600000"},
                                     election_bound());
    ASSERT_TRUE(r.ok()) << r.output;
  }

  void TearDown() override {
    if (writer_) writer_->stop();
    if (HasFailure() && cluster_) {
      std::cerr << cluster_->diagnostics(60);
      cluster_->keep();
    }
  }

  // Long enough for several elections on a loaded machine.
  milliseconds election_bound() const {
    return milliseconds(10 * cluster_->options().election_ms) + kSlack;
  }

  std::vector<std::string> endpoints(std::vector<std::uint64_t> ids) const {
    std::vector<std::string> out;
    for (std::uint64_t id : ids) out.push_back(cluster_->client_address(id));
    return out;
  }
  std::vector<std::string> endpoints() const { return endpoints(cluster_->ids()); }
  static std::string join(const std::vector<std::string>& parts) {
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : ",") + p;
    return out;
  }

  // Runs raftmetactl against `members` with `args`; waits for it to exit.
  CtlResult ctl(const std::vector<std::uint64_t>& members, const std::vector<std::string>& args) {
    const std::string log = cluster_->root() + "/ctl-" + std::to_string(ctl_runs_++) + ".log";
    std::vector<std::string> argv = {ctl_binary(),
                                     "--endpoints",
                                     join(endpoints(members)),
                                     "--cluster-id",
                                     cluster_->options().cluster_id,
                                     "--timeout-ms",
                                     "10000"};
    argv.insert(argv.end(), args.begin(), args.end());
    CtlResult r;
    ChildProcess p;
    std::string error;
    if (!p.spawn(argv, {}, log, &error)) {
      r.output = "spawn failed: " + error;
      return r;
    }
    const auto code = p.wait_exit(milliseconds(15000) + kSlack);
    if (!code) p.kill_and_reap();
    r.exit_code = code.value_or(-1);
    std::ifstream in(log);
    std::stringstream ss;
    ss << in.rdbuf();
    r.output = ss.str();
    return r;
  }

  // Creates `count` topics named `prefix`<thread>-<i> from `threads`
  // concurrent clients; returns how many were acknowledged (it stops early
  // after 100 failures).
  std::uint64_t write_topics(const std::string& prefix, std::uint64_t count, int threads) {
    std::atomic<std::uint64_t> acked{0};
    std::atomic<std::uint64_t> failed{0};
    std::mutex error_mu;
    std::string last_error;
    std::vector<std::thread> writers;
    for (int t = 0; t < threads; ++t) {
      writers.emplace_back([&, t] {
        ClusterClient client(endpoints(), cluster_->options().cluster_id);
        for (std::uint64_t i = 0; acked.load() < count && failed.load() < 100; ++i) {
          const grpc::Status s =
              client.create_topic(prefix + std::to_string(t) + "-" + std::to_string(i), 1);
          (s.ok() ? acked : failed).fetch_add(1);
          if (!s.ok()) {
            std::lock_guard lock(error_mu);
            last_error = s.error_message();
          }
        }
      });
    }
    for (auto& w : writers) w.join();
    if (acked.load() < count) std::cerr << "write_topics: last error: " << last_error << "\n";
    return acked.load();
  }

  // Repeats a raftmetactl command until it succeeds or `timeout` passes
  // (membership changes are refused while another one is uncommitted, and a
  // promotion is refused until the learner caught up).
  CtlResult ctl_until_ok(const std::vector<std::uint64_t>& members,
                         const std::vector<std::string>& args, milliseconds timeout) {
    CtlResult last;
    ProcessCluster::wait_until(
        [&] {
          last = ctl(members, args);
          return last.ok();
        },
        timeout, milliseconds(200));
    return last;
  }

  // The names of all topics a member holds, read linearizably at that member
  // (page by page).
  bool topics_at(std::uint64_t id, std::set<std::string>* names, std::string* error) {
    names->clear();
    auto channel =
        grpc::CreateChannel(cluster_->client_address(id), grpc::InsecureChannelCredentials());
    raftmeta::v1::Metadata::Stub stub(channel);
    std::string after;
    for (;;) {
      raftmeta::v1::ListTopicsRequest req;
      req.mutable_read()->set_cluster_id(cluster_->options().cluster_id);
      req.mutable_read()->set_consistency(raftmeta::v1::CONSISTENCY_LINEARIZABLE);
      req.set_names_only(true);
      req.set_start_after(after);
      raftmeta::v1::ListTopicsResponse resp;
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + milliseconds(5000) + kSlack);
      const grpc::Status s = stub.ListTopics(&context, req, &resp);
      if (!s.ok()) {
        *error = s.error_message();
        return false;
      }
      for (const auto& t : resp.topics()) names->insert(t.name());
      if (!resp.more() || resp.topics_size() == 0) return true;
      after = resp.topics(resp.topics_size() - 1).name();
    }
  }

  // Asserts every acknowledged name is readable linearizably on each member.
  void expect_all_acked_readable(const std::vector<std::string>& acked,
                                 const std::vector<std::uint64_t>& members) {
    for (std::uint64_t id : members) {
      std::set<std::string> names;
      std::string error;
      ASSERT_TRUE(ProcessCluster::wait_until([&] { return topics_at(id, &names, &error); },
                                             election_bound()))
          << "member " << id << " did not answer a linearizable read: " << error;
      std::size_t missing = 0;
      std::string first_missing;
      for (const auto& n : acked) {
        if (!names.contains(n)) {
          if (missing++ == 0) first_missing = n;
        }
      }
      EXPECT_EQ(missing, 0u) << "member " << id << " lost " << missing
                             << " acknowledged writes, e.g. " << first_missing << " (of "
                             << acked.size() << ")";
    }
  }

  std::unique_ptr<ProcessCluster> cluster_;
  std::unique_ptr<AckedWriter> writer_;
  int ctl_runs_ = 0;
};

}  // namespace raftmeta::e2e::lifecycle
