#include "sidecar/node/inmem_transport.h"

#include <algorithm>

namespace raftmeta::node {
namespace {

std::pair<raft::NodeId, raft::NodeId> link(raft::NodeId a, raft::NodeId b) {
  return a < b ? std::make_pair(a, b) : std::make_pair(b, a);
}

}  // namespace

void InMemoryNetwork::cut(raft::NodeId a, raft::NodeId b) {
  std::lock_guard<std::mutex> lock(mu_);
  cut_.insert(link(a, b));
}

void InMemoryNetwork::restore(raft::NodeId a, raft::NodeId b) {
  std::lock_guard<std::mutex> lock(mu_);
  cut_.erase(link(a, b));
}

void InMemoryNetwork::isolate(raft::NodeId id) {
  std::lock_guard<std::mutex> lock(mu_);
  isolated_.insert(id);
}

void InMemoryNetwork::heal() {
  std::lock_guard<std::mutex> lock(mu_);
  cut_.clear();
  isolated_.clear();
}

void InMemoryNetwork::attach(const std::string& address, std::shared_ptr<Endpoint> endpoint) {
  std::lock_guard<std::mutex> lock(mu_);
  endpoints_[address] = std::move(endpoint);
}

void InMemoryNetwork::detach(const std::string& address,
                             const std::shared_ptr<Endpoint>& endpoint) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = endpoints_.find(address);
  if (it != endpoints_.end() && it->second == endpoint) endpoints_.erase(it);
}

bool InMemoryNetwork::link_up(raft::NodeId a, raft::NodeId b) const {
  return isolated_.count(a) == 0 && isolated_.count(b) == 0 && cut_.count(link(a, b)) == 0;
}

std::shared_ptr<InMemoryNetwork::Endpoint> InMemoryNetwork::route(
    raft::NodeId from, const std::string& address) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = endpoints_.find(address);
  if (it == endpoints_.end()) return nullptr;
  // The endpoint's id is written before it is attached and never changes.
  if (!link_up(from, it->second->id)) return nullptr;
  return it->second;
}

InMemoryTransport::InMemoryTransport(std::shared_ptr<InMemoryNetwork> network, std::string address)
    : network_(std::move(network)),
      address_(std::move(address)),
      endpoint_(std::make_shared<InMemoryNetwork::Endpoint>()) {}

InMemoryTransport::~InMemoryTransport() { stop(); }

void InMemoryTransport::start(raft::NodeId self, std::string /*cluster_id*/,
                              TransportHandler* handler) {
  self_.store(self);
  {
    std::unique_lock<std::shared_mutex> lock(endpoint_->mu);
    endpoint_->handler = handler;
    endpoint_->id = self;
  }
  network_->attach(address_, endpoint_);
}

void InMemoryTransport::set_peer(raft::NodeId id, std::string peer_address) {
  std::lock_guard<std::mutex> lock(mu_);
  peers_[id] = std::move(peer_address);
}

void InMemoryTransport::remove_peer(raft::NodeId id) {
  std::lock_guard<std::mutex> lock(mu_);
  peers_.erase(id);
}

std::string InMemoryTransport::peer_address(raft::NodeId id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = peers_.find(id);
  return it == peers_.end() ? std::string() : it->second;
}

bool InMemoryTransport::send(MessageBatch batch) {
  const std::string address = peer_address(batch.to);
  if (address.empty()) return false;
  auto target = network_->route(self_.load(), address);
  if (!target) return false;
  std::shared_lock<std::shared_mutex> lock(target->mu);
  if (target->handler == nullptr) return false;
  const bool has_snapshot =
      std::any_of(batch.messages.begin(), batch.messages.end(),
                  [](const raft::Message& m) { return m.snapshot.has_value(); });
  if (has_snapshot) {
    int left = network_->snapshots_to_drop_.load();
    while (left > 0 && !network_->snapshots_to_drop_.compare_exchange_weak(left, left - 1)) {
    }
    if (left > 0) {
      network_->snapshots_dropped_.fetch_add(1);
      return true;  // "sent", never delivered
    }
  }
  target->handler->on_batch(std::move(batch));
  network_->delivered_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void InMemoryTransport::forward(ForwardRequest request, std::function<void(ForwardResponse)> done) {
  const std::string address = peer_address(request.to);
  std::shared_ptr<InMemoryNetwork::Endpoint> target;
  if (!address.empty()) target = network_->route(self_.load(), address);
  if (target) {
    std::shared_lock<std::shared_mutex> lock(target->mu);
    if (target->handler != nullptr) {
      target->handler->on_forward(std::move(request), std::move(done));
      return;
    }
  }
  ForwardResponse response;
  response.code = 14;  // UNAVAILABLE
  response.message = "the leader is unreachable";
  done(std::move(response));
}

void InMemoryTransport::stop() {
  network_->detach(address_, endpoint_);
  std::unique_lock<std::shared_mutex> lock(endpoint_->mu);
  endpoint_->handler = nullptr;
}

}  // namespace raftmeta::node
