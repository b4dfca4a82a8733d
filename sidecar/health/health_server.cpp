#include "sidecar/health/health_server.h"

#include <spdlog/spdlog.h>

#include <charconv>

#include "sidecar/health/metrics_prometheus.h"

namespace raftmeta::health {
namespace {

using nlohmann::json;

constexpr std::string_view kFailpointsRoute = "/failpoints";

HttpResponse json_response(int status, const json& body) {
  return {status, "application/json", body.dump() + "\n"};
}

HttpResponse error_response(int status, std::string message) {
  return json_response(status, {{"error", std::move(message)}});
}

// Milliseconds since `stamp_ns`, or null when never stamped.
json age_ms(std::int64_t stamp_ns, std::int64_t now_ns) {
  if (stamp_ns <= 0) return nullptr;
  return (now_ns - stamp_ns) / 1'000'000;
}

// The provider's view, or an error object if it threw.
struct ViewOrError {
  MemberHealthView view;
  std::string error;
};
ViewOrError read_view(const StatusProvider& provider) {
  ViewOrError out;
  if (!provider) {
    out.error = "no status provider";
    return out;
  }
  try {
    out.view = provider();
  } catch (const std::exception& e) {
    out.error = std::string("status provider failed: ") + e.what();
  }
  return out;
}

bool split_host_port(const std::string& listen, std::string* host, int* port) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  *host = listen.substr(0, colon);
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  const std::string_view digits(listen.data() + colon + 1, listen.size() - colon - 1);
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), *port);
  return ec == std::errc() && end == digits.data() + digits.size() && *port >= 0 && *port <= 65535;
}

}  // namespace

HealthServer::HealthServer(HealthServerOptions options, const ProgressStamps& stamps,
                           const NodeMetrics& metrics, StatusProvider status,
                           FailpointRegistry* failpoints)
    : options_(std::move(options)),
      stamps_(stamps),
      metrics_(metrics),
      status_(std::move(status)),
      failpoints_(failpoints) {}

HealthServer::~HealthServer() { stop(); }

std::string HealthServer::start() {
  std::string host;
  int port = 0;
  if (!split_host_port(options_.listen, &host, &port)) {
    return "bad --listen-http address '" + options_.listen + "': expected host:port";
  }
  std::string error;
  transport_ = start_cpprest_transport(
      host, port, [this](const HttpRequest& r) { return handle(r); }, &error);
  if (!transport_) return error;
  spdlog::info("health http listening on {}", options_.listen);
  return {};
}

void HealthServer::stop() {
  if (transport_) {
    transport_->stop();
    transport_.reset();
  }
}

HealthVerdict HealthServer::verdict_now() const {
  return judge(snapshot(stamps_), options_.now_ns(), options_.limits);
}

HttpResponse HealthServer::handle(const HttpRequest& request) const {
  const std::string& path = request.path;
  if (path == kFailpointsRoute || path.starts_with(std::string(kFailpointsRoute) + "/")) {
    return failpoints(request);
  }
  const bool known = path == "/startupz" || path == "/livez" || path == "/readyz" ||
                     path == "/status" || path == "/metrics";
  if (!known) return error_response(404, "no such endpoint: " + path);
  if (request.method != "GET") {
    return error_response(405, "only GET is allowed on " + path);
  }
  if (path == "/startupz") return startupz();
  if (path == "/livez") return livez();
  if (path == "/readyz") return readyz();
  if (path == "/status") return status();
  return metrics();
}

HttpResponse HealthServer::startupz() const {
  const bool done = stamps_.startup_done.load(std::memory_order_acquire);
  return json_response(done ? 200 : 503, {{"started", done}});
}

HttpResponse HealthServer::livez() const {
  const HealthVerdict verdict = verdict_now();
  json body = verdict.to_json();
  // Leader state for people and the operator; it never decides the code.
  const ViewOrError v = read_view(status_);
  body["role"] = v.view.role;
  body["term"] = v.view.term;
  body["leader"] = v.view.leader;
  if (!v.error.empty()) body["status_error"] = v.error;
  return json_response(verdict.live() ? 200 : 503, body);
}

HttpResponse HealthServer::readyz() const {
  const HealthVerdict verdict = verdict_now();
  const ViewOrError v = read_view(status_);
  const std::uint64_t target =
      v.view.leader_commit != 0 ? v.view.leader_commit : v.view.commit_index;
  const std::uint64_t lag = target > v.view.applied_index ? target - v.view.applied_index : 0;
  json reasons = json::array();
  if (!v.error.empty()) reasons.push_back(v.error);
  if (!verdict.startup_done) reasons.push_back("start-up not done");
  if (!verdict.live()) reasons.push_back("not live: " + verdict.summary());
  if (v.view.leader == 0) reasons.push_back("no leader known");
  if (!v.view.voter) reasons.push_back("not a voter");
  if (lag > options_.ready_max_apply_lag) {
    reasons.push_back("applied index " + std::to_string(v.view.applied_index) + " is " +
                      std::to_string(lag) + " behind the leader's commit " +
                      std::to_string(target) + " (max " +
                      std::to_string(options_.ready_max_apply_lag) + ")");
  }
  const bool ready = reasons.empty();
  return json_response(ready ? 200 : 503, {{"ready", ready},
                                           {"reasons", reasons},
                                           {"live", verdict.live()},
                                           {"leader", v.view.leader},
                                           {"voter", v.view.voter},
                                           {"apply_lag", lag}});
}

HttpResponse HealthServer::status() const {
  const ProgressSnapshot p = snapshot(stamps_);
  const std::int64_t now = options_.now_ns();
  const HealthVerdict verdict = judge(p, now, options_.limits);
  const ViewOrError v = read_view(status_);
  json body = {{"id", v.view.id},
               {"role", v.view.role},
               {"term", v.view.term},
               {"leader", v.view.leader},
               {"voter", v.view.voter},
               {"commit_index", v.view.commit_index},
               {"applied_index", v.view.applied_index},
               {"leader_commit", v.view.leader_commit},
               {"last_index", v.view.last_index},
               {"snapshot_index", v.view.snapshot_index}};
  if (v.view.extra.is_object()) {
    for (const auto& [key, value] : v.view.extra.items()) body[key] = value;
  }
  if (!v.error.empty()) body["status_error"] = v.error;
  body["health"] = verdict.to_json();
  json detected = json::object();
  for (Part part : kAllParts) {
    detected[std::string(part_name(part))] =
        metrics_.stalls_detected_total[static_cast<int>(part)].load(std::memory_order_relaxed);
  }
  body["health"]["stalls_detected"] = detected;
  body["progress"] = {
      {"startup_done", p.startup_done},
      {"raft_loop",
       {{"turns", p.raft_loop_turns}, {"last_turn_age_ms", age_ms(p.raft_loop_turn_ns, now)}}},
      {"apply_loop",
       {{"applied_index", p.applied_index},
        {"queued_index", p.apply_queued_index},
        {"last_progress_age_ms", age_ms(p.apply_progress_ns, now)}}},
      {"storage",
       {{"writes", p.storage_writes},
        {"write_in_progress", p.storage_write_started_ns > 0},
        {"write_age_ms", age_ms(p.storage_write_started_ns, now)}}}};
  return json_response(200, body);
}

HttpResponse HealthServer::metrics() const {
  return {200, "text/plain; version=0.0.4; charset=utf-8",
          render_metrics_with_prometheus_cpp(collect_metric_families(metrics_, verdict_now()))};
}

HttpResponse HealthServer::failpoints(const HttpRequest& request) const {
  if (failpoints_ == nullptr || !failpoints_->enabled()) {
    return error_response(404,
                          "failpoints are not enabled (start the node with --enable-failpoints)");
  }
  const auto list_json = [this] {
    json points = json::array();
    for (const FailpointState& s : failpoints_->list()) {
      points.push_back({{"name", s.name},
                        {"action", s.action.to_string()},
                        {"hits", s.hits},
                        {"blocked_threads", s.blocked_threads}});
    }
    return json{{"failpoints", points}};
  };
  if (request.path == kFailpointsRoute) {
    if (request.method != "GET") return error_response(405, "use GET /failpoints");
    return json_response(200, list_json());
  }
  const std::string name = request.path.substr(kFailpointsRoute.size() + 1);
  if (request.method != "PUT") return error_response(405, "use PUT /failpoints/<name>");
  bool known = false;
  for (const FailpointState& s : failpoints_->list()) known = known || s.name == name;
  if (!known) return error_response(404, "unknown failpoint '" + name + "'");
  std::string error;
  const auto action = FailpointAction::parse(request.body, &error);
  if (!action) return error_response(400, error);
  if (std::string set_error = failpoints_->set(name, *action); !set_error.empty()) {
    return error_response(400, set_error);
  }
  return json_response(200, {{"name", name}, {"action", action->to_string()}});
}

}  // namespace raftmeta::health
