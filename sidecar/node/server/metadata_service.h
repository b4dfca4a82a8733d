// MetadataService: the raftmeta.v1.Metadata gRPC service (metadata.proto)
// over a Node and the state machine's published State.
//
// NO THREAD BLOCKS PER REQUEST. Every method is a gRPC callback-API handler:
// it either answers at once on the gRPC thread, or hands the request to the
// Node's asynchronous API (Node::propose_async / read_barrier_async) and
// returns; the Node's completion callback then makes the answer and calls
// Finish on the call's reactor. Which thread runs that callback is stated in
// node.h: normally "apply-loop" for writes and linearizable reads that
// waited for an index, "raft-loop" for refusals and reads whose index was
// already applied, "deadline-timer" when the deadline won, a transport thread
// for writes a follower forwarded. These callbacks do only cheap work (parse
// the recorded answer, look up a point read, Finish) and take no lock of
// ours; list reads (ListTopics, ListBrokers, ListGroups), which may copy much
// of the State, are served on the RequestExecutor instead.
//
// Writes: the request becomes a state-machine Command (with the request
// header, whose cluster id must be this cluster's). A write whose (client id,
// request id) the state machine already remembers is answered with its
// original outcome at once. Otherwise the command is validated against the
// latest published State: request errors that do not depend on the state
// (INVALID_ARGUMENT, OUT_OF_RANGE) are answered at once; a state-dependent
// refusal (NOT_FOUND, ALREADY_EXISTS, stale epoch) is confirmed after a
// linearizable read barrier; any other command is proposed, and the outcome
// that apply records is the answer (so a lagging follower never answers from
// an old state).
//
// Reads: ReadOptions.consistency picks the barrier level (stale is answered
// on the gRPC thread), then the answer comes from the published State, with
// its revision.
//
// Bound: at most `max_in_flight` writes and non-stale reads wait on the node
// at once; more are refused at once with RESOURCE_EXHAUSTED (retryable).
//
// Watch streams are served by a WatchHub (watch_hub.h).
//
// Thread safety: gRPC calls every method concurrently; the only mutable state
// is an atomic in-flight count and the hub, which is safe for concurrent use.
#pragma once

#include <atomic>
#include <cstddef>
#include <string>

#include "raftmeta/v1/metadata.grpc.pb.h"
#include "sidecar/node/server/service_context.h"
#include "sidecar/node/server/watch_hub.h"

namespace raftmeta::v1 {
class Command;
}

namespace raftmeta::node::server {

class MetadataService final : public raftmeta::v1::Metadata::CallbackService {
 public:
  // Writes and non-stale reads waiting on the node at once, by default.
  static constexpr std::size_t kDefaultMaxInFlight = 4096;

  // `hub` must outlive the service; the node and executor in `context` must
  // outlive every call (the owner shuts the Node down, which answers every
  // waiting request, before it shuts the gRPC server down).
  MetadataService(ServiceContext context, WatchHub* hub,
                  std::size_t max_in_flight = kDefaultMaxInFlight)
      : ctx_(std::move(context)), hub_(hub), max_in_flight_(max_in_flight) {}

  grpc::ServerUnaryReactor* CreateTopic(grpc::CallbackServerContext* c,
                                        const v1::CreateTopicRequest* req,
                                        v1::CreateTopicResponse* resp) override;
  grpc::ServerUnaryReactor* GetTopic(grpc::CallbackServerContext* c, const v1::GetTopicRequest* req,
                                     v1::GetTopicResponse* resp) override;
  grpc::ServerUnaryReactor* ListTopics(grpc::CallbackServerContext* c,
                                       const v1::ListTopicsRequest* req,
                                       v1::ListTopicsResponse* resp) override;
  grpc::ServerUnaryReactor* DeleteTopic(grpc::CallbackServerContext* c,
                                        const v1::DeleteTopicRequest* req,
                                        v1::DeleteTopicResponse* resp) override;
  grpc::ServerUnaryReactor* GetPartition(grpc::CallbackServerContext* c,
                                         const v1::GetPartitionRequest* req,
                                         v1::GetPartitionResponse* resp) override;
  grpc::ServerUnaryReactor* AlterPartition(grpc::CallbackServerContext* c,
                                           const v1::AlterPartitionRequest* req,
                                           v1::AlterPartitionResponse* resp) override;
  grpc::ServerUnaryReactor* RegisterBroker(grpc::CallbackServerContext* c,
                                           const v1::RegisterBrokerRequest* req,
                                           v1::RegisterBrokerResponse* resp) override;
  grpc::ServerUnaryReactor* BrokerHeartbeat(grpc::CallbackServerContext* c,
                                            const v1::BrokerHeartbeatRequest* req,
                                            v1::BrokerHeartbeatResponse* resp) override;
  grpc::ServerUnaryReactor* UnregisterBroker(grpc::CallbackServerContext* c,
                                             const v1::UnregisterBrokerRequest* req,
                                             v1::UnregisterBrokerResponse* resp) override;
  grpc::ServerUnaryReactor* GetBroker(grpc::CallbackServerContext* c,
                                      const v1::GetBrokerRequest* req,
                                      v1::GetBrokerResponse* resp) override;
  grpc::ServerUnaryReactor* ListBrokers(grpc::CallbackServerContext* c,
                                        const v1::ListBrokersRequest* req,
                                        v1::ListBrokersResponse* resp) override;
  grpc::ServerUnaryReactor* CreateGroup(grpc::CallbackServerContext* c,
                                        const v1::CreateGroupRequest* req,
                                        v1::CreateGroupResponse* resp) override;
  grpc::ServerUnaryReactor* UpdateGroup(grpc::CallbackServerContext* c,
                                        const v1::UpdateGroupRequest* req,
                                        v1::UpdateGroupResponse* resp) override;
  grpc::ServerUnaryReactor* DeleteGroup(grpc::CallbackServerContext* c,
                                        const v1::DeleteGroupRequest* req,
                                        v1::DeleteGroupResponse* resp) override;
  grpc::ServerUnaryReactor* GetGroup(grpc::CallbackServerContext* c, const v1::GetGroupRequest* req,
                                     v1::GetGroupResponse* resp) override;
  grpc::ServerUnaryReactor* ListGroups(grpc::CallbackServerContext* c,
                                       const v1::ListGroupsRequest* req,
                                       v1::ListGroupsResponse* resp) override;
  grpc::ServerUnaryReactor* CommitOffsets(grpc::CallbackServerContext* c,
                                          const v1::CommitOffsetsRequest* req,
                                          v1::CommitOffsetsResponse* resp) override;
  grpc::ServerUnaryReactor* FetchOffsets(grpc::CallbackServerContext* c,
                                         const v1::FetchOffsetsRequest* req,
                                         v1::FetchOffsetsResponse* resp) override;
  grpc::ServerUnaryReactor* DeleteOffsets(grpc::CallbackServerContext* c,
                                          const v1::DeleteOffsetsRequest* req,
                                          v1::DeleteOffsetsResponse* resp) override;
  grpc::ServerUnaryReactor* AllocateProducerIds(grpc::CallbackServerContext* c,
                                                const v1::AllocateProducerIdsRequest* req,
                                                v1::AllocateProducerIdsResponse* resp) override;
  grpc::ServerWriteReactor<v1::WatchEvent>* Watch(grpc::CallbackServerContext* c,
                                                  const v1::WatchRequest* req) override;

 private:
  // The write path described above; `command` already holds the operation.
  grpc::ServerUnaryReactor* write(grpc::CallbackServerContext* c, const v1::RequestHeader& header,
                                  v1::Command command, google::protobuf::Message* response);
  // Proposes `bytes` and finishes the call with the outcome (admitted calls).
  void propose(grpc::CallbackServerContext* c, grpc::ServerUnaryReactor* reactor,
               google::protobuf::Message* response, std::string bytes, Deadline deadline);
  // The read path: barrier at `options`' level, then `serve` on the State,
  // on the thread that completed the barrier or on the executor.
  enum class ServeOn { kCompletingThread, kExecutor };
  using Serve = std::function<grpc::Status(const state::State&)>;
  grpc::ServerUnaryReactor* read(grpc::CallbackServerContext* c, const v1::ReadOptions& options,
                                 google::protobuf::Message* response, ServeOn where, Serve serve);
  // The in-flight bound: admit() before a call waits on the node; finish()
  // releases it and finishes the call (any thread; nothing touches the call
  // afterwards).
  bool admit();
  grpc::ServerUnaryReactor* finish(grpc::ServerUnaryReactor* reactor, grpc::Status status);

  const ServiceContext ctx_;
  WatchHub* const hub_;
  const std::size_t max_in_flight_;
  std::atomic<std::size_t> in_flight_{0};
};

}  // namespace raftmeta::node::server
