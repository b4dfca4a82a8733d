#include "sidecar/node/wire_codec.h"

namespace raftmeta::node {
namespace {

void to_proto(const raft::ConfState& in, v1::RaftConfState* out) {
  for (auto id : in.voters) out->add_voters(id);
  for (auto id : in.learners) out->add_learners(id);
  for (auto id : in.removed) out->add_removed(id);
}

raft::ConfState from_proto(const v1::RaftConfState& in) {
  raft::ConfState out;
  out.voters.assign(in.voters().begin(), in.voters().end());
  out.learners.assign(in.learners().begin(), in.learners().end());
  out.removed.assign(in.removed().begin(), in.removed().end());
  return out;
}

}  // namespace

void to_proto(const raft::Message& in, v1::RaftMessage* out) {
  out->set_type(static_cast<std::uint32_t>(in.type));
  out->set_from(in.from);
  out->set_to(in.to);
  out->set_term(in.term);
  out->set_log_term(in.log_term);
  out->set_index(in.index);
  for (const raft::Entry& e : in.entries) {
    auto* pe = out->add_entries();
    pe->set_term(e.term);
    pe->set_index(e.index);
    pe->set_type(e.type == raft::EntryType::kConfChange ? v1::RAFT_ENTRY_CONF_CHANGE
                                                        : v1::RAFT_ENTRY_NORMAL);
    pe->set_data(e.data);
  }
  out->set_commit(in.commit);
  out->set_reject(in.reject);
  out->set_reject_hint(in.reject_hint);
  out->set_reject_hint_term(in.reject_hint_term);
  out->set_context(in.context);
  if (in.snapshot) {
    out->set_has_snapshot(true);
    auto* meta = out->mutable_snapshot_meta();
    meta->set_index(in.snapshot->meta.index);
    meta->set_term(in.snapshot->meta.term);
    to_proto(in.snapshot->meta.conf, meta->mutable_conf());
  }
}

bool from_proto(const v1::RaftMessage& in, raft::Message* out) {
  if (in.type() > static_cast<std::uint32_t>(raft::MessageType::kTransferLeader)) return false;
  out->type = static_cast<raft::MessageType>(in.type());
  out->from = in.from();
  out->to = in.to();
  out->term = in.term();
  out->log_term = in.log_term();
  out->index = in.index();
  out->entries.clear();
  out->entries.reserve(in.entries_size());
  for (const auto& pe : in.entries()) {
    raft::Entry e;
    e.term = pe.term();
    e.index = pe.index();
    e.type = pe.type() == v1::RAFT_ENTRY_CONF_CHANGE ? raft::EntryType::kConfChange
                                                     : raft::EntryType::kNormal;
    e.data = pe.data();
    out->entries.push_back(std::move(e));
  }
  out->commit = in.commit();
  out->reject = in.reject();
  out->reject_hint = in.reject_hint();
  out->reject_hint_term = in.reject_hint_term();
  out->context = in.context();
  out->snapshot.reset();
  if (in.has_snapshot()) {
    raft::Snapshot s;
    s.meta.index = in.snapshot_meta().index();
    s.meta.term = in.snapshot_meta().term();
    s.meta.conf = from_proto(in.snapshot_meta().conf());
    out->snapshot = std::move(s);
  }
  return true;
}

void to_proto(const ForwardRequest& in, v1::ForwardRequest* out) {
  out->set_cluster_id(in.cluster_id);
  out->set_from(in.from);
  out->set_to(in.to);
  out->set_kind(static_cast<v1::ForwardRequest::Kind>(in.kind));
  out->set_command(in.command);
  out->set_target(in.target);
  out->set_peer_address(in.peer_address);
  out->set_timeout_ms(in.timeout_ms);
}

ForwardRequest from_proto(const v1::ForwardRequest& in) {
  ForwardRequest out;
  out.cluster_id = in.cluster_id();
  out.from = in.from();
  out.to = in.to();
  out.kind = static_cast<ForwardRequest::Kind>(in.kind());
  out.command = in.command();
  out.target = in.target();
  out.peer_address = in.peer_address();
  out.timeout_ms = in.timeout_ms();
  return out;
}

void to_proto(const ForwardResponse& in, v1::ForwardResponse* out) {
  out->set_code(in.code);
  out->set_message(in.message);
  out->set_leader_id(in.leader_id);
  out->set_leader_client_address(in.leader_client_address);
  out->set_outcome_code(in.outcome_code);
  out->set_outcome_message(in.outcome_message);
  out->set_outcome_response(in.outcome_response);
  out->set_index(in.index);
  out->set_detail(in.detail);
}

ForwardResponse from_proto(const v1::ForwardResponse& in) {
  ForwardResponse out;
  out.code = in.code();
  out.message = in.message();
  out.leader_id = in.leader_id();
  out.leader_client_address = in.leader_client_address();
  out.outcome_code = in.outcome_code();
  out.outcome_message = in.outcome_message();
  out.outcome_response = in.outcome_response();
  out.index = in.index();
  out.detail = in.detail();
  return out;
}

}  // namespace raftmeta::node
