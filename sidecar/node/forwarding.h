// Conversions between the answers the loops produce (ProposeReply,
// AdminReply) and the ForwardResponse a leader sends back to a follower that
// forwarded a client's request.
#pragma once

#include "sidecar/node/node.h"
#include "sidecar/node/transport.h"

namespace raftmeta::node {

inline ForwardResponse to_forward_response(const ProposeReply& reply) {
  ForwardResponse r;
  r.code = reply.status.code;
  r.message = reply.status.message;
  r.leader_id = reply.status.leader_id;
  r.leader_client_address = reply.status.leader_client_address;
  r.outcome_code = reply.outcome.code;
  r.outcome_message = reply.outcome.message;
  r.outcome_response = reply.outcome.response;
  r.index = reply.index;
  return r;
}

inline ForwardResponse to_forward_response(const AdminReply& reply) {
  ForwardResponse r;
  r.code = reply.status.code;
  r.message = reply.status.message;
  r.leader_id = reply.status.leader_id;
  r.leader_client_address = reply.status.leader_client_address;
  r.detail = reply.detail;
  return r;
}

inline RequestStatus status_of(const ForwardResponse& r) {
  RequestStatus s;
  s.code = r.code;
  s.message = r.message;
  s.leader_id = r.leader_id;
  s.leader_client_address = r.leader_client_address;
  return s;
}

inline ProposeReply propose_reply_of(const ForwardResponse& r) {
  ProposeReply reply;
  reply.status = status_of(r);
  reply.outcome.code = r.outcome_code;
  reply.outcome.message = r.outcome_message;
  reply.outcome.response = r.outcome_response;
  reply.index = r.index;
  return reply;
}

inline AdminReply admin_reply_of(const ForwardResponse& r) {
  AdminReply reply;
  reply.status = status_of(r);
  reply.detail = r.detail;
  return reply;
}

}  // namespace raftmeta::node
