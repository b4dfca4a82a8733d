// HealthServer: the node's HTTP health surface on --listen-http.
//
//   GET /startupz  200 once ProgressStamps::startup_done, else 503.
//   GET /livez     200/503 from judge() on the stamps at request time. The JSON
//                  body names each stalled part and for how long, and carries
//                  role/term/leader from the StatusProvider, which never decide
//                  the code (no quorum or no leader is not a reason to restart).
//   GET /readyz    200 when live, a leader is known, this member is a voter and
//                  its applied index is within ready_max_apply_lag of the
//                  leader's commit; else 503 with the reasons.
//   GET /status    JSON: the StatusProvider's view, the health verdict (with
//                  the watchdog's stall counts) and the age of each loop's last
//                  progress.
//   GET /metrics   Prometheus text (prometheus-cpp's TextSerializer).
//   GET /failpoints, PUT /failpoints/<name> (body: off|block|sleep(<ms>)|error
//                  |panic): only when the registry is enabled; 404 otherwise,
//                  400 on a bad action, 404 on an unknown point.
//
// Every answer comes from atomics and the lock-free StatusProvider (see
// member_health_view.h): nothing calls into the Raft or apply loop, so the
// endpoints answer while those are stuck. Requests are served on the HTTP
// library's threads; handle() is safe for concurrent use.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "sidecar/health/failpoints.h"
#include "sidecar/health/http_transport.h"
#include "sidecar/health/member_health_view.h"
#include "sidecar/health/metrics.h"
#include "sidecar/health/progress.h"
#include "sidecar/health/stall_rules.h"

namespace raftmeta::health {

struct HealthServerOptions {
  std::string listen = "0.0.0.0:7402";  // host:port
  StallLimits limits;
  // /readyz tolerates this many committed-but-unapplied entries.
  std::uint64_t ready_max_apply_lag = 100;
  // The monotonic clock the stamps are judged against (tests inject one).
  std::function<std::int64_t()> now_ns = monotonic_ns;
};

class HealthServer {
 public:
  // All references must outlive the server. `failpoints` may be null (as if
  // disabled).
  HealthServer(HealthServerOptions options, const ProgressStamps& stamps,
               const NodeMetrics& metrics, StatusProvider status, FailpointRegistry* failpoints);
  ~HealthServer();  // stops
  HealthServer(const HealthServer&) = delete;
  HealthServer& operator=(const HealthServer&) = delete;

  // Starts listening. Returns an empty string, or why it could not.
  std::string start();
  void stop();

  // The routing and answers, without the socket (used by the transport).
  HttpResponse handle(const HttpRequest& request) const;

 private:
  HttpResponse startupz() const;
  HttpResponse livez() const;
  HttpResponse readyz() const;
  HttpResponse status() const;
  HttpResponse metrics() const;
  HttpResponse failpoints(const HttpRequest& request) const;
  HealthVerdict verdict_now() const;

  const HealthServerOptions options_;
  const ProgressStamps& stamps_;
  const NodeMetrics& metrics_;
  const StatusProvider status_;
  FailpointRegistry* const failpoints_;
  std::unique_ptr<HttpTransport> transport_;
};

}  // namespace raftmeta::health
