// HealthServer over real HTTP on 127.0.0.1: every endpoint's status code and
// body, stalls judged at request time, the failpoint routes enabled and not,
// and the prometheus-cpp rendering of /metrics.
#include "sidecar/health/health_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <memory>
#include <random>
#include <sstream>

#include "sidecar/health/metrics_prometheus.h"

namespace raftmeta::health {
namespace {

using nlohmann::json;

constexpr std::int64_t kMs = 1'000'000;

struct Reply {
  int status = 0;
  std::string content_type;
  std::string body;
  json json_body() const { return json::parse(body); }
};

// A one-shot HTTP/1.1 client over a plain socket (Connection: close).
Reply http(int port, const std::string& method, const std::string& path,
           const std::string& body = {}) {
  Reply reply;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_GE(fd, 0);
  timeval timeout{30, 0};  // only a hang would reach it
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ADD_FAILURE() << "connect to port " << port << " failed";
    ::close(fd);
    return reply;
  }
  const std::string request = method + " " + path +
                              " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                              "Content-Length: " +
                              std::to_string(body.size()) + "\r\n\r\n" + body;
  EXPECT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  std::string raw;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    raw.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  const auto header_end = raw.find("\r\n\r\n");
  if (header_end == std::string::npos) {
    ADD_FAILURE() << "no complete response to " << method << " " << path << ": " << raw;
    return reply;
  }
  const std::string head = raw.substr(0, header_end);
  reply.body = raw.substr(header_end + 4);
  std::istringstream lines(head);
  std::string line;
  std::getline(lines, line);
  std::istringstream status_line(line);
  std::string version;
  status_line >> version >> reply.status;
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const std::string value = line.substr(line.find_first_not_of(' ', colon + 1));
    if (name == "content-type") reply.content_type = value;
    EXPECT_FALSE(name == "transfer-encoding") << "unexpected chunked response";
  }
  return reply;
}

// Samples of a text exposition: "name{labels}" -> value.
std::map<std::string, double> parse_samples(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto space = line.rfind(' ');
    const std::string value = line.substr(space + 1);
    out[line.substr(0, space)] =
        value == "+Inf" ? std::numeric_limits<double>::infinity() : std::stod(value);
  }
  return out;
}

class HealthServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    publish_view([](MemberHealthView& v) {
      v.id = 2;
      v.role = "follower";
      v.term = 5;
      v.leader = 1;
      v.voter = true;
      v.commit_index = 40;
      v.applied_index = 40;
      v.leader_commit = 40;
      v.last_index = 41;
      v.extra = {{"cluster_id", "c-1"}};
    });
    // Healthy, started a minute ago, the Raft loop turning "now".
    stamps_.mark_startup_done(now() - 60'000 * kMs);
    stamps_.note_raft_turn(now());
    stamps_.note_applied(40, now());
  }
  void TearDown() override {
    if (server_) server_->stop();
  }

  // The status provider a node would supply: an atomically published
  // immutable view, read without locks.
  template <typename F>
  void publish_view(F change) {
    auto next = std::make_shared<MemberHealthView>(*view_.load());
    change(*next);
    view_.store(next);
  }

  // Starts on a random port in 20000-60000, retrying if taken.
  void start(bool failpoints_enabled = false) {
    failpoints_ = std::make_unique<FailpointRegistry>(failpoints_enabled);
    std::mt19937 rng(std::random_device{}());
    std::uniform_int_distribution<int> ports(20000, 60000);
    std::string last_error;
    for (int attempt = 0; attempt < 50; ++attempt) {
      port_ = ports(rng);
      HealthServerOptions options;
      options.listen = "127.0.0.1:" + std::to_string(port_);
      options.limits = {5'000, 10'000, 20'000};
      options.now_ns = [this] { return now_.load(); };
      options.ready_max_apply_lag = 10;
      server_ = std::make_unique<HealthServer>(
          options, stamps_, metrics_, [this] { return *view_.load(); }, failpoints_.get());
      last_error = server_->start();
      if (last_error.empty()) return;
    }
    FAIL() << "could not listen: " << last_error;
  }

  // The server judges the stamps against this fake monotonic clock, so no
  // test depends on the real time (or on how long ago the machine booted).
  std::int64_t now() const { return now_.load(); }
  std::atomic<std::int64_t> now_{1'000'000'000 * kMs};

  ProgressStamps stamps_;
  NodeMetrics metrics_;
  std::atomic<std::shared_ptr<const MemberHealthView>> view_{
      std::make_shared<const MemberHealthView>()};
  std::unique_ptr<FailpointRegistry> failpoints_;
  std::unique_ptr<HealthServer> server_;
  int port_ = 0;
};

TEST_F(HealthServerTest, StartupzIs503UntilStartupDone) {
  stamps_.startup_done = false;
  start();
  Reply r = http(port_, "GET", "/startupz");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.json_body()["started"], false);
  stamps_.mark_startup_done(now());
  r = http(port_, "GET", "/startupz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.json_body()["started"], true);
}

TEST_F(HealthServerTest, LivezIs200WhenProgressingAndCarriesLeaderState) {
  start();
  const Reply r = http(port_, "GET", "/livez");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  const json j = r.json_body();
  EXPECT_EQ(j["live"], true);
  EXPECT_EQ(j["summary"], "ok");
  EXPECT_EQ(j["stalled"], json::array());
  EXPECT_EQ(j["role"], "follower");
  EXPECT_EQ(j["term"], 5);
  EXPECT_EQ(j["leader"], 1);
}

TEST_F(HealthServerTest, LivezStays200WithoutLeaderOrQuorum) {
  publish_view([](MemberHealthView& v) {
    v.role = "pre_candidate";
    v.leader = 0;
  });
  start();
  const Reply r = http(port_, "GET", "/livez");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.json_body()["leader"], 0);
  EXPECT_EQ(r.json_body()["role"], "pre_candidate");
}

TEST_F(HealthServerTest, LivezIs503NamingTheStalledPartJudgedAtRequestTime) {
  start();
  EXPECT_EQ(http(port_, "GET", "/livez").status, 200);
  // Entries have waited 60 s with no apply progress (limit 10 s). No watchdog
  // runs: the request itself judges the stamps.
  stamps_.note_applied(40, now() - 60'000 * kMs);
  stamps_.apply_wait_started_ns = now() - 60'000 * kMs;
  stamps_.apply_queued_index = 45;
  const Reply r = http(port_, "GET", "/livez");
  EXPECT_EQ(r.status, 503);
  const json j = r.json_body();
  EXPECT_EQ(j["live"], false);
  ASSERT_EQ(j["stalled"].size(), 1u);
  EXPECT_EQ(j["stalled"][0]["part"], "apply_loop");
  EXPECT_EQ(j["stalled"][0]["stalled_for_ms"], 60'000);
  EXPECT_EQ(j["stalled"][0]["limit_ms"], 10'000);
  EXPECT_NE(j["summary"].get<std::string>().find("apply_loop stalled for"), std::string::npos);
  EXPECT_EQ(j["leader"], 1);  // leader state still reported
  // /status and /metrics say the same.
  EXPECT_EQ(http(port_, "GET", "/status").json_body()["health"]["live"], false);
  EXPECT_EQ(parse_samples(http(port_, "GET", "/metrics").body)
                .at("raftmeta_stalled{part=\"apply_loop\"}"),
            1);
  // A later request sees the stall grow.
  now_ += 1500 * kMs;
  EXPECT_EQ(http(port_, "GET", "/livez").json_body()["stalled"][0]["stalled_for_ms"], 61'500);
  stamps_.note_raft_turn(now());
  // Progress resumes: live again.
  stamps_.note_applied(45, now());
  EXPECT_EQ(http(port_, "GET", "/livez").status, 200);
}

TEST_F(HealthServerTest, LivezNeverFailsDuringStartupReplay) {
  ProgressStamps& s = stamps_;
  s.startup_done = false;
  s.begin_storage_write(now() - 120'000 * kMs);  // a "replay" write two minutes old
  start();
  const Reply r = http(port_, "GET", "/livez");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.json_body()["summary"], "starting");
  EXPECT_EQ(http(port_, "GET", "/startupz").status, 503);
}

TEST_F(HealthServerTest, ReadyzRequiresLeaderVoterAndCatchUp) {
  start();
  Reply r = http(port_, "GET", "/readyz");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json_body()["ready"], true);

  publish_view([](MemberHealthView& v) { v.leader = 0; });
  r = http(port_, "GET", "/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.json_body()["reasons"][0], "no leader known");
  EXPECT_EQ(http(port_, "GET", "/livez").status, 200);

  publish_view([](MemberHealthView& v) {
    v.leader = 1;
    v.voter = false;
  });
  r = http(port_, "GET", "/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.json_body()["reasons"][0], "not a voter");

  publish_view([](MemberHealthView& v) {
    v.voter = true;
    v.leader_commit = 50;  // 10 behind: within the allowed lag of 10
  });
  EXPECT_EQ(http(port_, "GET", "/readyz").status, 200);
  publish_view([](MemberHealthView& v) { v.leader_commit = 51; });
  r = http(port_, "GET", "/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.json_body()["apply_lag"], 11);
  EXPECT_NE(r.json_body()["reasons"][0].get<std::string>().find("11 behind"), std::string::npos);
}

TEST_F(HealthServerTest, ReadyzIs503WhenNotLive) {
  start();
  stamps_.begin_storage_write(now() - 120'000 * kMs);  // stuck for two minutes (limit 20 s)
  const Reply r = http(port_, "GET", "/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.json_body()["live"], false);
}

TEST_F(HealthServerTest, StatusReportsViewProgressAndHealth) {
  metrics_.stalls_detected_total[static_cast<int>(Part::kStorage)] = 2;
  start();
  stamps_.note_apply_queued(40, now());
  const Reply r = http(port_, "GET", "/status");
  ASSERT_EQ(r.status, 200);
  const json j = r.json_body();
  EXPECT_EQ(j["id"], 2);
  EXPECT_EQ(j["role"], "follower");
  EXPECT_EQ(j["term"], 5);
  EXPECT_EQ(j["leader"], 1);
  EXPECT_EQ(j["commit_index"], 40);
  EXPECT_EQ(j["applied_index"], 40);
  EXPECT_EQ(j["last_index"], 41);
  EXPECT_EQ(j["cluster_id"], "c-1");  // extra, merged
  EXPECT_EQ(j["health"]["live"], true);
  EXPECT_EQ(j["health"]["stalls_detected"]["storage"], 2);
  EXPECT_EQ(j["progress"]["raft_loop"]["turns"], 1);
  EXPECT_GE(j["progress"]["raft_loop"]["last_turn_age_ms"].get<std::int64_t>(), 0);
  EXPECT_EQ(j["progress"]["apply_loop"]["queued_index"], 40);
  EXPECT_EQ(j["progress"]["storage"]["write_in_progress"], false);
  EXPECT_TRUE(j["progress"]["storage"]["write_age_ms"].is_null());
}

TEST_F(HealthServerTest, StatusProviderFailureDoesNotDecideLiveness) {
  failpoints_ = nullptr;
  HealthServerOptions options;
  options.now_ns = [this] { return now(); };
  HealthServer throwing(
      options, stamps_, metrics_,
      []() -> MemberHealthView { throw std::runtime_error("snapshot unavailable"); }, nullptr);
  const HttpResponse r = throwing.handle({"GET", "/livez", ""});
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(json::parse(r.body)["status_error"].get<std::string>().find("snapshot unavailable"),
            std::string::npos);
  EXPECT_EQ(throwing.handle({"GET", "/readyz", ""}).status, 503);
}

TEST_F(HealthServerTest, MetricsArePrometheusText) {
  metrics_.term = 9;
  metrics_.count_proposal(ProposalResult::kFailed);
  metrics_.observe_read(ReadConsistency::kStale, 0.002);
  start();
  const Reply r = http(port_, "GET", "/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type.rfind("text/plain; version=0.0.4", 0), 0u) << r.content_type;
  EXPECT_NE(r.body.find("# TYPE raftmeta_term gauge"), std::string::npos);
  EXPECT_NE(r.body.find("# TYPE raftmeta_read_seconds histogram"), std::string::npos);
  const auto samples = parse_samples(r.body);
  EXPECT_EQ(samples.at("raftmeta_term"), 9);
  EXPECT_EQ(samples.at("raftmeta_proposals_total{result=\"failed\"}"), 1);
  EXPECT_EQ(samples.at("raftmeta_read_seconds_count{consistency=\"stale\"}"), 1);
  EXPECT_EQ(samples.at("raftmeta_stalled{part=\"raft_loop\"}"), 0);
}

TEST_F(HealthServerTest, PrometheusCppAndOwnRendererAgree) {
  metrics_.term = 3;
  metrics_.commit_index = 12;
  metrics_.raft_loop_turn_seconds.observe(0.0003);
  metrics_.observe_read(ReadConsistency::kLinearizable, 0.7);
  const auto families = collect_metric_families(metrics_, HealthVerdict{});
  const auto ours = parse_samples(render_prometheus_text(families));
  const auto theirs = parse_samples(render_metrics_with_prometheus_cpp(families));
  // Bucket labels may be formatted differently; compare everything else and
  // the bucket counts by position.
  auto without_buckets = [](const std::map<std::string, double>& m) {
    std::map<std::string, double> out;
    for (const auto& [k, v] : m) {
      if (k.find("_bucket{") == std::string::npos) out[k] = v;
    }
    return out;
  };
  EXPECT_EQ(without_buckets(ours), without_buckets(theirs));
  std::size_t ours_buckets = 0, theirs_buckets = 0;
  for (const auto& [k, v] : ours) ours_buckets += k.find("_bucket{") != std::string::npos;
  for (const auto& [k, v] : theirs) theirs_buckets += k.find("_bucket{") != std::string::npos;
  EXPECT_EQ(ours_buckets, theirs_buckets);
  EXPECT_GT(ours_buckets, 0u);
}

TEST_F(HealthServerTest, FailpointRoutesAre404WhenDisabled) {
  start(/*failpoints_enabled=*/false);
  EXPECT_EQ(http(port_, "GET", "/failpoints").status, 404);
  const Reply r = http(port_, "PUT", "/failpoints/apply-loop", "block");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.json_body()["error"].get<std::string>().find("not enabled"), std::string::npos);
  EXPECT_FALSE(failpoints_->eval(kFailpointApplyLoop));
}

TEST_F(HealthServerTest, FailpointRoutesListAndSetWhenEnabled) {
  start(/*failpoints_enabled=*/true);
  Reply r = http(port_, "GET", "/failpoints");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.json_body()["failpoints"].size(), 5u);

  r = http(port_, "PUT", "/failpoints/persist", "error");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json_body()["action"], "error");
  EXPECT_TRUE(failpoints_->eval(kFailpointPersist));

  r = http(port_, "PUT", "/failpoints/persist", "sleep(25)");
  EXPECT_EQ(r.status, 200);
  const json listed = http(port_, "GET", "/failpoints").json_body();
  bool found = false;
  for (const auto& p : listed["failpoints"]) {
    if (p["name"] == "persist") {
      found = true;
      EXPECT_EQ(p["action"], "sleep(25)");
      EXPECT_EQ(p["hits"], 1);
    }
  }
  EXPECT_TRUE(found);

  r = http(port_, "PUT", "/failpoints/persist", "sleep(soon)");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.json_body()["error"].get<std::string>().find("bad failpoint action"),
            std::string::npos);
  EXPECT_EQ(http(port_, "PUT", "/failpoints/no-such-point", "off").status, 404);
  EXPECT_EQ(http(port_, "GET", "/failpoints/persist").status, 405);
  EXPECT_EQ(http(port_, "PUT", "/failpoints/persist", "off").status, 200);
  EXPECT_FALSE(failpoints_->eval(kFailpointPersist));
}

TEST_F(HealthServerTest, AnswersWhileAFailpointBlocksAnotherThread) {
  start(/*failpoints_enabled=*/true);
  ASSERT_EQ(http(port_, "PUT", "/failpoints/apply-loop", "block").status, 200);
  std::thread apply([&] { failpoints_->eval(kFailpointApplyLoop); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  bool blocked = false;
  while (!blocked && std::chrono::steady_clock::now() < deadline) {
    const json listed = http(port_, "GET", "/failpoints").json_body();
    for (const auto& p : listed["failpoints"]) {
      blocked = blocked || (p["name"] == "apply-loop" && p["blocked_threads"] == 1);
    }
  }
  EXPECT_TRUE(blocked);
  EXPECT_EQ(http(port_, "GET", "/livez").status, 200);
  EXPECT_EQ(http(port_, "GET", "/status").status, 200);
  EXPECT_EQ(http(port_, "PUT", "/failpoints/apply-loop", "off").status, 200);
  apply.join();
}

TEST_F(HealthServerTest, UnknownPathsAndMethods) {
  start();
  EXPECT_EQ(http(port_, "GET", "/nope").status, 404);
  EXPECT_EQ(http(port_, "POST", "/livez").status, 405);
}

TEST(HealthServerStart, RejectsABadListenAddress) {
  ProgressStamps stamps;
  NodeMetrics metrics;
  HealthServerOptions options;
  options.listen = "no-port";
  HealthServer server(options, stamps, metrics, {}, nullptr);
  EXPECT_NE(server.start().find("bad --listen-http address"), std::string::npos);
}

TEST(HealthServerStart, ReportsAPortInUse) {
  // Another process's listener, as far as the server can tell: a plain socket
  // bound to an ephemeral port on 127.0.0.1.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int port = ntohs(addr.sin_port);

  ProgressStamps stamps;
  NodeMetrics metrics;
  HealthServerOptions options;
  options.listen = "127.0.0.1:" + std::to_string(port);
  HealthServer server(options, stamps, metrics, {}, nullptr);
  EXPECT_NE(server.start().find("cannot listen on 127.0.0.1:" + std::to_string(port)),
            std::string::npos);
  ::close(fd);
}

}  // namespace
}  // namespace raftmeta::health
