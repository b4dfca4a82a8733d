#include "bench/raftmeta_cluster.h"

#include <dirent.h>

#include <cstdlib>
#include <fstream>

namespace raftmeta::bench {
namespace {

// The pid of the process whose command line contains `needle` (the harness
// does not expose its children's pids; each member has a unique data dir).
pid_t find_pid(const std::string& needle) {
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return -1;
  pid_t found = -1;
  while (dirent* entry = ::readdir(proc)) {
    const char* name = entry->d_name;
    if (name[0] < '0' || name[0] > '9') continue;
    std::ifstream in(std::string("/proc/") + name + "/cmdline", std::ios::binary);
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (char& c : cmdline) {
      if (c == '\0') c = ' ';
    }
    if (cmdline.find(needle + " ") != std::string::npos) {
      // A zombie has an empty cmdline, so this is a live member.
      found = static_cast<pid_t>(std::atoi(name));
      break;
    }
  }
  ::closedir(proc);
  return found;
}

}  // namespace

RaftmetaCluster::RaftmetaCluster(RaftmetaClusterOptions options) : options_(std::move(options)) {}

bool RaftmetaCluster::start(std::string* error) {
  e2e::ClusterOptions o;
  o.members = 3;
  o.cluster_id = options_.cluster_id;
  o.port_base_hint = options_.port_base_hint;
  o.heartbeat_ms = options_.heartbeat_ms;
  o.election_ms = options_.election_ms;
  // The node's production stall limits, except the apply limit the stall
  // measurement is about.
  o.loop_stall_ms = 5000;
  o.apply_stall_ms = options_.apply_stall_ms;
  o.storage_stall_ms = 10000;
  o.enable_failpoints = true;
  o.log_level = "warn";
  cluster_ = std::make_unique<e2e::ProcessCluster>(o);
  if (!cluster_->start_all(error)) return false;
  if (!leader(std::chrono::milliseconds(15000))) {
    *error = "no leader elected\n" + cluster_->diagnostics();
    return false;
  }
  return true;
}

std::string RaftmetaCluster::client_address(int id) const {
  return cluster_->client_address(static_cast<std::uint64_t>(id));
}

std::optional<int> RaftmetaCluster::leader(std::chrono::milliseconds timeout) {
  const auto found = cluster_->wait_leader(timeout);
  if (!found) return std::nullopt;
  return static_cast<int>(*found);
}

void RaftmetaCluster::kill(int id) { cluster_->kill(static_cast<std::uint64_t>(id)); }

bool RaftmetaCluster::restart(int id, std::string* error) {
  const auto uid = static_cast<std::uint64_t>(id);
  if (!cluster_->start(uid, false, false, error)) return false;
  if (!cluster_->wait_startup(uid, std::chrono::milliseconds(30000))) {
    *error = "member " + std::to_string(id) + " did not start\n" + cluster_->diagnostics();
    return false;
  }
  return true;
}

pid_t RaftmetaCluster::pid(int id) const {
  const auto uid = static_cast<std::uint64_t>(id);
  return find_pid("--data-dir=" + cluster_->data_dir(uid));
}

std::string RaftmetaCluster::diagnostics() const {
  return cluster_ ? cluster_->diagnostics() : "not started";
}

bool RaftmetaCluster::set_failpoint(int id, const std::string& name, const std::string& action) {
  return cluster_->set_failpoint(static_cast<std::uint64_t>(id), name, action);
}

int RaftmetaCluster::livez(int id, std::chrono::milliseconds timeout) {
  return cluster_->livez(static_cast<std::uint64_t>(id), timeout);
}

}  // namespace raftmeta::bench
