// What the Metadata and Admin services share: the node they serve, the
// worker pool that runs their blocking calls, and the limits of a call.
//
// Thread safety: immutable after construction; the pointees are safe for
// concurrent use (Node and RequestExecutor say so).
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "sidecar/node/node.h"
#include "sidecar/node/server/request_executor.h"

namespace raftmeta::health {
struct NodeMetrics;
}
namespace raftmeta::state {
struct State;
}

namespace raftmeta::node::server {

struct ServiceContext {
  Node* node = nullptr;
  RequestExecutor* executor = nullptr;
  health::NodeMetrics* metrics = nullptr;  // may be null
  // The state machine's latest published State (an atomic load; never waits
  // on the apply thread). Only the Metadata service uses it.
  std::function<std::shared_ptr<const state::State>()> current_state;
  std::string cluster_id;
  // Longest a call waits on the node (also when the client set no deadline).
  std::chrono::milliseconds max_call_time{10000};
};

// Runs `work` (returning grpc::Status) on the executor and finishes the call
// with its result; refuses at once with RESOURCE_EXHAUSTED when the executor
// is full. `work` must only touch what outlives the call (the request and
// response stay valid until Finish).
template <typename Work>
grpc::ServerUnaryReactor* run_on_executor(const ServiceContext& ctx,
                                          grpc::CallbackServerContext* context, Work work) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const bool queued = ctx.executor->submit(
      [reactor, work = std::move(work)]() mutable { reactor->Finish(work()); });
  if (!queued) {
    reactor->Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                 "too many requests in progress on this member; retry later"));
  }
  return reactor;
}

// Finishes the call at once (for answers computed on the gRPC thread).
inline grpc::ServerUnaryReactor* finish_now(grpc::CallbackServerContext* context,
                                            grpc::Status status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(std::move(status));
  return reactor;
}

}  // namespace raftmeta::node::server
