#include "sidecar/node/server/admin_service.h"

#include <charconv>
#include <thread>

#include "sidecar/health/progress.h"
#include "sidecar/node/server/grpc_status.h"

namespace raftmeta::node::server {
namespace {

v1::Role role_of(raft::Role role) {
  switch (role) {
    case raft::Role::kLeader:
      return v1::ROLE_LEADER;
    case raft::Role::kCandidate:
      return v1::ROLE_CANDIDATE;
    case raft::Role::kPreCandidate:
      return v1::ROLE_PRE_CANDIDATE;
    case raft::Role::kFollower:
    case raft::Role::kLearner:
      return v1::ROLE_FOLLOWER;
  }
  return v1::ROLE_UNSPECIFIED;
}

std::int64_t since_ms(std::int64_t then_ns, std::int64_t now_ns) {
  if (then_ns == 0) return -1;
  return now_ns > then_ns ? (now_ns - then_ns) / 1'000'000 : 0;
}

// The node reports a committed index or snapshot index in `detail` as a
// decimal number when it has one; anything else reads as 0 (unknown).
std::uint64_t index_in(const std::string& detail) {
  std::uint64_t value = 0;
  const char* begin = detail.data();
  const char* end = begin + detail.size();
  while (begin != end && (*begin < '0' || *begin > '9')) ++begin;
  std::from_chars(begin, end, value);
  return value;
}

const MemberStatus* find_member(const NodeStatus& status, raft::NodeId id) {
  for (const MemberStatus& m : status.members) {
    if (m.id == id) return &m;
  }
  return nullptr;
}

// The shared shape of AddLearner, PromoteMember and RemoveMember: the
// request's cluster id and member id are checked, then `invalid` (a further
// request check by the caller) is answered if it is not OK, then `change` (a Node admin call
// taking a deadline) runs on the executor, and the answer carries the index
// the change got and the resulting member list.
template <typename Request, typename Response, typename Change>
grpc::ServerUnaryReactor* change_membership(const ServiceContext& ctx,
                                            grpc::CallbackServerContext* context,
                                            const Request* request, Response* response,
                                            grpc::Status invalid, Change change) {
  if (grpc::Status s = check_cluster_id(request->header().cluster_id(), ctx.cluster_id); !s.ok()) {
    return finish_now(context, s);
  }
  if (request->id() == raft::kNoNode) {
    return finish_now(context, {grpc::StatusCode::INVALID_ARGUMENT, "member id must be > 0"});
  }
  if (!invalid.ok()) return finish_now(context, invalid);
  const Deadline deadline = call_deadline(*context, ctx.max_call_time);
  return run_on_executor(ctx, context, [&ctx, context, response, deadline, change] {
    const AdminReply reply = change(deadline);
    if (!reply.status.ok()) return to_grpc_status(reply.status, context);
    response->set_index(index_in(reply.detail));
    fill_members(*ctx.node->status(), health::monotonic_ns(), response->mutable_members());
    return grpc::Status::OK;
  });
}

}  // namespace

void fill_status(const NodeStatus& s, std::int64_t now_ns, v1::GetStatusResponse* out) {
  out->set_id(s.id);
  out->set_role(role_of(s.role));
  out->set_term(s.term);
  out->set_leader(s.leader_id);
  out->set_commit_index(s.commit);
  out->set_applied_index(s.applied);
  out->set_last_index(s.last_index);
  out->set_snapshot_index(s.snapshot_index);
  out->set_cluster_id(s.cluster_id);
  const MemberStatus* self = find_member(s, s.id);
  out->set_kind(self != nullptr && !self->voter ? v1::MEMBER_KIND_LEARNER : v1::MEMBER_KIND_VOTER);
  if (const MemberStatus* leader = find_member(s, s.leader_id)) {
    out->set_leader_peer_address(leader->peer_address);
  }
  if (s.role != raft::Role::kLeader) return;
  for (const MemberStatus& m : s.members) {
    if (m.id == s.id) continue;
    v1::PeerProgress* p = out->add_peers();
    p->set_id(m.id);
    p->set_kind(m.voter ? v1::MEMBER_KIND_VOTER : v1::MEMBER_KIND_LEARNER);
    p->set_match_index(m.match);
    p->set_next_index(m.next);
    p->set_state(m.progress_state);
    p->set_recent_active(m.recent_active);
    p->set_last_contact_ms(since_ms(m.last_contact_ns, now_ns));
  }
}

void fill_members(const NodeStatus& s, std::int64_t now_ns,
                  google::protobuf::RepeatedPtrField<v1::Member>* out) {
  const bool leader_view = s.role == raft::Role::kLeader;
  for (const MemberStatus& m : s.members) {
    v1::Member* member = out->Add();
    member->set_id(m.id);
    member->set_peer_address(m.peer_address);
    member->set_kind(m.voter ? v1::MEMBER_KIND_VOTER : v1::MEMBER_KIND_LEARNER);
    member->set_is_leader(m.id == s.leader_id);
    member->set_match_index(leader_view ? (m.id == s.id ? s.last_index : m.match) : 0);
    member->set_last_contact_ms(leader_view && m.id != s.id ? since_ms(m.last_contact_ns, now_ns)
                                                            : (m.id == s.id ? 0 : -1));
  }
  std::sort(out->begin(), out->end(),
            [](const v1::Member& a, const v1::Member& b) { return a.id() < b.id(); });
}

void fill_snapshot_transfers(const std::vector<SnapshotTransfer>& transfers, std::int64_t now_ns,
                             v1::GetStatusResponse* out) {
  for (const SnapshotTransfer& t : transfers) {
    v1::SnapshotTransferStatus* s = out->add_snapshot_transfers();
    s->set_peer(t.peer);
    s->set_outgoing(t.outgoing);
    s->set_snapshot_index(t.index);
    s->set_bytes_done(t.bytes_done);
    s->set_bytes_total(t.bytes_total);
    s->set_finished(t.finished);
    s->set_last_chunk_ms(since_ms(t.updated_ns, now_ns));
    if (!t.outgoing || t.finished) continue;
    // The leader's view of that follower shows the snapshot it is sending.
    for (v1::PeerProgress& p : *out->mutable_peers()) {
      if (p.id() != t.peer) continue;
      p.set_pending_snapshot_index(t.index);
      p.set_snapshot_bytes_sent(t.bytes_done);
      p.set_snapshot_bytes_total(t.bytes_total);
    }
  }
  std::sort(out->mutable_snapshot_transfers()->begin(), out->mutable_snapshot_transfers()->end(),
            [](const v1::SnapshotTransferStatus& a, const v1::SnapshotTransferStatus& b) {
              return std::make_pair(a.peer(), a.outgoing()) <
                     std::make_pair(b.peer(), b.outgoing());
            });
}

grpc::ServerUnaryReactor* AdminService::GetStatus(grpc::CallbackServerContext* context,
                                                  const v1::GetStatusRequest* request,
                                                  v1::GetStatusResponse* response) {
  if (grpc::Status s = check_cluster_id(request->cluster_id(), ctx_.cluster_id); !s.ok()) {
    return finish_now(context, s);
  }
  const std::int64_t now_ns = health::monotonic_ns();
  fill_status(*ctx_.node->status(), now_ns, response);
  fill_snapshot_transfers(ctx_.node->snapshot_transfers(), now_ns, response);
  return finish_now(context, grpc::Status::OK);
}

grpc::ServerUnaryReactor* AdminService::ListMembers(grpc::CallbackServerContext* context,
                                                    const v1::ListMembersRequest* request,
                                                    v1::ListMembersResponse* response) {
  if (grpc::Status s = check_cluster_id(request->cluster_id(), ctx_.cluster_id); !s.ok()) {
    return finish_now(context, s);
  }
  const std::shared_ptr<const NodeStatus> status = ctx_.node->status();
  fill_members(*status, health::monotonic_ns(), response->mutable_members());
  response->set_leader(status->leader_id);
  response->set_term(status->term);
  return finish_now(context, grpc::Status::OK);
}

grpc::ServerUnaryReactor* AdminService::AddLearner(grpc::CallbackServerContext* context,
                                                   const v1::AddLearnerRequest* request,
                                                   v1::AddLearnerResponse* response) {
  const grpc::Status peer_address =
      request->peer_address().empty()
          ? grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "peer_address (host:port) is required")
          : grpc::Status::OK;
  return change_membership(
      ctx_, context, request, response, peer_address, [this, request](Deadline deadline) {
        return ctx_.node->add_learner(request->id(), request->peer_address(), deadline);
      });
}

grpc::ServerUnaryReactor* AdminService::PromoteMember(grpc::CallbackServerContext* context,
                                                      const v1::PromoteMemberRequest* request,
                                                      v1::PromoteMemberResponse* response) {
  return change_membership(
      ctx_, context, request, response, grpc::Status::OK,
      [this, request](Deadline deadline) { return ctx_.node->promote(request->id(), deadline); });
}

grpc::ServerUnaryReactor* AdminService::RemoveMember(grpc::CallbackServerContext* context,
                                                     const v1::RemoveMemberRequest* request,
                                                     v1::RemoveMemberResponse* response) {
  return change_membership(
      ctx_, context, request, response, grpc::Status::OK,
      [this, request](Deadline deadline) { return ctx_.node->remove(request->id(), deadline); });
}

grpc::ServerUnaryReactor* AdminService::TransferLeader(grpc::CallbackServerContext* context,
                                                       const v1::TransferLeaderRequest* request,
                                                       v1::TransferLeaderResponse* response) {
  if (grpc::Status s = check_cluster_id(request->header().cluster_id(), ctx_.cluster_id); !s.ok()) {
    return finish_now(context, s);
  }
  const Deadline deadline = call_deadline(*context, ctx_.max_call_time);
  return run_on_executor(ctx_, context, [this, context, request, response, deadline] {
    const std::shared_ptr<const NodeStatus> before = ctx_.node->status();
    const AdminReply reply = ctx_.node->transfer_leader(request->to(), deadline);
    if (!reply.status.ok()) return to_grpc_status(reply.status, context);
    // This member may learn of the new leader a little after the transfer
    // completed: answer with the leader of a newer term when it shows up in
    // time, else with what is known.
    std::shared_ptr<const NodeStatus> after = ctx_.node->status();
    while ((after->term <= before->term || after->leader_id == raft::kNoNode) &&
           Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      after = ctx_.node->status();
    }
    response->set_leader(after->leader_id);
    response->set_term(after->term);
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* AdminService::TakeSnapshot(grpc::CallbackServerContext* context,
                                                     const v1::TakeSnapshotRequest* request,
                                                     v1::TakeSnapshotResponse* response) {
  if (grpc::Status s = check_cluster_id(request->header().cluster_id(), ctx_.cluster_id); !s.ok()) {
    return finish_now(context, s);
  }
  const Deadline deadline = call_deadline(*context, ctx_.max_call_time);
  return run_on_executor(ctx_, context, [this, context, response, deadline] {
    const AdminReply reply = ctx_.node->take_snapshot(deadline);
    if (!reply.status.ok()) return to_grpc_status(reply.status, context);
    response->set_snapshot_index(index_in(reply.detail));
    return grpc::Status::OK;
  });
}

}  // namespace raftmeta::node::server
