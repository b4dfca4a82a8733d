// Three members over the real gRPC peer transport on 127.0.0.1 (ephemeral
// ports): writes through followers (forwarded over the Raft service), reads
// at every level, a leader restarted on its port from its data directory, a
// learner catching up through a chunked InstallSnapshot, and peers of another
// cluster refused.
#include <gtest/gtest.h>

#include "sidecar/node/grpc_transport.h"
#include "sidecar/node/tests/test_cluster.h"

namespace raftmeta::node::testing {
namespace {

using std::chrono::milliseconds;

class GrpcCluster {
 public:
  explicit GrpcCluster(int voters) : root_(make_temp_dir()) {
    for (int i = 1; i <= voters; ++i) {
      Member& m = members_[i];
      m.transport = make_transport("127.0.0.1:0");
      std::string error;
      EXPECT_TRUE(m.transport->listen(&error)) << error;
      m.port = m.transport->bound_port();
      initial_[i] = address(i);
    }
  }
  ~GrpcCluster() {
    for (auto& [id, m] : members_) m.node.reset();
    for (auto& [id, m] : members_) m.transport.reset();
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }

  std::unique_ptr<GrpcTransport> make_transport(const std::string& listen) {
    GrpcTransportOptions o;
    o.listen_address = listen;
    o.snapshot_chunk_bytes = 512;  // many chunks per snapshot
    return std::make_unique<GrpcTransport>(o);
  }

  std::string address(raft::NodeId id) {
    return "127.0.0.1:" + std::to_string(members_.at(id).port);
  }

  NodeOptions options(raft::NodeId id, bool join) {
    NodeOptions o;
    o.id = id;
    o.cluster_id = "grpc-cluster";
    o.data_dir = root_ + "/member-" + std::to_string(id);
    o.peer_address = address(id);
    o.client_address = "client-" + std::to_string(id);
    if (!join) o.initial_members = initial_;
    o.join = join;
    o.heartbeat_ms = kHeartbeatMs;
    o.election_ms = kElectionMs;
    o.snapshot_entries = 40;
    o.compaction_margin = 5;
    return o;
  }

  void start(raft::NodeId id, bool join = false) {
    Member& m = members_[id];
    if (!m.transport) {
      m.transport =
          make_transport(m.port == 0 ? "127.0.0.1:0" : "127.0.0.1:" + std::to_string(m.port));
      std::string error;
      ASSERT_TRUE(m.transport->listen(&error)) << error;
      m.port = m.transport->bound_port();
    }
    m.kv = std::make_shared<KvApplier>();
    m.progress = std::make_unique<health::ProgressStamps>();
    NodeHealth health;
    health.progress = m.progress.get();
    std::string error;
    m.node = Node::start(options(id, join), m.kv, m.transport.get(), health, &error);
    ASSERT_NE(m.node, nullptr) << error;
  }

  void stop(raft::NodeId id) {
    Member& m = members_.at(id);
    m.node->shutdown(after(milliseconds(5000)));
    m.node.reset();
    m.transport.reset();
  }

  Node& node(raft::NodeId id) { return *members_.at(id).node; }
  KvApplier& kv(raft::NodeId id) { return *members_.at(id).kv; }
  void add_port_for(raft::NodeId id) {
    Member& m = members_[id];
    m.transport = make_transport("127.0.0.1:0");
    std::string error;
    ASSERT_TRUE(m.transport->listen(&error)) << error;
    m.port = m.transport->bound_port();
  }

  std::vector<raft::NodeId> running() {
    std::vector<raft::NodeId> out;
    for (auto& [id, m] : members_) {
      if (m.node) out.push_back(id);
    }
    return out;
  }

  raft::NodeId wait_for_leader() {
    const Deadline deadline = after(kElectionBound);
    while (Clock::now() < deadline) {
      auto ids = running();
      raft::NodeId leader = node(ids[0]).status()->leader_id;
      bool agreed = leader != raft::kNoNode;
      for (raft::NodeId id : ids) agreed &= node(id).status()->leader_id == leader;
      if (agreed && members_.at(leader).node &&
          node(leader).status()->role == raft::Role::kLeader) {
        return leader;
      }
      std::this_thread::sleep_for(milliseconds(10));
    }
    return raft::kNoNode;
  }

  ProposeReply write(raft::NodeId via, const std::string& command) {
    const Deadline deadline = after(kElectionBound);
    ProposeReply r;
    while (Clock::now() < deadline) {
      r = node(via).propose(command, std::min(deadline, after(milliseconds(2000))));
      if (r.status.ok()) return r;
      std::this_thread::sleep_for(milliseconds(20));
    }
    return r;
  }

  bool wait_applied(raft::NodeId id, raft::Index index) {
    const Deadline deadline = after(kElectionBound);
    while (Clock::now() < deadline) {
      if (node(id).status()->applied >= index) return true;
      std::this_thread::sleep_for(milliseconds(10));
    }
    return false;
  }

 private:
  struct Member {
    int port = 0;
    std::shared_ptr<KvApplier> kv;
    std::unique_ptr<GrpcTransport> transport;
    std::unique_ptr<health::ProgressStamps> progress;
    std::unique_ptr<Node> node;
  };
  std::string root_;
  std::map<raft::NodeId, std::string> initial_;
  std::map<raft::NodeId, Member> members_;
};

TEST(NodeGrpc, ThreeMembersWriteReadRestartAndLearnerBySnapshot) {
  GrpcCluster c(3);
  for (raft::NodeId id = 1; id <= 3; ++id) c.start(id);
  const raft::NodeId leader = c.wait_for_leader();
  ASSERT_NE(leader, raft::kNoNode);

  raft::Index last = 0;
  for (int i = 0; i < 60; ++i) {
    const raft::NodeId via = 1 + i % 3;  // two of three are forwarded over gRPC
    ProposeReply r = c.write(via, "set k" + std::to_string(i) + " " + std::to_string(i));
    ASSERT_TRUE(r.status.ok()) << r.status.message;
    last = r.index;
  }
  for (raft::NodeId id = 1; id <= 3; ++id) {
    ASSERT_TRUE(c.wait_applied(id, last)) << id;
    EXPECT_EQ(c.kv(id).current()->data.at("k59"), "59");
  }
  const raft::NodeId follower = leader == 1 ? 2 : 1;
  ReadBarrierReply lin = c.node(follower).read_barrier(Consistency::kLinearizable, after(kSlack));
  ASSERT_TRUE(lin.status.ok()) << lin.status.message;
  EXPECT_GE(lin.revision, last);
  EXPECT_TRUE(c.node(follower).read_barrier(Consistency::kStale, after(kSlack)).status.ok());

  // Leader restart on the same port from its data directory.
  c.stop(leader);
  const raft::NodeId next = c.wait_for_leader();
  ASSERT_NE(next, raft::kNoNode);
  ProposeReply w = c.write(next, "set after restart");
  ASSERT_TRUE(w.status.ok());
  c.start(leader);
  ASSERT_TRUE(c.wait_applied(leader, w.index));
  EXPECT_EQ(c.kv(leader).current()->data.at("after"), "restart");

  // A learner joins after compaction: InstallSnapshot in 512-byte chunks.
  const raft::NodeId now_leader = c.wait_for_leader();
  ASSERT_NE(now_leader, raft::kNoNode);
  c.add_port_for(4);
  c.start(4, /*join=*/true);
  AdminReply added = c.node(now_leader).add_learner(4, c.address(4), after(kElectionBound));
  ASSERT_TRUE(added.status.ok()) << added.status.message;
  ASSERT_TRUE(c.wait_applied(4, w.index));
  EXPECT_EQ(c.kv(4).current()->data.at("k59"), "59");
  EXPECT_GT(c.node(4).status()->snapshot_index, 0u);
}

// A handler that records what reaches it.
class RecordingHandler : public TransportHandler {
 public:
  void on_batch(MessageBatch) override { batches.fetch_add(1); }
  void on_forward(ForwardRequest, std::function<void(ForwardResponse)> reply) override {
    reply(ForwardResponse{});
  }
  std::atomic<int> batches{0};
};

TEST(NodeGrpc, BatchesOfAnotherClusterOrMemberAreRefused) {
  GrpcTransportOptions o;
  o.listen_address = "127.0.0.1:0";
  GrpcTransport receiver(o);
  RecordingHandler handler;
  receiver.start(1, "cluster-a", &handler);
  const std::string address = "127.0.0.1:" + std::to_string(receiver.bound_port());

  GrpcTransport sender(o);
  RecordingHandler unused;
  sender.start(2, "cluster-b", &unused);
  sender.set_peer(1, address);
  auto batch = [](std::string cluster, raft::NodeId to) {
    MessageBatch b;
    b.cluster_id = std::move(cluster);
    b.from = 2;
    b.to = to;
    raft::Message m;
    m.type = raft::MessageType::kHeartbeat;
    m.from = 2;
    m.to = to;
    m.term = 1;
    b.messages.push_back(m);
    return b;
  };
  // Wrong cluster, wrong member: refused for the whole phase.
  const Deadline refuse_until = after(milliseconds(2000));
  while (Clock::now() < refuse_until) {
    sender.send(batch("cluster-b", 1));
    sender.send(batch("cluster-a", 7));
    std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_EQ(handler.batches.load(), 0);
  // A batch of the right cluster for the right member arrives (the link
  // reconnects after each refusal): the refusals were the checks, not a
  // broken connection.
  const Deadline deadline = after(kSlack * 3);
  while (Clock::now() < deadline && handler.batches.load() == 0) {
    sender.send(batch("cluster-a", 1));
    std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_GT(handler.batches.load(), 0);
  sender.stop();
  receiver.stop();
}

}  // namespace
}  // namespace raftmeta::node::testing
