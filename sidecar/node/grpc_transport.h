// GrpcTransport: the peer transport over gRPC (raft.proto's Raft service).
//
// Outbound: one PeerLink per peer, each with its own thread ("peer-<id>"), a
// bounded queue (max_queued_batches: send() drops beyond it, Raft
// retransmits) and one client stream. A link writes what has queued as one
// burst with the write-buffer hint on all but the last message. When the
// stream breaks it reconnects with backoff (initial 100 ms, at most
// max_backoff_ms) on a NEW channel, so DNS names are re-resolved on every
// reconnect (pod IPs change); channels also set
// GRPC_ARG_DNS_MIN_TIME_BETWEEN_RESOLUTIONS_MS and gRPC's reconnect backoff
// near 1 s, a local subchannel pool (one connection per peer) and message
// size limits. Snapshot messages travel in chunks of snapshot_chunk_bytes.
// Batches queued while a stream was broken are dropped (Raft resends), except
// the latest snapshot whose last chunk was not written yet: it is sent again
// on the next stream, because a leader waits for a snapshot's answer without
// resending it (nothing reports the loss to the Raft core).
// Forwarded requests use the callback API with the request's deadline.
//
// Inbound: the transport runs the Raft service on listen_address. A stream
// is refused (FAILED_PRECONDITION) at the first batch of another cluster,
// addressed to another member, or (with set_incarnation) from a member id
// whose incarnation differs from the one the PeerIncarnationBook recorded
// (its data directory was replaced). A refused sender logs the reason
// (rate-limited) and keeps reconnecting with backoff.
//
// Snapshot progress: each link records the latest snapshot it sent (bytes
// written / total) and the service the latest one received from each sender;
// snapshot_transfers() reports both (under small leaf mutexes).
//
// Incarnation gossip: a link passes this member's book entries on
// (RaftBatch.known_incarnations) on a stream's first batch and whenever the
// book changed; the receiver records ids it did not know (after admitting
// the sender itself).
//
// Thread safety: all methods are safe for concurrent use.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>

#include "sidecar/node/transport.h"

namespace grpc {
class Server;
}

namespace raftmeta::node {

struct GrpcTransportOptions {
  std::string listen_address = "0.0.0.0:7400";
  std::size_t max_message_bytes = 64u << 20;
  std::size_t snapshot_chunk_bytes = 1u << 20;
  std::size_t max_queued_batches = 1024;  // per peer
  int max_backoff_ms = 1000;
};

class GrpcTransport final : public Transport {
 public:
  explicit GrpcTransport(GrpcTransportOptions options);
  ~GrpcTransport() override;

  // The port the server bound (useful with ":0").
  int bound_port() const { return bound_port_; }

  void start(raft::NodeId self, std::string cluster_id, TransportHandler* handler) override;
  void set_peer(raft::NodeId id, std::string peer_address) override;
  void remove_peer(raft::NodeId id) override;
  bool send(MessageBatch batch) override;
  void forward(ForwardRequest request, std::function<void(ForwardResponse)> done) override;
  void stop() override;
  void set_incarnation(std::uint64_t incarnation,
                       std::shared_ptr<PeerIncarnationBook> book) override;
  // Blocks the caller for at most `timeout` (plus gRPC's own small slack).
  std::vector<HelloAnswer> hello(const std::map<raft::NodeId, std::string>& peers,
                                 const std::string& cluster_id, raft::NodeId self,
                                 std::uint64_t incarnation,
                                 std::chrono::milliseconds timeout) override;
  std::vector<SnapshotTransfer> snapshot_transfers() const override;

  // Starts the server only (before start(): binds the port). Returns false
  // with *error if the address cannot be bound.
  bool listen(std::string* error);

  class PeerLink;
  class Service;

 private:
  const GrpcTransportOptions options_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
  int bound_port_ = 0;
  // This member's incarnation and book, shared with the links (whose
  // threads may outlive a removed link's entry).
  struct LocalIdentity;
  const std::shared_ptr<LocalIdentity> identity_;
  mutable std::mutex mu_;  // guards links_ (leaf)
  std::map<raft::NodeId, std::shared_ptr<PeerLink>> links_;
  bool stopped_ = false;
};

}  // namespace raftmeta::node
