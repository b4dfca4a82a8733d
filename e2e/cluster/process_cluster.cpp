#include "e2e/cluster/process_cluster.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace raftmeta::e2e {
namespace {

constexpr int kMaxMembers = 9;  // ports reserved per cluster: 3 per member id 1..9
constexpr int kPortsPerCluster = 3 * kMaxMembers;

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

int pick_port_base(int hint) {
  for (int base = hint; base + kPortsPerCluster < 32000; base += kPortsPerCluster) {
    bool all = true;
    for (int p = base; p < base + kPortsPerCluster && all; ++p) all = port_free(p);
    if (all) return base;
  }
  return hint;  // let the node fail loudly with "address in use"
}

std::string last_lines(const std::string& path, int lines) {
  std::ifstream in(path);
  std::deque<std::string> tail;
  std::string line;
  while (std::getline(in, line)) {
    tail.push_back(line);
    if (static_cast<int>(tail.size()) > lines) tail.pop_front();
  }
  std::string out;
  for (const auto& l : tail) out += "    " + l + "\n";
  return out;
}

std::uint64_t json_u64(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return 0;
  if (it->is_number_unsigned() || it->is_number_integer()) return it->get<std::uint64_t>();
  if (it->is_string()) return std::strtoull(it->get<std::string>().c_str(), nullptr, 10);
  return 0;
}

}  // namespace

struct ProcessCluster::Member {
  std::uint64_t id = 0;
  std::string data_dir;
  std::string log_path;
  ChildProcess process;
  int starts = 0;
  bool retired = false;
};

std::string node_binary() { return RAFTMETA_NODE_BINARY; }
std::string ctl_binary() { return RAFTMETA_CTL_BINARY; }

ProcessCluster::ProcessCluster(ClusterOptions options) : options_(std::move(options)) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "raftmeta-e2e-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
  root_ = tmpl;
  port_base_ = pick_port_base(options_.port_base_hint);
}

ProcessCluster::~ProcessCluster() {
  for (auto& [id, m] : members_) {
    m->process.signal(SIGCONT);
    m->process.kill_and_reap();
  }
  if (!keep_) {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
}

std::vector<std::uint64_t> ProcessCluster::ids() const {
  std::vector<std::uint64_t> out;
  for (const auto& [id, m] : members_) {
    if (!m->retired) out.push_back(id);
  }
  return out;
}

void ProcessCluster::retire(std::uint64_t id) {
  Member& m = member(id);
  m.process.kill_and_reap();
  m.retired = true;
}

std::uint64_t ProcessCluster::next_new_id() const {
  return members_.empty()
             ? static_cast<std::uint64_t>(options_.members) + 1
             : std::max<std::uint64_t>(members_.rbegin()->first + 1,
                                       static_cast<std::uint64_t>(options_.members) + 1);
}

ProcessCluster::Member& ProcessCluster::member(std::uint64_t id) {
  auto& slot = members_[id];
  if (!slot) {
    slot = std::make_unique<Member>();
    slot->id = id;
    slot->data_dir = root_ + "/member-" + std::to_string(id);
    slot->log_path = root_ + "/member-" + std::to_string(id) + ".log";
  }
  return *slot;
}

const ProcessCluster::Member& ProcessCluster::member(std::uint64_t id) const {
  return *members_.at(id);
}

std::string ProcessCluster::host(std::uint64_t id) const {
  return options_.member_host ? options_.member_host(id) : std::string("127.0.0.1");
}

std::string ProcessCluster::peer_address(std::uint64_t id) const {
  return host(id) + ":" + std::to_string(port_base_ + 3 * static_cast<int>(id - 1));
}
std::string ProcessCluster::client_address(std::uint64_t id) const {
  return host(id) + ":" + std::to_string(port_base_ + 3 * static_cast<int>(id - 1) + 1);
}
std::string ProcessCluster::http_address(std::uint64_t id) const {
  return host(id) + ":" + std::to_string(port_base_ + 3 * static_cast<int>(id - 1) + 2);
}
std::string ProcessCluster::client_endpoints() const {
  std::string out;
  for (const auto& [id, m] : members_) {
    if (m->retired) continue;
    if (!out.empty()) out += ",";
    out += client_address(id);
  }
  return out;
}
std::string ProcessCluster::data_dir(std::uint64_t id) const { return member(id).data_dir; }
std::string ProcessCluster::log_path(std::uint64_t id) const { return member(id).log_path; }

std::vector<std::string> ProcessCluster::flags_of(const Member& m, bool bootstrap,
                                                  bool join) const {
  const ClusterOptions& o = options_;
  std::vector<std::string> argv;
  if (o.command_prefix) argv = o.command_prefix(m.id);
  const std::vector<std::string> command = {
      o.binary.empty() ? node_binary() : o.binary,
      "--id=" + std::to_string(m.id),
      "--data-dir=" + m.data_dir,
      "--cluster-id=" + o.cluster_id,
      "--listen-peer=" + peer_address(m.id),
      "--advertise-peer=" + peer_address(m.id),
      "--listen-client=" + client_address(m.id),
      "--listen-http=" + http_address(m.id),
      "--heartbeat-ms=" + std::to_string(o.heartbeat_ms),
      "--election-ms=" + std::to_string(o.election_ms),
      "--loop-stall-ms=" + std::to_string(o.loop_stall_ms),
      "--apply-stall-ms=" + std::to_string(o.apply_stall_ms),
      "--storage-stall-ms=" + std::to_string(o.storage_stall_ms),
      "--shutdown-timeout-ms=" + std::to_string(o.shutdown_timeout_ms),
      "--log-level=" + o.log_level,
  };
  argv.insert(argv.end(), command.begin(), command.end());
  if (o.snapshot_entries != 0) {
    argv.push_back("--snapshot-entries=" + std::to_string(o.snapshot_entries));
  }
  if (o.enable_failpoints) argv.push_back("--enable-failpoints");
  if (bootstrap) {
    std::string members;
    for (int id = 1; id <= o.members; ++id) {
      if (!members.empty()) members += ",";
      members += std::to_string(id) + "=" + peer_address(static_cast<std::uint64_t>(id));
    }
    argv.push_back("--initial-members=" + members);
  } else if (join) {
    argv.push_back("--join");
  }
  argv.insert(argv.end(), o.extra_flags.begin(), o.extra_flags.end());
  return argv;
}

bool ProcessCluster::start(std::uint64_t id, bool bootstrap, bool join, std::string* error,
                           std::map<std::string, std::string> env) {
  if (id == 0 || id > kMaxMembers) {
    *error = "member id out of the harness's range";
    return false;
  }
  Member& m = member(id);
  std::filesystem::create_directories(m.data_dir);
  {
    std::ofstream log(m.log_path, std::ios::app);
    log << "==== harness: start #" << ++m.starts << " of member " << id << " ====\n";
  }
  return m.process.spawn(flags_of(m, bootstrap, join), env, m.log_path, error);
}

bool ProcessCluster::start_all(std::string* error) {
  for (int id = 1; id <= options_.members; ++id) {
    if (!start(static_cast<std::uint64_t>(id), true, false, error)) return false;
  }
  for (int id = 1; id <= options_.members; ++id) {
    if (!wait_startup(static_cast<std::uint64_t>(id), milliseconds(10000) + kSlack)) {
      *error = "member " + std::to_string(id) + " did not pass /startupz\n" + diagnostics();
      return false;
    }
  }
  return true;
}

bool ProcessCluster::wait_startup(std::uint64_t id, milliseconds timeout) {
  return wait_until(
      [&] {
        if (!running(id)) return false;
        return http(id, "GET", "/startupz", "", milliseconds(500)).status == 200;
      },
      timeout, milliseconds(50));
}

void ProcessCluster::kill(std::uint64_t id) { member(id).process.kill_and_reap(); }
void ProcessCluster::stop(std::uint64_t id) { member(id).process.signal(SIGSTOP); }
void ProcessCluster::cont(std::uint64_t id) { member(id).process.signal(SIGCONT); }
bool ProcessCluster::running(std::uint64_t id) {
  return members_.contains(id) && member(id).process.running();
}

std::optional<int> ProcessCluster::terminate(std::uint64_t id, milliseconds timeout) {
  Member& m = member(id);
  m.process.signal(SIGTERM);
  return m.process.wait_exit(timeout);
}

std::optional<int> ProcessCluster::exit_status(std::uint64_t id) {
  if (!members_.contains(id) || running(id)) return std::nullopt;
  return member(id).process.exit_status();
}

HttpResponse ProcessCluster::http(std::uint64_t id, const std::string& method,
                                  const std::string& path, const std::string& body,
                                  milliseconds timeout) const {
  return http_request(http_address(id), method, path, body, timeout);
}

MemberView ProcessCluster::view(std::uint64_t id, milliseconds timeout) const {
  MemberView v;
  const HttpResponse r = http(id, "GET", "/status", "", timeout);
  if (r.status != 200) return v;
  nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return v;
  v.answered = true;
  v.role = j.value("role", "");
  v.term = json_u64(j, "term");
  v.leader_id = json_u64(j, "leader");
  v.commit = json_u64(j, "commit_index");
  v.applied = json_u64(j, "applied_index");
  v.raw = std::move(j);
  return v;
}

int ProcessCluster::livez(std::uint64_t id, milliseconds timeout) const {
  return http(id, "GET", "/livez", "", timeout).status;
}
int ProcessCluster::readyz(std::uint64_t id, milliseconds timeout) const {
  return http(id, "GET", "/readyz", "", timeout).status;
}

bool ProcessCluster::set_failpoint(std::uint64_t id, const std::string& name,
                                   const std::string& action) const {
  return http(id, "PUT", "/failpoints/" + name, action, milliseconds(2000)).status == 200;
}

std::optional<std::uint64_t> ProcessCluster::wait_leader(milliseconds timeout,
                                                         std::vector<std::uint64_t> among) const {
  if (among.empty()) {
    for (const auto& [id, m] : members_) {
      if (!m->retired && const_cast<ChildProcess&>(m->process).running()) among.push_back(id);
    }
  }
  std::optional<std::uint64_t> found;
  wait_until(
      [&] {
        std::optional<std::uint64_t> leader;
        std::uint64_t leader_term = 0;
        std::uint64_t max_term = 0;
        int agree = 0;
        std::vector<MemberView> views;
        for (std::uint64_t id : among) views.push_back(view(id, milliseconds(300)));
        for (std::size_t i = 0; i < among.size(); ++i) {
          const MemberView& v = views[i];
          if (!v.answered) continue;
          max_term = std::max(max_term, v.term);
          if (v.role == "leader") {
            leader = among[i];
            leader_term = v.term;
          }
        }
        if (!leader || leader_term < max_term) return false;
        for (const MemberView& v : views) {
          if (v.answered && v.term == leader_term && v.leader_id == *leader) ++agree;
        }
        // A majority of the members asked must see it (itself included).
        if (agree * 2 <= static_cast<int>(among.size())) return false;
        found = leader;
        return true;
      },
      timeout, milliseconds(50));
  return found;
}

bool ProcessCluster::wait_until(const std::function<bool()>& condition, milliseconds timeout,
                                milliseconds poll) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(poll);
  }
}

std::string ProcessCluster::diagnostics(int lines) const {
  std::ostringstream out;
  out << "---- cluster diagnostics (data in " << root_ << ") ----\n";
  for (const auto& [id, m] : members_) {
    const HttpResponse status = http(id, "GET", "/status", "", milliseconds(500));
    std::string state = "running";
    if (m->retired) {
      state = "retired (removed from the cluster)";
    } else if (!m->process.running()) {
      const auto exit = m->process.exit_status();
      state = exit ? (*exit > 128 ? "killed by signal " + std::to_string(*exit - 128)
                                  : "exited with status " + std::to_string(*exit))
                   : "not started";
    }
    out << "member " << id << " (" << state << ", client " << client_address(id) << ", http "
        << http_address(id) << ")\n  /status: "
        << (status.answered() ? std::to_string(status.status) + " " + status.body
                              : "no answer: " + status.error)
        << "\n  last log lines:\n"
        << last_lines(m->log_path, lines);
  }
  return out.str();
}

}  // namespace raftmeta::e2e
