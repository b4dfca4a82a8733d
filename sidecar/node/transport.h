// How the node's loops talk to peers: batches of Raft messages one way, and
// forwarded client requests (a follower's write or admin op sent to the
// leader) with an answer.
//
// Implementations: InMemoryNetwork/InMemoryTransport (tests; partition and
// drop controls) and GrpcTransport (one stream per peer, batched, reconnecting
// with backoff, re-resolving DNS on reconnect).
//
// CONTRACT. send() and forward() never block on the network or on the
// receiver: they queue (bounded) or drop. Raft tolerates lost messages; a
// dropped forward is answered UNAVAILABLE through its callback. Every
// callback is called exactly once, possibly on a transport thread, and must
// not block. A receiver refuses batches whose cluster id differs from its own
// or whose target is not its id (TransportHandler is never called for them).
//
// Thread safety: all methods are safe for concurrent use.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sidecar/raft/message.h"
#include "sidecar/raft/types.h"

namespace raftmeta::node {

class PeerIncarnationBook;

struct MessageBatch {
  std::string cluster_id;
  raft::NodeId from = raft::kNoNode;
  raft::NodeId to = raft::kNoNode;
  // The sender's advertised client address, so members learn where to send
  // clients (the leader's address in status and UNAVAILABLE answers).
  std::string from_client_address;
  // The sender's advertised peer address, so a receiver that does not know
  // the sender yet (a new learner) can answer it.
  std::string from_peer_address;
  std::vector<raft::Message> messages;
};

// A request a follower forwards to the leader.
struct ForwardRequest {
  enum class Kind : std::uint8_t {
    kPropose = 0,
    kAddLearner = 1,
    kPromote = 2,
    kRemove = 3,
    kTransferLeader = 4,
  };
  std::string cluster_id;
  raft::NodeId from = raft::kNoNode;
  raft::NodeId to = raft::kNoNode;
  Kind kind = Kind::kPropose;
  std::string command;          // kPropose
  raft::NodeId target = 0;      // admin ops: the member concerned
  std::string peer_address;     // kAddLearner
  std::int64_t timeout_ms = 0;  // the remaining time the caller will wait
};

struct ForwardResponse {
  int code = 0;  // gRPC status code numbers; 0 = OK
  std::string message;
  raft::NodeId leader_id = raft::kNoNode;
  std::string leader_client_address;
  // kPropose: the state machine's answer.
  int outcome_code = 0;
  std::string outcome_message;
  std::string outcome_response;
  std::uint64_t index = 0;
  std::string detail;  // admin ops
};

// Implemented by the node; called by the transport for inbound traffic.
class TransportHandler {
 public:
  virtual ~TransportHandler() = default;
  // A batch addressed to this member of this cluster. Must not block.
  virtual void on_batch(MessageBatch batch) = 0;
  // A forwarded request; `reply` is called exactly once (any thread), by
  // about request.timeout_ms. Must not block.
  virtual void on_forward(ForwardRequest request, std::function<void(ForwardResponse)> reply) = 0;
};

// What one peer answered to the bootstrap probe (Transport::hello).
struct HelloAnswer {
  raft::NodeId peer = raft::kNoNode;
  // The incarnation the peer has on record for the asking member; 0: none.
  std::uint64_t known_incarnation = 0;
};

// One InstallSnapshot transfer as the transport sees it (status only).
struct SnapshotTransfer {
  raft::NodeId peer = raft::kNoNode;  // the receiver (outgoing) or sender
  bool outgoing = true;
  raft::Index index = 0;  // the snapshot's index
  std::uint64_t bytes_done = 0;
  std::uint64_t bytes_total = 0;
  bool finished = false;        // the last chunk went out / arrived
  std::int64_t updated_ns = 0;  // monotonic ns of the last chunk
};

class Transport {
 public:
  virtual ~Transport() = default;
  // This member's incarnation (stamped on outbound batches) and the book
  // inbound batches are admitted against (a batch from a known id with
  // another incarnation is refused). Called by Node::start before start().
  // Default: transports without incarnation checks ignore it.
  virtual void set_incarnation(std::uint64_t /*incarnation*/,
                               std::shared_ptr<PeerIncarnationBook> /*book*/) {}
  // Bootstrap probe: asks every peer in `peers` (id -> peer address) what
  // incarnation it has on record for `self`; waits at most `timeout` in all.
  // Peers that do not answer in time, or refuse, are left out. Default: none
  // answers.
  virtual std::vector<HelloAnswer> hello(const std::map<raft::NodeId, std::string>& /*peers*/,
                                         const std::string& /*cluster_id*/, raft::NodeId /*self*/,
                                         std::uint64_t /*incarnation*/,
                                         std::chrono::milliseconds /*timeout*/) {
    return {};
  }
  // InstallSnapshot transfers in progress or recently finished, both ways.
  // Default: none tracked.
  virtual std::vector<SnapshotTransfer> snapshot_transfers() const { return {}; }
  // Starts delivering inbound traffic to `handler` (until stop()).
  virtual void start(raft::NodeId self, std::string cluster_id, TransportHandler* handler) = 0;
  // Peers known by id; the address may change (a re-added member).
  virtual void set_peer(raft::NodeId id, std::string peer_address) = 0;
  virtual void remove_peer(raft::NodeId id) = 0;
  // Queues the batch for batch.to; may drop it (bounded, never blocks).
  // Returns false if dropped right away (peer unknown, queue full, down).
  virtual bool send(MessageBatch batch) = 0;
  // Sends a forwarded request; `done` is called exactly once, by
  // request.timeout_ms plus the transport's own small bound.
  virtual void forward(ForwardRequest request, std::function<void(ForwardResponse)> done) = 0;
  // Stops delivery; after it returns the handler is never called again.
  virtual void stop() = 0;
};

}  // namespace raftmeta::node
