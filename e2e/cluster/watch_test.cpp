// Issue 7's Watch acceptance on real processes: a client receives every
// change in order across a leader change, resumes from its last revision
// after its member is killed (reconnecting to another), and is told when it
// asks for a revision that was compacted away.
#include <grpcpp/grpcpp.h>

#include <mutex>

#include "e2e/cluster/health_test_support.h"

namespace raftmeta::e2e {
namespace {

namespace v1 = ::raftmeta::v1;

constexpr int kTopics = 120;
constexpr std::uint64_t kSnapshotEntries = 20;

// Follows Watch from `start` over the given endpoints, reconnecting to the
// next one whenever the stream ends, resuming at the last revision + 1.
class Watcher {
 public:
  Watcher(std::vector<std::string> endpoints, std::string cluster_id, std::uint64_t start)
      : endpoints_(std::move(endpoints)), cluster_id_(std::move(cluster_id)), next_(start) {
    thread_ = std::thread([this] { run(); });
  }
  ~Watcher() { stop(); }

  void stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
      if (context_ != nullptr) context_->TryCancel();
    }
    if (thread_.joinable()) thread_.join();
  }

  // Watch the member at `endpoint` first from now on (others remain fallbacks).
  std::vector<std::pair<std::uint64_t, std::string>> created() const {
    std::lock_guard lock(mu_);
    return created_;
  }
  int reconnects() const {
    std::lock_guard lock(mu_);
    return reconnects_;
  }
  bool compacted_seen() const {
    std::lock_guard lock(mu_);
    return compacted_;
  }

 private:
  void run() {
    std::size_t endpoint = 0;
    for (;;) {
      grpc::ClientContext context;
      {
        std::lock_guard lock(mu_);
        if (stopping_) return;
        context_ = &context;
      }
      auto channel = grpc::CreateChannel(endpoints_[endpoint % endpoints_.size()],
                                         grpc::InsecureChannelCredentials());
      v1::WatchRequest request;
      request.set_cluster_id(cluster_id_);
      request.set_start_revision(next_);
      auto reader = v1::Metadata::Stub(channel).Watch(&context, request);
      v1::WatchEvent event;
      while (reader->Read(&event)) {
        std::lock_guard lock(mu_);
        if (event.type() == v1::WATCH_EVENT_COMPACTED) compacted_ = true;
        if (event.type() != v1::WATCH_EVENT_CHANGES) continue;
        next_ = event.revision() + 1;
        for (const auto& change : event.changes()) {
          if (change.kind() == v1::CHANGE_KIND_TOPIC_CREATED) {
            created_.emplace_back(event.revision(), change.topic().name());
          }
        }
      }
      reader->Finish();
      {
        std::lock_guard lock(mu_);
        context_ = nullptr;
        if (stopping_) return;
        ++reconnects_;
      }
      ++endpoint;
      std::this_thread::sleep_for(milliseconds(50));
    }
  }

  const std::vector<std::string> endpoints_;
  const std::string cluster_id_;
  mutable std::mutex mu_;
  std::uint64_t next_;
  bool stopping_ = false;
  grpc::ClientContext* context_ = nullptr;
  std::vector<std::pair<std::uint64_t, std::string>> created_;
  int reconnects_ = 0;
  bool compacted_ = false;
  std::thread thread_;
};

class WatchTest : public HealthClusterTest {};

TEST_F(WatchTest, EveryChangeInOrderAcrossLeaderChangeAndReconnect) {
  ClusterOptions options;
  options.port_base_hint = 22800;
  options.cluster_id = "e2e-watch";
  options.snapshot_entries = kSnapshotEntries;
  start_cluster(options);
  const auto leader = cluster_->wait_leader(election_bound());
  ASSERT_TRUE(leader);
  const std::uint64_t watched = others(*leader).front();
  const std::uint64_t start = cluster_->view(*leader).commit + 1;

  // The watcher starts on a follower, with the others as fallbacks.
  std::vector<std::uint64_t> order = {watched};
  for (std::uint64_t id : others(watched)) order.push_back(id);
  Watcher watcher(endpoints(order), options.cluster_id, start);

  ClusterClient writer(endpoints(), options.cluster_id);
  std::vector<std::string> expected;
  for (int i = 0; i < kTopics; ++i) {
    if (i == kTopics / 3) {
      // A leader change: kill the leader (not the watched member).
      cluster_->kill(*leader);
      ASSERT_TRUE(cluster_->wait_leader(election_bound(), others(*leader)));
    }
    if (i == 2 * kTopics / 3) {
      // The watched member dies: the watcher resumes elsewhere.
      cluster_->kill(watched);
      std::string error;
      ASSERT_TRUE(cluster_->start(*leader, false, false, &error)) << error;
      ASSERT_TRUE(cluster_->wait_startup(*leader, milliseconds(10000) + kSlack));
    }
    const std::string name = "watched-" + std::to_string(i);
    const grpc::Status s = writer.create_topic(name, 1);
    ASSERT_TRUE(s.ok()) << name << ": " << s.error_message();
    expected.push_back(name);
  }
  ASSERT_TRUE(ProcessCluster::wait_until(
      [&] { return watcher.created().size() >= expected.size(); }, election_bound()))
      << "the watcher saw " << watcher.created().size() << " of " << expected.size();
  watcher.stop();
  const auto created = watcher.created();
  std::vector<std::string> names;
  std::uint64_t last = 0;
  for (const auto& [revision, name] : created) {
    EXPECT_GT(revision, last) << "revisions out of order at " << name;
    last = revision;
    names.push_back(name);
  }
  EXPECT_EQ(names, expected) << "changes missing, duplicated or out of order";
  EXPECT_GE(watcher.reconnects(), 1) << "the watcher never had to resume";

  // The restarted old leader restored a snapshot: its history begins after
  // it, so revision 1 is compacted there.
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + milliseconds(5000) + kSlack);
  auto channel =
      grpc::CreateChannel(cluster_->client_address(*leader), grpc::InsecureChannelCredentials());
  v1::WatchRequest request;
  request.set_cluster_id(options.cluster_id);
  request.set_start_revision(2);
  auto reader = v1::Metadata::Stub(channel).Watch(&context, request);
  v1::WatchEvent event;
  ASSERT_TRUE(reader->Read(&event)) << "no answer to a watch from revision 2";
  EXPECT_EQ(event.type(), v1::WATCH_EVENT_COMPACTED);
  EXPECT_GT(event.compact_revision(), 2u);
  EXPECT_FALSE(reader->Read(&event));
  EXPECT_TRUE(reader->Finish().ok());
}

}  // namespace
}  // namespace raftmeta::e2e
