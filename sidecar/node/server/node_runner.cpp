#include "sidecar/node/server/node_runner.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>

#include "sidecar/health/failpoints.h"
#include "sidecar/health/health_server.h"
#include "sidecar/health/metrics.h"
#include "sidecar/health/progress.h"
#include "sidecar/health/stall_watchdog.h"
#include "sidecar/node/grpc_transport.h"
#include "sidecar/node/node.h"
#include "sidecar/node/server/admin_service.h"
#include "sidecar/node/server/client_server.h"
#include "sidecar/node/server/leadership_log.h"
#include "sidecar/node/server/log_setup.h"
#include "sidecar/node/server/metadata_service.h"
#include "sidecar/node/server/node_flags.h"
#include "sidecar/node/server/node_health_view.h"
#include "sidecar/node/server/request_executor.h"
#include "sidecar/node/server/shutdown_signals.h"
#include "sidecar/node/server/watch_hub.h"
#include "sidecar/node/state/broker_sessions.h"
#include "sidecar/node/state/metadata_state_machine.h"

namespace raftmeta::node::server {
namespace {

constexpr int kExitClean = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

// A failpoint on the start path, just before storage opens and the log is
// replayed (only with --enable-failpoints; set it through RAFTMETA_FAILPOINTS).
constexpr std::string_view kFailpointStartupReplay = "startup-replay";

// Workers for the calls that still block: Admin operations and serving
// list reads after their barrier (Metadata writes and point reads wait on
// nobody: see metadata_service.h), and calls that may queue for them.
constexpr std::size_t kRequestWorkers = 8;
constexpr std::size_t kRequestQueue = 1024;
// Metadata writes and non-stale reads waiting on the node at once.
constexpr std::size_t kMaxMetadataInFlight = 4096;
// Longest a client call waits on the node when the client set no deadline.
constexpr std::chrono::milliseconds kMaxCallTime{10000};

// The address clients are sent to when this member leads: --listen-client
// when it names a host, else the host of the advertised peer address with
// the client port.
std::string advertised_client_address(const NodeFlags& f) {
  const std::string& listen = f.listen_client;
  const std::size_t colon = listen.rfind(':');
  const std::string host = listen.substr(0, colon);
  if (host != "0.0.0.0" && host != "[::]" && host != "::") return listen;
  if (f.advertise_peer.empty()) return listen;
  const std::size_t peer_colon = f.advertise_peer.rfind(':');
  return f.advertise_peer.substr(0, peer_colon) + listen.substr(colon);
}

NodeOptions node_options(const NodeFlags& f) {
  NodeOptions o;
  o.id = f.id;
  o.cluster_id = f.cluster_id;
  o.data_dir = f.data_dir;
  o.peer_address = f.advertise_peer.empty() ? f.listen_peer : f.advertise_peer;
  o.client_address = advertised_client_address(f);
  for (const InitialMember& m : f.initial_members) o.initial_members[m.id] = m.peer_address;
  o.join = f.join;
  o.heartbeat_ms = static_cast<int>(f.heartbeat_ms);
  o.election_ms = static_cast<int>(f.election_ms);
  o.loop_stall_ms = static_cast<int>(f.loop_stall_ms);
  o.apply_stall_ms = static_cast<int>(f.apply_stall_ms);
  o.storage_stall_ms = static_cast<int>(f.storage_stall_ms);
  o.snapshot_entries = f.snapshot_entries;
  o.shutdown_timeout_ms = static_cast<int>(f.shutdown_timeout_ms);
  o.max_request_bytes = f.max_request_bytes;
  o.enable_failpoints = f.enable_failpoints;
  return o;
}

// Exits the process if shutdown has not finished by its deadline: the
// contract is that a node never outlives --shutdown-timeout-ms by much,
// whatever is stuck.
class ShutdownDeadline {
 public:
  ShutdownDeadline(std::chrono::steady_clock::time_point deadline, std::int64_t timeout_ms) {
    thread_ = std::thread([this, deadline, timeout_ms] {
      pthread_setname_np(pthread_self(), "shutdown-limit");
      std::unique_lock lock(mu_);
      if (cv_.wait_until(lock, deadline, [&] { return done_; })) return;
      spdlog::error("shutdown did not finish within --shutdown-timeout-ms={}: exiting anyway",
                    timeout_ms);
      spdlog::default_logger()->flush();
      ::_exit(kExitFailure);
    });
  }
  ~ShutdownDeadline() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace

int run_node(int argc, char** argv) {
  // Before any thread exists (gRPC, spdlog, ours): see shutdown_signals.h.
  ShutdownSignals::block();

  const ParsedFlags parsed = parse_node_flags(argc, argv);
  if (parsed.outcome == ParsedFlags::Outcome::kPrintAndExit) {
    std::cout << parsed.message;
    return kExitClean;
  }
  if (parsed.outcome == ParsedFlags::Outcome::kUsageError) {
    std::cerr << "raftmeta-node: " << parsed.message << "\n";
    return kExitUsage;
  }
  const NodeFlags& f = parsed.flags;
  setup_logging(f.log_level, f.log_format);
  spdlog::info(
      "member {} of cluster {} starting (data in {}, peers on {}, clients on {}, "
      "health on {}{})",
      f.id, f.cluster_id, f.data_dir, f.listen_peer, f.listen_client, f.listen_http,
      f.enable_failpoints ? ", failpoints ENABLED" : "");

  std::mutex stop_mu;
  std::condition_variable stop_cv;
  int stop_signal = 0;
  ShutdownSignals signals([&](int signo) {
    {
      std::lock_guard lock(stop_mu);
      stop_signal = signo;
    }
    stop_cv.notify_all();
  });

  health::FailpointRegistry failpoints(f.enable_failpoints);
  failpoints.add(kFailpointStartupReplay);
  if (const std::string error = failpoints.load_from_environment(); !error.empty()) {
    spdlog::error("{}: {}", health::kFailpointsEnvVar, error);
    return kExitUsage;
  }
  health::ProgressStamps stamps;
  health::NodeMetrics metrics;
  const health::StallLimits limits{f.loop_stall_ms, f.apply_stall_ms, f.storage_stall_ms};
  health::StallWatchdog watchdog(stamps, limits, &metrics);
  watchdog.start();

  // The health server answers from the start; until the node exists its
  // status view says "starting".
  std::atomic<Node*> published_node{nullptr};
  health::HealthServerOptions health_options;
  health_options.listen = f.listen_http;
  health_options.limits = limits;
  health::HealthServer health_server(health_options, stamps, metrics,
                                     status_provider_for(&published_node, f.id), &failpoints);
  if (const std::string error = health_server.start(); !error.empty()) {
    spdlog::critical("cannot serve health endpoints on {}: {}", f.listen_http, error);
    return kExitFailure;
  }

  auto state_machine = std::make_shared<state::MetadataStateMachine>();
  GrpcTransportOptions transport_options;
  transport_options.listen_address = f.listen_peer;
  transport_options.max_message_bytes =
      std::max<std::size_t>(transport_options.max_message_bytes, f.max_request_bytes + (1u << 20));
  auto transport = std::make_unique<GrpcTransport>(transport_options);
  std::string error;
  if (!transport->listen(&error)) {
    spdlog::critical("member {} cannot listen for peers on {}: {}", f.id, f.listen_peer, error);
    return kExitFailure;
  }
  // Storage opens and the log is replayed inside Node::start: a test can
  // make that take as long as a huge log would (set from RAFTMETA_FAILPOINTS).
  failpoints.eval(kFailpointStartupReplay);
  NodeOptions options = node_options(f);
  // While leading, fence brokers whose sessions expired: the leader proposes
  // a FenceBrokers command stamped with its own clock, so every member
  // applies the same decision.
  options.leader_command = [state_machine](std::int64_t now_ms) {
    return state::make_fence_command(state::expired_brokers(*state_machine->current(), now_ms),
                                     now_ms);
  };
  // Forwarded writes (heartbeats included) are re-stamped with the clock of
  // the member that proposes them: a follower whose clock lags must not make
  // a live broker look expired.
  options.restamp_forwarded = state::restamp_leader_time;
  std::unique_ptr<Node> node = Node::start(options, state_machine, transport.get(),
                                           NodeHealth{&stamps, &failpoints, &metrics}, &error);
  if (!node) {
    spdlog::critical("member {} of cluster {} cannot start: {}", f.id, f.cluster_id, error);
    return kExitFailure;
  }
  published_node.store(node.get(), std::memory_order_release);

  RequestExecutor executor(kRequestWorkers, kRequestQueue);
  ServiceContext context;
  context.node = node.get();
  context.executor = &executor;
  context.metrics = &metrics;
  context.current_state = [state_machine] { return state_machine->current(); };
  context.cluster_id = f.cluster_id;
  context.max_call_time = kMaxCallTime;
  WatchHub watch_hub(context.current_state, f.cluster_id);
  watch_hub.start();
  MetadataService metadata_service(context, &watch_hub, kMaxMetadataInFlight);
  AdminService admin_service(context);
  ClientServer client_server({f.listen_client, f.max_request_bytes},
                             {&metadata_service, &admin_service});
  if (const std::string server_error = client_server.start(); !server_error.empty()) {
    spdlog::critical("member {} cannot serve clients: {}", f.id, server_error);
    watch_hub.stop();
    node->shutdown(Clock::now() + std::chrono::milliseconds(f.shutdown_timeout_ms));
    published_node.store(nullptr, std::memory_order_release);
    return kExitFailure;
  }
  std::optional<LeadershipLog> leadership_log;
  leadership_log.emplace(node.get(), std::chrono::milliseconds(100));
  spdlog::info("member {} of cluster {} started: clients on {} (advertised {}), peers on {}", f.id,
               f.cluster_id, f.listen_client, advertised_client_address(f), f.listen_peer);

  int signo = 0;
  {
    std::unique_lock lock(stop_mu);
    stop_cv.wait(lock, [&] { return stop_signal != 0; });
    signo = stop_signal;
  }
  const auto started = Clock::now();
  const Deadline deadline = started + std::chrono::milliseconds(f.shutdown_timeout_ms);
  ShutdownDeadline limit(deadline, f.shutdown_timeout_ms);
  spdlog::info("member {} shutting down on {} (within {} ms)", f.id,
               signo == SIGTERM ? "SIGTERM" : "SIGINT", f.shutdown_timeout_ms);

  watch_hub.stop();
  const bool node_clean = node->shutdown(deadline);
  // Calls still running get the node's answer (it has stopped: UNAVAILABLE)
  // or are cancelled at the deadline.
  const auto left = deadline - Clock::now();
  client_server.shutdown(std::chrono::system_clock::now() +
                         std::chrono::duration_cast<std::chrono::system_clock::duration>(
                             std::max(left, Clock::duration::zero())));
  executor.stop();
  leadership_log.reset();
  published_node.store(nullptr, std::memory_order_release);
  health_server.stop();
  watchdog.stop();
  node.reset();

  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  if (!node_clean) {
    spdlog::error("member {} stopped after {} ms, but not cleanly (see above)", f.id, took.count());
    return kExitFailure;
  }
  spdlog::info("member {} stopped cleanly in {} ms", f.id, took.count());
  return kExitClean;
}

}  // namespace raftmeta::node::server
