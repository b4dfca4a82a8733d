// AdminService: the raftmeta.v1.Admin gRPC service (admin.proto) over a Node:
// status, member list, add learner, promote, remove, transfer leadership and
// take a snapshot.
//
// Status and member list are answered on the gRPC thread from the published
// NodeStatus (lock-free). Membership, transfer and snapshot requests run on the
// RequestExecutor because the node blocks until they are committed (or their
// deadline passes); followers forward them to the leader inside the node.
//
// Thread safety: gRPC calls methods concurrently; the service keeps no
// mutable state of its own.
#pragma once

#include "raftmeta/v1/admin.grpc.pb.h"
#include "sidecar/node/server/service_context.h"

namespace raftmeta::node::server {

class AdminService final : public raftmeta::v1::Admin::CallbackService {
 public:
  explicit AdminService(ServiceContext context) : ctx_(std::move(context)) {}

  grpc::ServerUnaryReactor* GetStatus(grpc::CallbackServerContext* context,
                                      const v1::GetStatusRequest* request,
                                      v1::GetStatusResponse* response) override;
  grpc::ServerUnaryReactor* ListMembers(grpc::CallbackServerContext* context,
                                        const v1::ListMembersRequest* request,
                                        v1::ListMembersResponse* response) override;
  grpc::ServerUnaryReactor* AddLearner(grpc::CallbackServerContext* context,
                                       const v1::AddLearnerRequest* request,
                                       v1::AddLearnerResponse* response) override;
  grpc::ServerUnaryReactor* PromoteMember(grpc::CallbackServerContext* context,
                                          const v1::PromoteMemberRequest* request,
                                          v1::PromoteMemberResponse* response) override;
  grpc::ServerUnaryReactor* RemoveMember(grpc::CallbackServerContext* context,
                                         const v1::RemoveMemberRequest* request,
                                         v1::RemoveMemberResponse* response) override;
  grpc::ServerUnaryReactor* TransferLeader(grpc::CallbackServerContext* context,
                                           const v1::TransferLeaderRequest* request,
                                           v1::TransferLeaderResponse* response) override;
  grpc::ServerUnaryReactor* TakeSnapshot(grpc::CallbackServerContext* context,
                                         const v1::TakeSnapshotRequest* request,
                                         v1::TakeSnapshotResponse* response) override;

 private:
  const ServiceContext ctx_;
};

// The published status as the wire message (also used by tests).
void fill_status(const NodeStatus& status, std::int64_t now_ns, v1::GetStatusResponse* out);
// Adds the transport's InstallSnapshot transfers (Node::snapshot_transfers)
// to a filled status; an unfinished outgoing one also shows in that peer's
// PeerProgress (pending_snapshot_index, bytes sent / total).
void fill_snapshot_transfers(const std::vector<SnapshotTransfer>& transfers, std::int64_t now_ns,
                             v1::GetStatusResponse* out);
void fill_members(const NodeStatus& status, std::int64_t now_ns,
                  google::protobuf::RepeatedPtrField<v1::Member>* out);

}  // namespace raftmeta::node::server
