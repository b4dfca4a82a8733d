#include "sidecar/node/server/grpc_status.h"

namespace raftmeta::node::server {

grpc::StatusCode to_grpc_code(int code) {
  if (code >= grpc::StatusCode::OK && code <= grpc::StatusCode::UNAUTHENTICATED) {
    return static_cast<grpc::StatusCode>(code);
  }
  return grpc::StatusCode::INTERNAL;
}

grpc::Status to_grpc_status(const RequestStatus& status, grpc::ServerContextBase* context) {
  if (status.ok()) return grpc::Status::OK;
  std::string message = status.message;
  if (status.code == kUnavailable && status.leader_id != raft::kNoNode) {
    message += message.empty() ? "" : "; ";
    message += "leader is member " + std::to_string(status.leader_id);
    if (!status.leader_client_address.empty()) {
      message += " at " + status.leader_client_address;
    }
    if (context != nullptr) {
      context->AddTrailingMetadata(kLeaderIdTrailer, std::to_string(status.leader_id));
      if (!status.leader_client_address.empty()) {
        context->AddTrailingMetadata(kLeaderAddressTrailer, status.leader_client_address);
      }
    }
  }
  if (message.empty()) message = "request failed";
  return grpc::Status(to_grpc_code(status.code), message);
}

grpc::Status to_grpc_status(const ApplyOutcome& outcome) {
  if (outcome.code == kOk) return grpc::Status::OK;
  return grpc::Status(to_grpc_code(outcome.code),
                      outcome.message.empty() ? "the command was refused" : outcome.message);
}

Deadline call_deadline(const grpc::ServerContextBase& context, std::chrono::milliseconds max) {
  const Deadline cap = Clock::now() + max;
  const auto client = context.deadline();  // system_clock; far future when unset
  const auto left = client - std::chrono::system_clock::now();
  if (left >= max) return cap;
  return Clock::now() + std::chrono::duration_cast<Clock::duration>(left);
}

grpc::Status check_cluster_id(const std::string& requested, const std::string& ours) {
  if (requested.empty() || requested == ours) return grpc::Status::OK;
  return grpc::Status(
      grpc::StatusCode::FAILED_PRECONDITION,
      "request for cluster '" + requested + "' reached a member of cluster '" + ours + "'");
}

}  // namespace raftmeta::node::server
