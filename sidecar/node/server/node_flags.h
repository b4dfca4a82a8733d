// Command-line contract of raftmeta-node (DESIGN.md, "Contracts other parts
// rely on"): every flag, its default, and its RAFTMETA_<FLAG> environment
// variable. Parsing is a pure function of argv and the environment so that it
// can be tested without starting anything; it never exits the process.
//
// Thread use: call from one thread (it reads the environment).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sidecar/raft/types.h"

namespace raftmeta::node::server {

enum class LogFormat { kText, kJson };

// One entry of --initial-members ("2=host:7400").
struct InitialMember {
  raft::NodeId id = raft::kNoNode;
  std::string peer_address;  // host:port

  bool operator==(const InitialMember&) const = default;
};

struct NodeFlags {
  raft::NodeId id = raft::kNoNode;
  std::string data_dir;
  std::string listen_peer = "0.0.0.0:7400";
  // Address other members dial to reach this one. Defaults to this member's
  // entry in --initial-members, else to --listen-peer.
  std::string advertise_peer;
  std::string listen_client = "0.0.0.0:7401";
  std::string listen_http = "0.0.0.0:7402";
  std::string cluster_id;
  std::vector<InitialMember> initial_members;  // empty unless bootstrapping
  bool join = false;
  std::int64_t shutdown_timeout_ms = 10000;
  std::int64_t heartbeat_ms = 100;
  std::int64_t election_ms = 1000;
  std::int64_t loop_stall_ms = 5000;
  std::int64_t apply_stall_ms = 10000;
  std::int64_t storage_stall_ms = 10000;
  std::uint64_t snapshot_entries = 10000;
  bool enable_failpoints = false;
  std::string log_level = "info";
  LogFormat log_format = LogFormat::kText;
  // Largest accepted client request (gRPC receive limit); larger ones get
  // RESOURCE_EXHAUSTED.
  std::size_t max_request_bytes = 4 * 1024 * 1024;
};

struct ParsedFlags {
  enum class Outcome {
    kRun,           // flags are valid: start the node
    kPrintAndExit,  // --help: print `message` to stdout, exit 0
    kUsageError     // print `message` (one line) to stderr, exit 2
  };
  Outcome outcome = Outcome::kUsageError;
  NodeFlags flags;
  std::string message;
};

// Parses argv (argv[0] is the program name) and RAFTMETA_* variables; a flag on
// the command line wins over its variable. Checks every value (ranges, address
// syntax, member list, conflicting flags) so that a node never starts from a
// configuration it would reject later.
ParsedFlags parse_node_flags(int argc, const char* const* argv);

// Parses "1=host:7400,2=host:7400"; on error returns false with a reason.
bool parse_initial_members(std::string_view text, std::vector<InitialMember>* out,
                           std::string* error);

// True for "host:port" and "[v6]:port" with a port in 1..65535.
bool is_host_port(std::string_view text);

// Environment variable of a long flag name: "listen-peer" -> RAFTMETA_LISTEN_PEER.
std::string env_name_of(std::string_view flag);

}  // namespace raftmeta::node::server
