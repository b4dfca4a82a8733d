// InMemoryNetwork / InMemoryTransport: the Transport for tests, with partition
// and drop controls.
//
// Every member of a test cluster gets an InMemoryTransport attached to one
// shared InMemoryNetwork. send() delivers on the caller's thread straight into
// the receiver's TransportHandler (which only pushes to the receiver's bounded
// inbox, so nothing blocks); a cut link, a stopped receiver or an unknown
// address drops the batch. Addresses are names registered with attach(): a
// member restarted from its data directory re-attaches under its address.
//
// Thread safety: all methods are safe for concurrent use. The network's mutex
// is a leaf (never held while a handler runs); each endpoint has a
// reader/writer lock held shared while its handler runs, so stop() returns
// only when no delivery is inside the handler.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <utility>

#include "sidecar/node/transport.h"

namespace raftmeta::node {

class InMemoryNetwork {
 public:
  // Cuts / restores both directions between a and b (member ids).
  void cut(raft::NodeId a, raft::NodeId b);
  void restore(raft::NodeId a, raft::NodeId b);
  // Cuts every link of `id` (restore with heal()).
  void isolate(raft::NodeId id);
  void heal();
  // Number of batches delivered so far (tests use it to see traffic flow).
  std::uint64_t delivered() const { return delivered_.load(std::memory_order_relaxed); }
  // The next `count` batches that carry a snapshot are lost after send()
  // reported them sent, as when the receiver's inbox is full.
  void drop_snapshots(int count) { snapshots_to_drop_.store(count); }
  std::uint64_t snapshots_dropped() const { return snapshots_dropped_.load(); }

 private:
  friend class InMemoryTransport;
  struct Endpoint {
    std::shared_mutex mu;  // shared while delivering; exclusive to stop
    TransportHandler* handler = nullptr;
    raft::NodeId id = raft::kNoNode;
  };
  void attach(const std::string& address, std::shared_ptr<Endpoint> endpoint);
  void detach(const std::string& address, const std::shared_ptr<Endpoint>& endpoint);
  // The endpoint at `address` if the link from -> its member is up.
  std::shared_ptr<Endpoint> route(raft::NodeId from, const std::string& address) const;
  bool link_up(raft::NodeId a, raft::NodeId b) const;

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Endpoint>> endpoints_;
  std::set<std::pair<raft::NodeId, raft::NodeId>> cut_;
  std::set<raft::NodeId> isolated_;
  std::atomic<std::uint64_t> delivered_{0};
  std::atomic<int> snapshots_to_drop_{0};
  std::atomic<std::uint64_t> snapshots_dropped_{0};
};

class InMemoryTransport final : public Transport {
 public:
  // `address` is this member's peer address on the network.
  InMemoryTransport(std::shared_ptr<InMemoryNetwork> network, std::string address);
  ~InMemoryTransport() override;

  void start(raft::NodeId self, std::string cluster_id, TransportHandler* handler) override;
  void set_peer(raft::NodeId id, std::string peer_address) override;
  void remove_peer(raft::NodeId id) override;
  bool send(MessageBatch batch) override;
  void forward(ForwardRequest request, std::function<void(ForwardResponse)> done) override;
  void stop() override;

 private:
  std::string peer_address(raft::NodeId id) const;

  const std::shared_ptr<InMemoryNetwork> network_;
  const std::string address_;
  std::shared_ptr<InMemoryNetwork::Endpoint> endpoint_;
  std::atomic<raft::NodeId> self_{raft::kNoNode};
  mutable std::mutex mu_;  // guards peers_ (leaf)
  std::map<raft::NodeId, std::string> peers_;
};

}  // namespace raftmeta::node
