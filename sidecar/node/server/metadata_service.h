// MetadataService: the raftmeta.v1.Metadata gRPC service (metadata.proto)
// over a Node and the state machine's published State.
//
// Writes: the request becomes a state-machine Command (with the request
// header, whose cluster id must be this cluster's). A write whose (client id,
// request id) the state machine already remembers is answered with its
// original outcome at once. Otherwise the command is validated against the
// latest published State: request errors that do not depend on the state
// (INVALID_ARGUMENT, OUT_OF_RANGE) are answered at once, and so are
// state-dependent ones when this member is the leader and has applied its
// whole commit index; any other command is proposed, and the outcome that
// apply records is the answer (so a lagging follower never answers from an
// old state). Proposals wait on the RequestExecutor's threads, never on
// gRPC's.
//
// Reads: ReadOptions.consistency picks Node::read_barrier's level
// (linearizable and lease wait on the executor; stale is answered on the
// gRPC thread), then the answer comes from the published State, with its
// revision.
//
// Watch streams are served by a WatchHub (watch_hub.h).
//
// Thread safety: gRPC calls every method concurrently; the service holds no
// mutable state besides the hub, which is safe for concurrent use.
#pragma once

#include "raftmeta/v1/metadata.grpc.pb.h"
#include "sidecar/node/server/service_context.h"
#include "sidecar/node/server/watch_hub.h"

namespace raftmeta::v1 {
class Command;
}

namespace raftmeta::node::server {

class MetadataService final : public raftmeta::v1::Metadata::CallbackService {
 public:
  // `hub` must outlive the service.
  MetadataService(ServiceContext context, WatchHub* hub) : ctx_(std::move(context)), hub_(hub) {}

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
  // The read path: barrier at `options`' level, then `serve` on the State.
  using Serve = std::function<grpc::Status(const state::State&)>;
  grpc::ServerUnaryReactor* read(grpc::CallbackServerContext* c, const v1::ReadOptions& options,
                                 google::protobuf::Message* response, Serve serve);

  const ServiceContext ctx_;
  WatchHub* const hub_;
};

}  // namespace raftmeta::node::server
