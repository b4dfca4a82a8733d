#include "bench/etcd_cluster.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <deque>
#include <filesystem>
#include <fstream>
#include <thread>

#include "bench/load_types.h"
#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"

namespace raftmeta::bench {
namespace {

using Clock = std::chrono::steady_clock;

bool port_free(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

// Two ports per member (client, peer), six in all.
int pick_port_base(int hint) {
  for (int base = hint; base + 6 < 32000; base += 6) {
    bool all = true;
    for (int p = base; p < base + 6 && all; ++p) all = port_free(p);
    if (all) return base;
  }
  return hint;
}

std::string tail(const std::string& path, int lines) {
  std::ifstream in(path);
  std::deque<std::string> last;
  std::string line;
  while (std::getline(in, line)) {
    last.push_back(line);
    if (static_cast<int>(last.size()) > lines) last.pop_front();
  }
  std::string out;
  for (const auto& l : last) out += "    " + l + "\n";
  return out;
}

}  // namespace

EtcdCluster::EtcdCluster(EtcdClusterOptions options) : options_(std::move(options)) {
  std::string tmpl =
      (std::filesystem::path(options_.root.empty() ? std::filesystem::temp_directory_path()
                                                   : std::filesystem::path(options_.root)) /
       "etcd-bench-XXXXXX")
          .string();
  if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
  dir_ = tmpl;
  port_base_ = pick_port_base(options_.port_base_hint);
}

EtcdCluster::~EtcdCluster() {
  processes_.clear();  // SIGKILL and reap
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string EtcdCluster::client_address(int id) const {
  return "127.0.0.1:" + std::to_string(port_base_ + 2 * (id - 1));
}

std::string EtcdCluster::peer_address(int id) const {
  return "127.0.0.1:" + std::to_string(port_base_ + 2 * (id - 1) + 1);
}

bool EtcdCluster::spawn(int id, std::string* error) {
  std::string initial;
  for (int m : members()) {
    if (!initial.empty()) initial += ",";
    initial += "m" + std::to_string(m) + "=http://" + peer_address(m);
  }
  const std::string name = "m" + std::to_string(id);
  // With an existing data directory etcd ignores the --initial-* flags, so
  // the same command line restarts a member from its data.
  std::vector<std::string> argv = {
      options_.binary,
      "--name=" + name,
      "--data-dir=" + dir_ + "/" + name,
      "--listen-client-urls=http://" + client_address(id),
      "--advertise-client-urls=http://" + client_address(id),
      "--listen-peer-urls=http://" + peer_address(id),
      "--initial-advertise-peer-urls=http://" + peer_address(id),
      "--initial-cluster=" + initial,
      "--initial-cluster-state=new",
      "--initial-cluster-token=raftmeta-bench",
      "--heartbeat-interval=" + std::to_string(options_.heartbeat_ms),
      "--election-timeout=" + std::to_string(options_.election_ms),
      "--logger=zap",
      "--log-level=warn",
  };
  auto& process = processes_[id];
  process = std::make_unique<e2e::ChildProcess>();
  return process->spawn(argv, {}, dir_ + "/" + name + ".log", error);
}

bool EtcdCluster::start(std::string* error) {
  for (int id : members()) {
    if (!spawn(id, error)) return false;
  }
  if (!leader(std::chrono::milliseconds(20000))) {
    *error = "etcd elected no leader\n" + diagnostics();
    return false;
  }
  return true;
}

std::optional<EtcdCluster::StatusView> EtcdCluster::status(int id) const {
  auto channel = make_channel(client_address(id));
  etcdserverpb::Maintenance::Stub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(300));
  etcdserverpb::StatusRequest request;
  etcdserverpb::StatusResponse response;
  if (!stub.Status(&context, request, &response).ok()) return std::nullopt;
  return StatusView{response.header().member_id(), response.leader()};
}

std::optional<int> EtcdCluster::leader(std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  for (;;) {
    std::map<int, StatusView> views;
    for (int id : members()) {
      if (pid(id) < 0) continue;
      if (auto v = status(id)) views[id] = *v;
    }
    for (const auto& [id, v] : views) {
      if (v.leader == 0 || v.leader != v.member_id) continue;
      int agree = 0;
      for (const auto& [other, w] : views) agree += w.leader == v.member_id ? 1 : 0;
      if (agree * 2 > static_cast<int>(members().size())) return id;
    }
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void EtcdCluster::kill(int id) {
  auto it = processes_.find(id);
  if (it != processes_.end()) it->second->kill_and_reap();
}

bool EtcdCluster::restart(int id, std::string* error) {
  if (!spawn(id, error)) return false;
  const Clock::time_point deadline = Clock::now() + std::chrono::seconds(30);
  while (Clock::now() < deadline) {
    if (auto v = status(id); v && v->leader != 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  *error = "etcd member " + std::to_string(id) + " did not come back\n" + diagnostics();
  return false;
}

pid_t EtcdCluster::pid(int id) const {
  auto it = processes_.find(id);
  if (it == processes_.end() || !it->second->running()) return -1;
  return it->second->pid();
}

std::string EtcdCluster::diagnostics() const {
  std::string out = "---- etcd diagnostics (data in " + dir_ + ") ----\n";
  for (int id : members()) {
    out += "member m" + std::to_string(id) + " (client " + client_address(id) + ")\n" +
           tail(dir_ + "/m" + std::to_string(id) + ".log", 20);
  }
  return out;
}

}  // namespace raftmeta::bench
