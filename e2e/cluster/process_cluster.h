// ProcessCluster: real raftmeta-node processes on 127.0.0.1 for multi-process
// tests. It starts members with distinct ports (a per-test port base, moved on
// if a port is taken), waits for /startupz, finds the leader through /status,
// kills, stops and continues members, drives failpoints over HTTP, and on
// request prints every member's last log lines and /status (call
// diagnostics() from a test's TearDown when it failed).
//
// Every wait polls with a deadline; nothing sleeps and hopes. Time bounds are
// the configured timers plus kSlack (scaled under sanitizers).
//
// Thread use: one owner thread (the test's); http helpers are safe from any
// thread (they only read immutable addresses).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "e2e/cluster/child_process.h"
#include "e2e/cluster/http_client.h"

namespace raftmeta::e2e {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The one tolerance of process tests: scheduling on a loaded 2-core machine.
#if defined(RAFTMETA_SANITIZER_ADDRESS) || defined(RAFTMETA_SANITIZER_THREAD)
inline constexpr milliseconds kSlack{9000};
#else
inline constexpr milliseconds kSlack{3000};
#endif

struct ClusterOptions {
  int members = 3;  // bootstrapped with --initial-members, ids 1..members
  std::string cluster_id = "e2e-cluster";
  // Where to look for free ports: each member id uses base + 3 * (id - 1)
  // + {0 peer, 1 client, 2 http}. Pick a distinct value per test binary.
  int port_base_hint = 21000;
  int heartbeat_ms = 50;
  int election_ms = 500;
  int loop_stall_ms = 1500;
  int apply_stall_ms = 2000;
  int storage_stall_ms = 2000;
  int shutdown_timeout_ms = 5000;
  std::uint64_t snapshot_entries = 0;  // 0: the node's default
  bool enable_failpoints = true;
  std::string log_level = "info";
  std::vector<std::string> extra_flags;  // appended to every member's flags
  // Optional placement hooks (the chaos network-namespace tests). When unset,
  // every member listens on 127.0.0.1 and runs the node binary directly.
  // member_host: the address a member listens on and is reached at.
  std::function<std::string(std::uint64_t id)> member_host;
  // command_prefix: words put before the node's command line (for example
  // {"/usr/sbin/ip", "netns", "exec", "<ns>"}: the prefix must exec the node
  // in place, so the child's pid stays the node's pid).
  std::function<std::vector<std::string>(std::uint64_t id)> command_prefix;
  // The node binary; empty: node_binary() (a planted-bug build sets another).
  std::string binary;
};

// The fields of /status the harness reads (the health server's JSON).
struct MemberView {
  bool answered = false;
  std::string role;  // "leader", "follower", "candidate", "pre_candidate", "learner"
  std::uint64_t term = 0;
  std::uint64_t leader_id = 0;
  std::uint64_t commit = 0;
  std::uint64_t applied = 0;
  nlohmann::json raw;
};

class ProcessCluster {
 public:
  explicit ProcessCluster(ClusterOptions options);
  ~ProcessCluster();  // SIGKILLs every member; keeps the directory if kept()
  ProcessCluster(const ProcessCluster&) = delete;
  ProcessCluster& operator=(const ProcessCluster&) = delete;

  const ClusterOptions& options() const { return options_; }
  std::vector<std::uint64_t> ids() const;  // every member started and not retired
  // A member removed from the cluster for good (membership change): SIGKILLed
  // and left out of ids() and client_endpoints() from now on; its id is never
  // handed out again by next_new_id().
  void retire(std::uint64_t id);
  // An id no member has ever had (max ever used + 1).
  std::uint64_t next_new_id() const;

  // Starts ids 1..members as a new cluster and waits for each /startupz.
  // Returns false (with diagnostics in *error) on failure.
  bool start_all(std::string* error);
  // (Re)starts one member with its data dir. `bootstrap`: pass
  // --initial-members (first start of the initial members); otherwise
  // --join when `join` is true, or neither (a restart from stored data).
  bool start(std::uint64_t id, bool bootstrap, bool join, std::string* error,
             std::map<std::string, std::string> env = {});
  bool wait_startup(std::uint64_t id, milliseconds timeout);

  // Signals.
  void kill(std::uint64_t id);  // SIGKILL and reap
  void stop(std::uint64_t id);  // SIGSTOP
  void cont(std::uint64_t id);  // SIGCONT
  bool running(std::uint64_t id);
  // SIGTERM and wait; the exit status (128 + signal when killed) or nullopt.
  std::optional<int> terminate(std::uint64_t id, milliseconds timeout);
  // How the member's last process ended (see ChildProcess::wait_exit), or
  // nullopt while it runs or if it never started.
  std::optional<int> exit_status(std::uint64_t id);

  // Addresses.
  std::string peer_address(std::uint64_t id) const;
  std::string client_address(std::uint64_t id) const;
  std::string http_address(std::uint64_t id) const;
  std::string client_endpoints() const;  // "a,b,c" of every member
  std::string data_dir(std::uint64_t id) const;
  std::string log_path(std::uint64_t id) const;

  // HTTP.
  HttpResponse http(std::uint64_t id, const std::string& method, const std::string& path,
                    const std::string& body = "", milliseconds timeout = milliseconds(1000)) const;
  MemberView view(std::uint64_t id, milliseconds timeout = milliseconds(1000)) const;
  int livez(std::uint64_t id, milliseconds timeout = milliseconds(1000)) const;
  int readyz(std::uint64_t id, milliseconds timeout = milliseconds(1000)) const;
  // PUT /failpoints/<name> with `action` ("block", "off", "sleep(100)", ...).
  bool set_failpoint(std::uint64_t id, const std::string& name, const std::string& action) const;

  // The leader that `among` (default: every running member) agree on: a
  // member that reports itself leader and whose term no answering member
  // exceeds. nullopt if none before the timeout.
  std::optional<std::uint64_t> wait_leader(milliseconds timeout,
                                           std::vector<std::uint64_t> among = {}) const;
  // Polls `condition` until true or the timeout; returns its last value.
  static bool wait_until(const std::function<bool()>& condition, milliseconds timeout,
                         milliseconds poll = milliseconds(20));

  // Last `lines` lines of every member's log and its /status, for failures.
  std::string diagnostics(int lines = 40) const;
  // Keep the data directory after the test (call on failure).
  void keep() { keep_ = true; }
  const std::string& root() const { return root_; }

 private:
  struct Member;
  Member& member(std::uint64_t id);
  const Member& member(std::uint64_t id) const;
  std::vector<std::string> flags_of(const Member& m, bool bootstrap, bool join) const;
  std::string host(std::uint64_t id) const;

  ClusterOptions options_;
  std::string root_;
  int port_base_ = 0;
  bool keep_ = false;
  std::map<std::uint64_t, std::unique_ptr<Member>> members_;
};

// Path of the raftmeta-node and raftmetactl binaries (compile definitions).
std::string node_binary();
std::string ctl_binary();

}  // namespace raftmeta::e2e
