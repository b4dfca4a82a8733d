#include "sidecar/node/server/node_flags.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>

namespace raftmeta::node::server {
namespace {

bool parse_u64(std::string_view text, std::uint64_t* out) {
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *out);
  return ec == std::errc() && ptr == end;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// CLI11 messages can span lines; the contract is one line.
std::string one_line(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

bool wildcard_host(std::string_view address) {
  return address.starts_with("0.0.0.0:") || address.starts_with("[::]:");
}

}  // namespace

std::string env_name_of(std::string_view flag) {
  std::string name = "RAFTMETA_";
  for (char c : flag) {
    name += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return name;
}

bool is_host_port(std::string_view text) {
  std::size_t colon;
  if (text.starts_with('[')) {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos || close < 2 || close + 1 >= text.size() ||
        text[close + 1] != ':') {
      return false;
    }
    colon = close + 1;
  } else {
    colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return false;
    if (text.substr(0, colon).find(':') != std::string_view::npos) return false;
  }
  std::uint64_t port = 0;
  if (!parse_u64(text.substr(colon + 1), &port)) return false;
  return port >= 1 && port <= 65535;
}

bool parse_initial_members(std::string_view text, std::vector<InitialMember>* out,
                           std::string* error) {
  out->clear();
  std::set<raft::NodeId> ids;
  std::set<std::string> addresses;
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    const std::string_view item = trim(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      *error = "member '" + std::string(item) + "' is not of the form id=host:port";
      return false;
    }
    InitialMember member;
    if (!parse_u64(trim(item.substr(0, eq)), &member.id) || member.id == raft::kNoNode) {
      *error = "member '" + std::string(item) + "' has no positive numeric id";
      return false;
    }
    member.peer_address = std::string(trim(item.substr(eq + 1)));
    if (!is_host_port(member.peer_address)) {
      *error = "member " + std::to_string(member.id) + " has an invalid address '" +
               member.peer_address + "' (expected host:port)";
      return false;
    }
    if (!ids.insert(member.id).second) {
      *error = "member id " + std::to_string(member.id) + " appears twice";
      return false;
    }
    if (!addresses.insert(member.peer_address).second) {
      *error = "address " + member.peer_address + " appears twice";
      return false;
    }
    out->push_back(std::move(member));
  }
  if (out->empty()) {
    *error = "the member list is empty";
    return false;
  }
  return true;
}

ParsedFlags parse_node_flags(int argc, const char* const* argv) {
  ParsedFlags result;
  NodeFlags& f = result.flags;
  CLI::App app{"raftmeta-node: a Raft-replicated broker metadata node", "raftmeta-node"};
  app.set_help_flag("-h,--help", "Print this help and exit");

  std::string initial_members;
  std::string log_format = "text";
  auto add = [&](const std::string& flag, auto* value, const std::string& help) {
    return app.add_option("--" + flag, *value, help)->envname(env_name_of(flag));
  };
  auto add_flag = [&](const std::string& flag, bool* value, const std::string& help) {
    return app.add_flag("--" + flag, *value, help)->envname(env_name_of(flag));
  };
  add("id", &f.id, "This member's id (positive, never reused)")->required();
  add("data-dir", &f.data_dir, "Directory of the SQLite log and snapshots")->required();
  add("listen-peer", &f.listen_peer, "Address of the Raft peer service")->capture_default_str();
  add("advertise-peer", &f.advertise_peer,
      "Peer address other members dial (default: own --initial-members entry)");
  add("listen-client", &f.listen_client, "Address of the Metadata and Admin services")
      ->capture_default_str();
  add("listen-http", &f.listen_http, "Address of the health and metrics endpoints")
      ->capture_default_str();
  add("cluster-id", &f.cluster_id, "Identity of the cluster, stamped in storage")->required();
  auto* members = add("initial-members", &initial_members,
                      "Members of a new cluster, 1=host:7400,2=host:7400,3=host:7400");
  auto* join = add_flag("join", &f.join, "Start empty and wait to be added by a member");
  members->excludes(join);
  add("shutdown-timeout-ms", &f.shutdown_timeout_ms, "Longest clean shutdown before exiting")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{3600000}));
  add("heartbeat-ms", &f.heartbeat_ms, "Raft heartbeat interval")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{60000}));
  add("election-ms", &f.election_ms, "Raft election timeout")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{600000}));
  add("loop-stall-ms", &f.loop_stall_ms, "Raft loop stall limit for /livez")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{3600000}));
  add("apply-stall-ms", &f.apply_stall_ms, "Apply loop stall limit for /livez")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{3600000}));
  add("storage-stall-ms", &f.storage_stall_ms, "Storage write stall limit for /livez")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{3600000}));
  add("snapshot-entries", &f.snapshot_entries, "Applied entries between snapshots")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 40));
  add_flag("enable-failpoints", &f.enable_failpoints,
           "Allow failpoints (RAFTMETA_FAILPOINTS and PUT /failpoints/<name>)");
  add("log-level", &f.log_level, "trace|debug|info|warn|error|critical|off")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  add("log-format", &log_format, "text|json")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json"}));
  add("max-request-bytes", &f.max_request_bytes, "Largest accepted client request")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1024}, std::size_t{256} * 1024 * 1024));

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    result.outcome = ParsedFlags::Outcome::kPrintAndExit;
    result.message = app.help();
    return result;
  } catch (const CLI::ParseError& e) {
    result.outcome = ParsedFlags::Outcome::kUsageError;
    result.message = one_line(e.what());
    return result;
  }

  auto usage_error = [&](std::string message) {
    result.outcome = ParsedFlags::Outcome::kUsageError;
    result.message = std::move(message);
    return result;
  };
  f.log_format = log_format == "json" ? LogFormat::kJson : LogFormat::kText;
  if (f.id == raft::kNoNode) return usage_error("--id must be a positive member id");
  if (f.data_dir.empty()) return usage_error("--data-dir must not be empty");
  if (f.cluster_id.empty()) return usage_error("--cluster-id must not be empty");
  for (const auto& [flag, value] :
       {std::pair{"--listen-peer", &f.listen_peer}, std::pair{"--listen-client", &f.listen_client},
        std::pair{"--listen-http", &f.listen_http}}) {
    if (!is_host_port(*value)) {
      return usage_error(std::string(flag) + " '" + *value + "' is not host:port");
    }
  }
  if (!initial_members.empty()) {
    std::string error;
    if (!parse_initial_members(initial_members, &f.initial_members, &error)) {
      return usage_error("--initial-members: " + error);
    }
    auto self = std::find_if(f.initial_members.begin(), f.initial_members.end(),
                             [&](const InitialMember& m) { return m.id == f.id; });
    if (self == f.initial_members.end()) {
      return usage_error("--initial-members does not contain this member's --id " +
                         std::to_string(f.id));
    }
    if (f.advertise_peer.empty()) f.advertise_peer = self->peer_address;
  }
  if (f.advertise_peer.empty() && !wildcard_host(f.listen_peer)) {
    f.advertise_peer = f.listen_peer;
  }
  if (!f.advertise_peer.empty() && !is_host_port(f.advertise_peer)) {
    return usage_error("--advertise-peer '" + f.advertise_peer + "' is not host:port");
  }
  if (f.election_ms < 2 * f.heartbeat_ms) {
    return usage_error("--election-ms (" + std::to_string(f.election_ms) +
                       ") must be at least twice --heartbeat-ms (" +
                       std::to_string(f.heartbeat_ms) + ")");
  }
  if (f.loop_stall_ms <= f.heartbeat_ms) {
    return usage_error("--loop-stall-ms must be longer than --heartbeat-ms");
  }
  result.outcome = ParsedFlags::Outcome::kRun;
  return result;
}

}  // namespace raftmeta::node::server
