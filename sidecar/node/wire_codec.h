// Conversions between the runtime's peer types (raft::Message, MessageBatch,
// ForwardRequest/Response) and their raft.proto wire form. Snapshot data is
// not carried by to_proto(): GrpcTransport sends it in SnapshotChunks.
#pragma once

#include "raftmeta/v1/raft.pb.h"
#include "sidecar/node/transport.h"
#include "sidecar/raft/message.h"

namespace raftmeta::node {

void to_proto(const raft::Message& in, v1::RaftMessage* out);
// False on an unknown message type (the batch is then refused).
bool from_proto(const v1::RaftMessage& in, raft::Message* out);

void to_proto(const ForwardRequest& in, v1::ForwardRequest* out);
ForwardRequest from_proto(const v1::ForwardRequest& in);
void to_proto(const ForwardResponse& in, v1::ForwardResponse* out);
ForwardResponse from_proto(const v1::ForwardResponse& in);

}  // namespace raftmeta::node
