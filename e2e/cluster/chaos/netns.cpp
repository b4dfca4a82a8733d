#include "e2e/cluster/chaos/netns.h"

#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <sstream>

namespace raftmeta::chaos {
namespace {

constexpr const char* kNamePrefix = "rmc";  // every name this class creates starts with it
constexpr int kBridgeHost = 254;            // the root namespace's address on the bridge

const std::string& ip_tool() {
  static const std::string path = [] {
    for (const char* p : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"}) {
      if (::access(p, X_OK) == 0) return std::string(p);
    }
    return std::string();
  }();
  return path;
}

// Runs `ip <args>` and returns its exit status; its output (stdout and
// stderr) goes to *output. Arguments are names and addresses this class
// builds (no shell metacharacters).
int ip(const std::vector<std::string>& args, std::string* output) {
  std::string command = ip_tool();
  for (const std::string& a : args) command += " " + a;
  command += " 2>&1";
  output->clear();
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    *output = "popen failed: " + std::to_string(errno);
    return -1;
  }
  char buffer[4096];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) output->append(buffer, n);
  const int status = ::pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool ip_ok(const std::vector<std::string>& args, std::string* error) {
  std::string output;
  if (ip(args, &output) == 0) return true;
  std::string command = "ip";
  for (const std::string& a : args) command += " " + a;
  *error = "`" + command + "` failed: " + output;
  while (!error->empty() && error->back() == '\n') error->pop_back();
  return false;
}

// The pid a name of ours carries ("rmc1234br" -> 1234), or 0.
pid_t owner_pid(const std::string& name) {
  if (name.rfind(kNamePrefix, 0) != 0) return 0;
  std::size_t i = std::char_traits<char>::length(kNamePrefix);
  pid_t pid = 0;
  bool digits = false;
  while (i < name.size() && name[i] >= '0' && name[i] <= '9') {
    pid = pid * 10 + (name[i++] - '0');
    digits = true;
  }
  return digits ? pid : 0;
}

bool alive(pid_t pid) { return ::kill(pid, 0) == 0 || errno == EPERM; }

// Deletes namespaces and links left by runs whose process no longer exists.
void remove_stale() {
  std::string output;
  if (ip({"netns", "list"}, &output) == 0) {
    std::istringstream in(output);
    std::string line;
    while (std::getline(in, line)) {
      const std::string name = line.substr(0, line.find(' '));
      const pid_t pid = owner_pid(name);
      if (pid != 0 && pid != ::getpid() && !alive(pid)) {
        std::string ignored;
        ip({"netns", "del", name}, &ignored);
      }
    }
  }
  if (ip({"-o", "link", "show"}, &output) == 0) {
    std::istringstream in(output);
    std::string line;
    while (std::getline(in, line)) {
      // "7: rmc123br: <BROADCAST,..." or "8: rmc123v1@if2: <..."
      const auto colon = line.find(": ");
      if (colon == std::string::npos) continue;
      std::string name = line.substr(colon + 2);
      name = name.substr(0, name.find_first_of(":@"));
      const pid_t pid = owner_pid(name);
      if (pid != 0 && pid != ::getpid() && !alive(pid)) {
        std::string ignored;
        ip({"link", "del", name}, &ignored);
      }
    }
  }
}

// A /24 in 10.213.0.0/16 that no address or route of this machine touches,
// starting from one derived from the pid so parallel runs pick different ones.
int free_subnet() {
  std::string addresses, routes;
  ip({"-o", "-4", "addr", "show"}, &addresses);
  ip({"-4", "route", "show"}, &routes);
  const int start = static_cast<int>(::getpid() % 250);
  for (int k = 0; k < 250; ++k) {
    const int s = (start + k) % 250 + 1;
    const std::string net = "10.213." + std::to_string(s) + ".";
    if (addresses.find(net) == std::string::npos && routes.find(net) == std::string::npos) {
      return s;
    }
  }
  return 0;
}

}  // namespace

std::unique_ptr<NetnsNetwork> NetnsNetwork::create(int members, std::string* error) {
  if (ip_tool().empty()) {
    *error = "the `ip` tool (iproute2) is not installed";
    return nullptr;
  }
  if (members < 1 || members > 200) {
    *error = "member count out of range";
    return nullptr;
  }
  remove_stale();
  const int subnet = free_subnet();
  if (subnet == 0) {
    *error = "no free 10.213.x.0/24 subnet";
    return nullptr;
  }
  std::unique_ptr<NetnsNetwork> network(
      new NetnsNetwork(std::string(kNamePrefix) + std::to_string(::getpid()), subnet, members));
  if (!network->build(error)) return nullptr;  // the destructor removes what was made
  return network;
}

NetnsNetwork::NetnsNetwork(std::string prefix, int subnet, int members)
    : prefix_(std::move(prefix)), subnet_(subnet), members_(members) {}

NetnsNetwork::~NetnsNetwork() {
  std::string ignored;
  for (int id = 1; id <= members_; ++id) {
    const auto u = static_cast<std::uint64_t>(id);
    ip({"link", "del", root_veth(u)}, &ignored);  // deletes both ends
    ip({"netns", "del", namespace_name(u)}, &ignored);
  }
  ip({"link", "del", bridge_name()}, &ignored);
}

std::string NetnsNetwork::bridge_name() const { return prefix_ + "br"; }
std::string NetnsNetwork::namespace_name(std::uint64_t id) const {
  return prefix_ + "m" + std::to_string(id);
}
std::string NetnsNetwork::root_veth(std::uint64_t id) const {
  return prefix_ + "v" + std::to_string(id);
}
std::string NetnsNetwork::member_veth(std::uint64_t id) const {
  return prefix_ + "p" + std::to_string(id);
}
std::string NetnsNetwork::address_of(std::uint64_t to) const {
  return "10.213." + std::to_string(subnet_) + "." +
         std::to_string(to == 0 ? kBridgeHost : static_cast<int>(to));
}
std::string NetnsNetwork::host(std::uint64_t id) const { return address_of(id); }

std::vector<std::string> NetnsNetwork::command_prefix(std::uint64_t id) const {
  return {ip_tool(), "netns", "exec", namespace_name(id)};
}

bool NetnsNetwork::build(std::string* error) {
  const std::string br = bridge_name();
  const std::string cidr = "/24";
  if (!ip_ok({"link", "add", br, "type", "bridge"}, error) ||
      !ip_ok({"addr", "add", address_of(0) + cidr, "dev", br}, error) ||
      !ip_ok({"link", "set", br, "up"}, error)) {
    return false;
  }
  // Bridged frames must not go through a host firewall (br_netfilter); an
  // older kernel without the option keeps its default, which is fine unless
  // a FORWARD rule drops them.
  std::string ignored;
  ip({"link", "set", br, "type", "bridge", "nf_call_iptables", "0"}, &ignored);
  for (int i = 1; i <= members_; ++i) {
    const auto id = static_cast<std::uint64_t>(i);
    const std::string ns = namespace_name(id);
    if (!ip_ok({"netns", "add", ns}, error) ||
        !ip_ok({"link", "add", root_veth(id), "type", "veth", "peer", "name", member_veth(id),
                "netns", ns},
               error) ||
        !ip_ok({"link", "set", root_veth(id), "master", br, "up"}, error) ||
        !ip_ok({"-n", ns, "addr", "add", address_of(id) + cidr, "dev", member_veth(id)}, error) ||
        !ip_ok({"-n", ns, "link", "set", member_veth(id), "up"}, error) ||
        !ip_ok({"-n", ns, "link", "set", "lo", "up"}, error)) {
      return false;
    }
  }
  return true;
}

bool NetnsNetwork::block(std::uint64_t from, std::uint64_t to, std::string* error) {
  if (blocked_.contains({from, to})) return true;
  if (!ip_ok({"-n", namespace_name(from), "route", "add", "blackhole", address_of(to) + "/32"},
             error)) {
    return false;
  }
  blocked_.insert({from, to});
  return true;
}

bool NetnsNetwork::split(const std::vector<std::vector<std::uint64_t>>& groups,
                         std::string* error) {
  for (std::size_t a = 0; a < groups.size(); ++a) {
    for (std::size_t b = 0; b < groups.size(); ++b) {
      if (a == b) continue;
      for (std::uint64_t from : groups[a]) {
        for (std::uint64_t to : groups[b]) {
          if (!block(from, to, error)) return false;
        }
      }
    }
  }
  return true;
}

bool NetnsNetwork::isolate(std::uint64_t id, std::string* error) {
  std::vector<std::uint64_t> others;
  for (int i = 1; i <= members_; ++i) {
    if (static_cast<std::uint64_t>(i) != id) others.push_back(static_cast<std::uint64_t>(i));
  }
  return split({{id}, others}, error);
}

bool NetnsNetwork::one_way_out(std::uint64_t from, std::string* error) {
  for (int i = 1; i <= members_; ++i) {
    const auto to = static_cast<std::uint64_t>(i);
    if (to != from && !block(from, to, error)) return false;
  }
  return true;
}

bool NetnsNetwork::cut_clients(std::uint64_t id, std::string* error) { return block(id, 0, error); }

bool NetnsNetwork::heal(std::string* error) {
  bool ok = true;
  for (auto it = blocked_.begin(); it != blocked_.end();) {
    std::string e;
    if (ip_ok({"-n", namespace_name(it->first), "route", "del", "blackhole",
               address_of(it->second) + "/32"},
              &e)) {
      it = blocked_.erase(it);
    } else {
      *error = e;
      ok = false;
      ++it;
    }
  }
  return ok;
}

std::string NetnsNetwork::describe() const {
  std::string out;
  for (const auto& [from, to] : blocked_) {
    if (!out.empty()) out += " ";
    out += std::to_string(from) + "->" + (to == 0 ? std::string("clients") : std::to_string(to));
  }
  return out;
}

bool NetnsNetwork::routes_match(std::string* error) const {
  for (int i = 1; i <= members_; ++i) {
    const auto from = static_cast<std::uint64_t>(i);
    std::string output;
    if (ip({"-n", namespace_name(from), "route", "show", "type", "blackhole"}, &output) != 0) {
      *error = "cannot list routes of " + namespace_name(from) + ": " + output;
      return false;
    }
    std::set<std::string> have;
    std::istringstream in(output);
    std::string word, address;
    while (in >> word) {
      if (word == "blackhole" && in >> address) have.insert(address);
    }
    std::set<std::string> want;
    for (const auto& [f, to] : blocked_) {
      if (f == from) want.insert(address_of(to));
    }
    if (have != want) {
      *error = "namespace " + namespace_name(from) + " has " + std::to_string(have.size()) +
               " blackhole routes, expected " + std::to_string(want.size());
      return false;
    }
  }
  return true;
}

}  // namespace raftmeta::chaos
