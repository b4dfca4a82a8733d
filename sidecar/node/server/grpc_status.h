// How the node's answers become gRPC statuses, and how a call's deadline is
// derived. The services and raftmetactl agree on one convention for "ask the
// leader instead": an UNAVAILABLE status whose message names the leader and
// whose trailing metadata carries it machine-readably.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <string>

#include "sidecar/node/node.h"

namespace raftmeta::node::server {

// Trailing metadata on UNAVAILABLE when the leader is known.
inline constexpr const char* kLeaderIdTrailer = "raftmeta-leader-id";
inline constexpr const char* kLeaderAddressTrailer = "raftmeta-leader-address";

// A node-level outcome (transport, leadership, deadlines). Adds the leader
// hint to the message and, when `context` is given, as trailing metadata.
grpc::Status to_grpc_status(const RequestStatus& status, grpc::ServerContextBase* context);

// The state machine's answer (code numbers are gRPC's).
grpc::Status to_grpc_status(const ApplyOutcome& outcome);

// A status code number from the node or the state machine as a gRPC code
// (unknown numbers become INTERNAL, never OK).
grpc::StatusCode to_grpc_code(int code);

// The deadline to hand to the node: the client's, capped at now + `max`
// (also used when the client set none).
Deadline call_deadline(const grpc::ServerContextBase& context, std::chrono::milliseconds max);

// FAILED_PRECONDITION naming both ids, or OK when `requested` matches (an
// empty requested id is accepted: old or casual clients, e.g. grpcurl).
grpc::Status check_cluster_id(const std::string& requested, const std::string& ours);

}  // namespace raftmeta::node::server
