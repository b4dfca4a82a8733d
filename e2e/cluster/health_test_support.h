// Shared pieces of the health process tests (issue 8's cases): a fixture
// that starts a 3-member cluster with short timers and prints diagnostics on
// failure, and probes that time /livez transitions.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "e2e/cluster/cluster_client.h"
#include "e2e/cluster/process_cluster.h"
#include "e2e/cluster/write_load.h"

namespace raftmeta::e2e {

class HealthClusterTest : public ::testing::Test {
 protected:
  // Starts the cluster and waits for a leader and one broker (so topics can
  // be created).
  void start_cluster(ClusterOptions options) {
    cluster_ = std::make_unique<ProcessCluster>(std::move(options));
    std::string error;
    ASSERT_TRUE(cluster_->start_all(&error)) << error;
    ASSERT_TRUE(cluster_->wait_leader(election_bound())) << "no leader elected";
    ClusterClient client(endpoints(), cluster_->options().cluster_id);
    const grpc::Status s = client.register_broker(1);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  void TearDown() override {
    if (load_) load_->stop();
    if (HasFailure() && cluster_) {
      std::cerr << cluster_->diagnostics();
      cluster_->keep();
    }
  }

  milliseconds election_bound() const {
    return milliseconds(10 * cluster_->options().election_ms) + kSlack;
  }

  std::vector<std::string> endpoints(std::vector<std::uint64_t> ids = {}) const {
    if (ids.empty()) ids = cluster_->ids();
    std::vector<std::string> out;
    for (std::uint64_t id : ids) out.push_back(cluster_->client_address(id));
    return out;
  }

  std::vector<std::uint64_t> others(std::uint64_t id) const {
    std::vector<std::uint64_t> out;
    for (std::uint64_t m : cluster_->ids()) {
      if (m != id) out.push_back(m);
    }
    return out;
  }

  void start_load(std::vector<std::uint64_t> members) {
    load_ =
        std::make_unique<WriteLoad>(endpoints(members), cluster_->options().cluster_id, "load-");
  }

  // Polls /livez of `id` every 20 ms until it answers `code`; returns when it
  // was observed (the time the answer arrived).
  std::optional<Clock::time_point> wait_livez(std::uint64_t id, int code, milliseconds timeout,
                                              std::string* body = nullptr) const {
    std::optional<Clock::time_point> seen;
    ProcessCluster::wait_until(
        [&] {
          const HttpResponse r = cluster_->http(id, "GET", "/livez", "", milliseconds(1000));
          if (r.status != code) return false;
          seen = Clock::now();
          if (body != nullptr) *body = r.body;
          return true;
        },
        timeout, milliseconds(20));
    return seen;
  }

  // The parts a /livez body names as stalled.
  static std::vector<std::string> stalled_parts(const std::string& body) {
    std::vector<std::string> parts;
    const auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded()) return parts;
    const nlohmann::json* stalled = nullptr;
    if (j.contains("stalled")) stalled = &j["stalled"];
    if (stalled == nullptr && j.contains("health") && j["health"].contains("stalled")) {
      stalled = &j["health"]["stalled"];
    }
    if (stalled == nullptr || !stalled->is_array()) return parts;
    for (const auto& s : *stalled) parts.push_back(s.value("part", ""));
    return parts;
  }

  // How long ago (ms) the named loop last progressed, from /status, and when
  // the request was sent. For lower bounds: a stall of that part cannot be
  // reported before sent - age + limit.
  struct ProgressAge {
    Clock::time_point sent;
    std::int64_t age_ms = -1;
  };
  ProgressAge progress_age(std::uint64_t id, const std::string& loop,
                           const std::string& field) const {
    ProgressAge out;
    out.sent = Clock::now();
    const MemberView v = cluster_->view(id, milliseconds(1000));
    if (!v.answered) return out;
    const auto& p = v.raw["progress"][loop][field];
    if (p.is_number()) out.age_ms = p.get<std::int64_t>();
    return out;
  }

  std::unique_ptr<ProcessCluster> cluster_;
  std::unique_ptr<WriteLoad> load_;
};

inline std::int64_t ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration_cast<milliseconds>(b - a).count();
}

}  // namespace raftmeta::e2e
