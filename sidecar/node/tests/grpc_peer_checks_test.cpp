// The gRPC peer transport's own checks and counters, between bare
// transports on 127.0.0.1 (no Node): a member id that comes back with
// another incarnation is refused while the recorded one is admitted, the
// bootstrap probe (Raft.Hello) answers what the book recorded, and a chunked
// snapshot is counted on both sides.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "sidecar/node/grpc_transport.h"
#include "sidecar/node/peer_incarnation_book.h"
#include "sidecar/node/tests/test_cluster.h"

namespace raftmeta::node::testing {
namespace {

using std::chrono::milliseconds;

constexpr char kCluster[] = "peer-checks";

// Records what reaches it.
class RecordingHandler : public TransportHandler {
 public:
  void on_batch(MessageBatch batch) override {
    std::lock_guard<std::mutex> lock(mu_);
    batches_.push_back(std::move(batch));
  }
  void on_forward(ForwardRequest, std::function<void(ForwardResponse)> reply) override {
    reply(ForwardResponse{});
  }
  std::size_t count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return batches_.size();
  }
  // Batches whose first message carries `term` (tests give each sender its
  // own term, so batches still in flight from an earlier sender are not
  // counted against a later one).
  std::size_t count_of_term(raft::Term term) const {
    std::lock_guard<std::mutex> lock(mu_);
    std::size_t n = 0;
    for (const MessageBatch& b : batches_) n += !b.messages.empty() && b.messages[0].term == term;
    return n;
  }
  std::vector<MessageBatch> batches() const {
    std::lock_guard<std::mutex> lock(mu_);
    return batches_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<MessageBatch> batches_;
};

MessageBatch heartbeat(raft::NodeId from, raft::NodeId to, raft::Term term = 1) {
  MessageBatch b;
  b.cluster_id = kCluster;
  b.from = from;
  b.to = to;
  raft::Message m;
  m.type = raft::MessageType::kHeartbeat;
  m.from = from;
  m.to = to;
  m.term = term;
  b.messages.push_back(m);
  return b;
}

class GrpcPeerChecksTest : public ::testing::Test {
 protected:
  GrpcPeerChecksTest() : dir_(make_temp_dir()) {}
  ~GrpcPeerChecksTest() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  static std::unique_ptr<GrpcTransport> transport(std::size_t chunk_bytes = 1u << 20,
                                                  std::size_t max_message_bytes = 64u << 20) {
    GrpcTransportOptions o;
    o.listen_address = "127.0.0.1:0";
    o.snapshot_chunk_bytes = chunk_bytes;
    o.max_message_bytes = max_message_bytes;
    auto t = std::make_unique<GrpcTransport>(o);
    std::string error;
    EXPECT_TRUE(t->listen(&error)) << error;
    return t;
  }
  static std::string address(const GrpcTransport& t) {
    return "127.0.0.1:" + std::to_string(t.bound_port());
  }
  // Sends heartbeats from `sender` to member 1 until `handler` has seen
  // `want` batches in all or `until` passes.
  static void send_until(GrpcTransport& sender, raft::NodeId from, const RecordingHandler& handler,
                         std::size_t want, Deadline until) {
    while (Clock::now() < until && handler.count() < want) {
      sender.send(heartbeat(from, 1));
      std::this_thread::sleep_for(milliseconds(20));
    }
  }
  std::string dir_;
};

TEST_F(GrpcPeerChecksTest, AReplacedIncarnationIsRefusedAndTheRecordedOneAdmitted) {
  std::string error;
  std::shared_ptr<PeerIncarnationBook> book = PeerIncarnationBook::open(dir_, &error);
  ASSERT_TRUE(book) << error;
  auto receiver = transport();
  RecordingHandler handler;
  receiver->set_incarnation(0x1001, book);
  receiver->start(1, kCluster, &handler);

  // Member 2's first life: admitted, and its incarnation recorded.
  auto first = transport();
  RecordingHandler unused;
  first->set_incarnation(0x2002, nullptr);
  first->start(2, kCluster, &unused);
  first->set_peer(1, address(*receiver));
  send_until(*first, 2, handler, 1, after(kSlack * 3));
  ASSERT_GE(handler.count(), 1u);
  EXPECT_EQ(book->known(2), 0x2002u);
  first->stop();

  // Member 2 again with a wiped directory (a new incarnation): refused for
  // the whole phase, however often its link reconnects.
  auto wiped = transport();
  wiped->set_incarnation(0x3003, nullptr);
  wiped->start(2, kCluster, &unused);
  wiped->set_peer(1, address(*receiver));
  const Deadline refuse_until = after(milliseconds(2000));
  while (Clock::now() < refuse_until) {
    wiped->send(heartbeat(2, 1, /*term=*/7));
    std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_EQ(handler.count_of_term(7), 0u);
  EXPECT_EQ(book->known(2), 0x2002u);

  // The probe a wiped member runs before bootstrapping sees the old one.
  const std::vector<HelloAnswer> answers =
      wiped->hello({{1, address(*receiver)}, {2, address(*wiped)}}, kCluster, 2, 0x3003,
                   milliseconds(2000) + kSlack);
  ASSERT_EQ(answers.size(), 1u);  // member 2 (itself) is not asked
  EXPECT_EQ(answers[0].peer, 1u);
  EXPECT_EQ(answers[0].known_incarnation, 0x2002u);
  // A member it never heard from is unknown to it.
  const std::vector<HelloAnswer> fresh =
      wiped->hello({{1, address(*receiver)}}, kCluster, 5, 0x5005, milliseconds(2000) + kSlack);
  ASSERT_EQ(fresh.size(), 1u);
  EXPECT_EQ(fresh[0].known_incarnation, 0u);
  // Another cluster's probe is refused (no answer).
  EXPECT_TRUE(
      wiped->hello({{1, address(*receiver)}}, "other", 2, 0x3003, milliseconds(2000) + kSlack)
          .empty());
  wiped->stop();

  // The recorded incarnation is still admitted (the refusals were the
  // check, not a broken receiver), also by a receiver reopened from disk.
  auto back = transport();
  back->set_incarnation(0x2002, nullptr);
  back->start(2, kCluster, &unused);
  back->set_peer(1, address(*receiver));
  const Deadline back_until = after(kSlack * 3);
  while (Clock::now() < back_until && handler.count_of_term(8) == 0) {
    back->send(heartbeat(2, 1, /*term=*/8));
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_GT(handler.count_of_term(8), 0u);
  back->stop();
  receiver->stop();
  auto reopened = PeerIncarnationBook::open(dir_, &error);
  ASSERT_TRUE(reopened) << error;
  EXPECT_EQ(reopened->known(2), 0x2002u);
}

TEST_F(GrpcPeerChecksTest, RecordedIncarnationsArePassedOnOnlyByAdmittedMembers) {
  std::string error;
  std::filesystem::create_directories(dir_ + "/r");
  std::filesystem::create_directories(dir_ + "/p");
  std::filesystem::create_directories(dir_ + "/w");
  std::shared_ptr<PeerIncarnationBook> receiver_book =
      PeerIncarnationBook::open(dir_ + "/r", &error);
  std::shared_ptr<PeerIncarnationBook> peer_book = PeerIncarnationBook::open(dir_ + "/p", &error);
  std::shared_ptr<PeerIncarnationBook> wiped_book = PeerIncarnationBook::open(dir_ + "/w", &error);
  ASSERT_TRUE(receiver_book && peer_book && wiped_book) << error;
  // Member 2 heard from member 3 (incarnation 0x33) and from member 4; member
  // 1 never heard from either.
  ASSERT_TRUE(peer_book->admit(3, 0x33).admitted());
  ASSERT_TRUE(peer_book->admit(4, 0x44).admitted());
  ASSERT_TRUE(receiver_book->admit(4, 0x4444).admitted());  // conflicting: kept
  auto receiver = transport();
  RecordingHandler handler;
  receiver->set_incarnation(0x11, receiver_book);
  receiver->start(1, kCluster, &handler);
  auto peer = transport();
  RecordingHandler unused;
  peer->set_incarnation(0x22, peer_book);
  peer->start(2, kCluster, &unused);
  peer->set_peer(1, address(*receiver));
  send_until(*peer, 2, handler, 1, after(kSlack * 3));
  ASSERT_GE(handler.count(), 1u);
  EXPECT_EQ(receiver_book->known(3), 0x33u);
  EXPECT_EQ(receiver_book->known(4), 0x4444u) << "a passed-on entry replaced a recorded one";
  EXPECT_EQ(receiver_book->known(2), 0x22u);

  // Member 3 comes back wiped (another incarnation) and knows of member 9:
  // member 1 refuses it, though it never heard from it directly, and learns
  // nothing from it.
  ASSERT_TRUE(wiped_book->admit(9, 0x99).admitted());
  auto wiped = transport();
  wiped->set_incarnation(0x3333, wiped_book);
  wiped->start(3, kCluster, &unused);
  wiped->set_peer(1, address(*receiver));
  const Deadline refuse_until = after(milliseconds(2000));
  while (Clock::now() < refuse_until) {
    wiped->send(heartbeat(3, 1, /*term=*/9));
    std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_EQ(handler.count_of_term(9), 0u);
  EXPECT_FALSE(receiver_book->known(9).has_value());
  wiped->stop();
  peer->stop();
  receiver->stop();
}

// A leader waits for a snapshot's answer and does not resend it: a snapshot
// handed to the link while the peer is not listening yet must still arrive
// once it listens, without being sent again.
TEST_F(GrpcPeerChecksTest, ASnapshotQueuedWhileThePeerIsDownArrivesWhenItComesUp) {
  std::string port;
  {
    auto probe = transport();
    port = std::to_string(probe->bound_port());
    probe->stop();
  }
  auto sender = transport(512);
  RecordingHandler unused;
  sender->start(2, kCluster, &unused);
  sender->set_peer(1, "127.0.0.1:" + port);
  MessageBatch batch = heartbeat(2, 1);
  batch.messages.clear();
  raft::Message m;
  m.type = raft::MessageType::kSnapshot;
  m.from = 2;
  m.to = 1;
  m.term = 3;
  raft::Snapshot snapshot;
  snapshot.meta.index = 55;
  snapshot.meta.term = 3;
  snapshot.meta.conf.voters = {1, 2};
  snapshot.data = std::string(3000, 's');
  m.snapshot = snapshot;
  batch.messages.push_back(m);
  ASSERT_TRUE(sender->send(batch));
  // Let the link fail at least once (connection refused, backoff).
  std::this_thread::sleep_for(milliseconds(500));

  GrpcTransportOptions o;
  o.listen_address = "127.0.0.1:" + port;
  GrpcTransport receiver(o);
  std::string error;
  ASSERT_TRUE(receiver.listen(&error)) << error;
  RecordingHandler handler;
  receiver.start(1, kCluster, &handler);
  const Deadline deadline = after(kSlack * 3);
  while (Clock::now() < deadline && handler.count() == 0) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  ASSERT_EQ(handler.count(), 1u);
  const std::vector<MessageBatch> got = handler.batches();
  ASSERT_TRUE(got[0].messages.at(0).snapshot.has_value());
  EXPECT_EQ(got[0].messages[0].snapshot->meta.index, 55u);
  EXPECT_EQ(got[0].messages[0].snapshot->data.size(), 3000u);
  // Delivered once: the link forgets it after its last chunk went out.
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(handler.count(), 1u);
  sender->stop();
  receiver.stop();
}

TEST_F(GrpcPeerChecksTest, NobodyListeningMeansNoAnswersWithinTheBound) {
  auto asker = transport();
  RecordingHandler unused;
  asker->start(3, kCluster, &unused);
  // A port nobody listens on: the probe skips it and returns in time.
  auto gone = transport();
  const std::string gone_address = address(*gone);
  gone->stop();
  gone.reset();
  const auto started = Clock::now();
  EXPECT_TRUE(asker->hello({{1, gone_address}}, kCluster, 3, 0x33, milliseconds(1000)).empty());
  EXPECT_LT(Clock::now() - started, milliseconds(1000) + kSlack);
  asker->stop();
}

// One Ready may hold many appends for one member (a soak once produced
// 2.5 GB, which aborted the process in protobuf's serializer). The link
// splits them into stream messages under the receiver's limit and drops,
// with an error, a single message that could never fit; the stream survives.
TEST_F(GrpcPeerChecksTest, AManyMessageBatchIsSplitUnderTheMessageLimit) {
  constexpr std::size_t kLimit = 512u << 10;
  constexpr std::size_t kEntry = 100u << 10;
  constexpr int kAppends = 10;  // about 1 MB in all: twice the limit
  auto receiver = transport(1u << 20, kLimit);
  RecordingHandler handler;
  receiver->start(1, kCluster, &handler);
  auto sender = transport(1u << 20, kLimit);
  RecordingHandler unused;
  sender->start(2, kCluster, &unused);
  sender->set_peer(1, address(*receiver));

  MessageBatch batch = heartbeat(2, 1);
  batch.messages.clear();
  for (int i = 1; i <= kAppends + 1; ++i) {
    raft::Message m;
    m.type = raft::MessageType::kAppend;
    m.from = 2;
    m.to = 1;
    m.term = 5;
    m.index = static_cast<raft::Index>(i);
    // The middle one can never fit under the limit.
    const std::size_t size = i == 6 ? kLimit + 1 : kEntry;
    m.entries.push_back(raft::Entry{5, static_cast<raft::Index>(i), raft::EntryType::kNormal,
                                    std::string(size, 'e')});
    batch.messages.push_back(std::move(m));
  }
  auto received = [&] {
    std::set<raft::Index> indexes;
    for (const MessageBatch& b : handler.batches()) {
      for (const raft::Message& m : b.messages) {
        if (m.type == raft::MessageType::kAppend) indexes.insert(m.index);
      }
    }
    return indexes;
  };
  const Deadline deadline = after(kSlack * 3);
  // The link may still be connecting: resend until everything arrives.
  while (Clock::now() < deadline && received().size() < kAppends) {
    sender->send(batch);
    const Deadline wait_until = after(milliseconds(500));
    while (Clock::now() < wait_until && received().size() < kAppends) {
      std::this_thread::sleep_for(milliseconds(10));
    }
  }
  std::set<raft::Index> want;
  for (int i = 1; i <= kAppends + 1; ++i) {
    if (i != 6) want.insert(static_cast<raft::Index>(i));
  }
  EXPECT_EQ(received(), want);
  std::size_t most = 0;
  for (const MessageBatch& b : handler.batches()) {
    std::size_t bytes = 0;
    for (const raft::Message& m : b.messages) {
      for (const raft::Entry& e : m.entries) bytes += e.data.size();
    }
    most = std::max(most, bytes);
  }
  EXPECT_LE(most, kLimit);
  EXPECT_GE(handler.count(), 3u);  // about 1 MB cannot go in fewer pieces

  // The stream still carries traffic.
  send_until(*sender, 2, handler, handler.count() + 1, after(kSlack));
  const std::vector<MessageBatch> got = handler.batches();
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.back().messages.front().type, raft::MessageType::kHeartbeat);
  sender->stop();
  receiver->stop();
}

TEST_F(GrpcPeerChecksTest, ASnapshotSentInChunksIsCountedOnBothSides) {
  constexpr std::size_t kChunk = 512;
  constexpr std::size_t kSize = 40 * kChunk + 100;  // 41 chunks
  auto receiver = transport(kChunk);
  RecordingHandler handler;
  receiver->start(1, kCluster, &handler);
  auto sender = transport(kChunk);
  RecordingHandler unused;
  sender->start(2, kCluster, &unused);
  sender->set_peer(1, address(*receiver));
  EXPECT_TRUE(sender->snapshot_transfers().empty());

  MessageBatch batch = heartbeat(2, 1);
  batch.messages.clear();
  raft::Message m;
  m.type = raft::MessageType::kSnapshot;
  m.from = 2;
  m.to = 1;
  m.term = 3;
  raft::Snapshot snapshot;
  snapshot.meta.index = 77;
  snapshot.meta.term = 3;
  snapshot.meta.conf.voters = {1, 2};
  snapshot.data = std::string(kSize, 'x');
  m.snapshot = snapshot;
  batch.messages.push_back(m);
  const Deadline deadline = after(kSlack * 3);
  // The link may still be connecting: resend until it arrives.
  while (Clock::now() < deadline && handler.count() == 0) {
    sender->send(batch);
    const Deadline wait_until = after(milliseconds(500));
    while (Clock::now() < wait_until && handler.count() == 0) {
      std::this_thread::sleep_for(milliseconds(10));
    }
  }
  ASSERT_GE(handler.count(), 1u);
  const std::vector<MessageBatch> got = handler.batches();
  ASSERT_EQ(got[0].messages.size(), 1u);
  ASSERT_TRUE(got[0].messages[0].snapshot.has_value());
  EXPECT_EQ(got[0].messages[0].snapshot->data.size(), kSize);

  const std::vector<SnapshotTransfer> sent = sender->snapshot_transfers();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(sent[0].outgoing);
  EXPECT_EQ(sent[0].peer, 1u);
  EXPECT_EQ(sent[0].index, 77u);
  EXPECT_EQ(sent[0].bytes_done, kSize);
  EXPECT_EQ(sent[0].bytes_total, kSize);
  EXPECT_TRUE(sent[0].finished);
  EXPECT_GT(sent[0].updated_ns, 0);

  const std::vector<SnapshotTransfer> received = receiver->snapshot_transfers();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_FALSE(received[0].outgoing);
  EXPECT_EQ(received[0].peer, 2u);
  EXPECT_EQ(received[0].index, 77u);
  EXPECT_EQ(received[0].bytes_done, kSize);
  EXPECT_EQ(received[0].bytes_total, kSize);
  EXPECT_TRUE(received[0].finished);
  sender->stop();
  receiver->stop();
}

}  // namespace
}  // namespace raftmeta::node::testing
