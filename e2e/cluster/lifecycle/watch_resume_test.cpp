// Acceptance (issue 7): a Watch client receives every change in order across
// a leader change (a leadership transfer, then a SIGKILL of the leader while
// it streams), resumes from its last revision after reconnecting to another
// member, and is told WATCH_EVENT_COMPACTED when it asks for a revision that
// was compacted away.
//
// "Every change": each acknowledged topic creation carries the revision it
// was applied at; the union of what the two streams delivered must hold each
// of them exactly once, at that revision, and each stream's revisions must
// increase.
#include <grpcpp/grpcpp.h>

#include <map>
#include <mutex>

#include "e2e/cluster/lifecycle/lifecycle_support.h"

namespace raftmeta::e2e::lifecycle {
namespace {

namespace v1 = ::raftmeta::v1;

// One Watch stream on one member, read by its own "watch-reader" thread
// until the stream ends or stop() cancels it.
class WatchReader {
 public:
  WatchReader(const std::string& endpoint, const std::string& cluster_id, std::uint64_t start)
      : stub_(v1::Metadata::NewStub(
            grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials()))) {
    request_.set_cluster_id(cluster_id);
    request_.set_start_revision(start);
    thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "watch-reader");
      run();
    });
  }
  ~WatchReader() { stop(); }

  void stop() {
    context_.TryCancel();
    if (thread_.joinable()) thread_.join();
  }
  std::vector<v1::WatchEvent> events() const {
    std::lock_guard lock(mu_);
    return events_;
  }
  bool ended() const {
    std::lock_guard lock(mu_);
    return ended_;
  }
  grpc::Status final_status() const {
    std::lock_guard lock(mu_);
    return status_;
  }
  // The highest revision of a WATCH_EVENT_CHANGES message so far (0: none).
  std::uint64_t last_change_revision() const {
    std::lock_guard lock(mu_);
    std::uint64_t last = 0;
    for (const auto& e : events_) {
      if (e.type() == v1::WATCH_EVENT_CHANGES) last = e.revision();
    }
    return last;
  }

 private:
  void run() {
    auto reader = stub_->Watch(&context_, request_);
    v1::WatchEvent event;
    while (reader->Read(&event)) {
      std::lock_guard lock(mu_);
      events_.push_back(event);
    }
    const grpc::Status s = reader->Finish();
    std::lock_guard lock(mu_);
    ended_ = true;
    status_ = s;
  }

  std::unique_ptr<v1::Metadata::Stub> stub_;
  v1::WatchRequest request_;
  grpc::ClientContext context_;
  mutable std::mutex mu_;  // guards events_, ended_, status_
  std::vector<v1::WatchEvent> events_;
  bool ended_ = false;
  grpc::Status status_;
  std::thread thread_;
};

// Topic creations in `events`, by name -> revisions it was seen at; fails
// the test if the stream's revisions do not increase.
void collect_created(const std::vector<v1::WatchEvent>& events, const char* stream,
                     std::map<std::string, std::vector<std::uint64_t>>* created) {
  std::uint64_t previous = 0;
  for (const auto& e : events) {
    if (e.type() != v1::WATCH_EVENT_CHANGES) continue;
    EXPECT_GT(e.revision(), previous) << stream << ": revisions out of order";
    previous = e.revision();
    for (const auto& c : e.changes()) {
      if (c.kind() == v1::CHANGE_KIND_TOPIC_CREATED) {
        (*created)[c.topic().name()].push_back(e.revision());
      }
    }
  }
}

// More entries than a member keeps behind its snapshot
// (NodeOptions::compaction_margin, 1,000) plus a few snapshot intervals.
constexpr std::uint64_t kEntriesPastCompaction = 1'500;

class WatchResumeTest : public LifecycleTest {};

TEST_F(WatchResumeTest, EveryChangeInOrderAcrossLeaderChangesResumesAndReportsCompaction) {
  ClusterOptions options = short_timers(23200);
  // Small, so that a restarted member restores from a snapshot and its watch
  // history starts after it.
  options.snapshot_entries = 100;
  ASSERT_NO_FATAL_FAILURE(start_cluster(options));
  const milliseconds progress_bound = election_bound() * 2;

  auto leader = cluster_->wait_leader(election_bound());
  ASSERT_TRUE(leader);
  // Watch a follower, from the revision after what it has applied now.
  const std::uint64_t watched = *leader == 1 ? 2 : 1;
  const std::uint64_t start = cluster_->view(watched).applied + 1;
  ASSERT_GT(start, 1u);
  auto stream1 =
      std::make_unique<WatchReader>(cluster_->client_address(watched), options.cluster_id, start);
  writer_ = std::make_unique<AckedWriter>(endpoints(), options.cluster_id, "watch-");
  ASSERT_TRUE(writer_->wait_for_more(30, progress_bound)) << writer_->last_error();

  // Leader change 1: a transfer to the member that is not watched.
  const std::uint64_t third = 6 - *leader - watched;
  const CtlResult transfer = ctl_until_ok(
      {1, 2, 3}, {"leader", "transfer", "--to", std::to_string(third)}, election_bound());
  ASSERT_TRUE(transfer.ok()) << transfer.output;
  ASSERT_TRUE(writer_->wait_for_more(30, progress_bound)) << writer_->last_error();

  // Leader change 2: SIGKILL the leader while the stream runs.
  leader = cluster_->wait_leader(election_bound());
  ASSERT_TRUE(leader);
  ASSERT_NE(*leader, watched);
  const std::uint64_t killed = *leader;
  cluster_->kill(killed);
  ASSERT_TRUE(cluster_->wait_leader(election_bound(), {watched, 6 - killed - watched}));
  ASSERT_TRUE(writer_->wait_for_more(30, progress_bound)) << writer_->last_error();
  EXPECT_FALSE(stream1->ended()) << stream1->final_status().error_message();

  // Disconnect; writes go on; resume on the other live member from the last
  // revision received + 1.
  stream1->stop();
  const std::uint64_t resume = stream1->last_change_revision() + 1;
  ASSERT_GT(resume, start);
  ASSERT_TRUE(writer_->wait_for_more(30, progress_bound)) << writer_->last_error();
  const std::uint64_t other = 6 - killed - watched;
  auto stream2 =
      std::make_unique<WatchReader>(cluster_->client_address(other), options.cluster_id, resume);
  ASSERT_TRUE(writer_->wait_for_more(30, progress_bound)) << writer_->last_error();
  writer_->stop();
  const auto& names = writer_->acked_names();
  const auto& revisions = writer_->acked_revisions();
  ASSERT_FALSE(revisions.empty());
  const std::uint64_t last_acked = *std::max_element(revisions.begin(), revisions.end());
  ASSERT_TRUE(ProcessCluster::wait_until(
      [&] { return stream2->last_change_revision() >= last_acked || stream2->ended(); },
      progress_bound))
      << "stream 2 reached " << stream2->last_change_revision() << " of " << last_acked;
  stream2->stop();

  const auto events2 = stream2->events();
  ASSERT_FALSE(events2.empty());
  EXPECT_NE(events2.front().type(), v1::WATCH_EVENT_COMPACTED);
  for (const auto& e : events2) {
    if (e.type() == v1::WATCH_EVENT_CHANGES) {
      EXPECT_GE(e.revision(), resume);
    }
  }
  std::map<std::string, std::vector<std::uint64_t>> created;
  collect_created(stream1->events(), "stream 1", &created);
  collect_created(events2, "stream 2", &created);
  std::size_t checked = 0;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (revisions[i] < start) continue;
    ++checked;
    const auto it = created.find(names[i]);
    ASSERT_NE(it, created.end()) << names[i] << " (revision " << revisions[i]
                                 << ") never reached the watcher";
    ASSERT_EQ(it->second.size(), 1u) << names[i] << " was delivered more than once";
    EXPECT_EQ(it->second.front(), revisions[i]) << names[i];
  }
  EXPECT_GE(checked, 150u);

  // Compaction: while the killed member is down, the others write more than
  // they keep behind their snapshots, so it comes back through
  // InstallSnapshot and its watch history starts after that snapshot; a
  // watch from the first revision is told so.
  ASSERT_GE(write_topics("bulk-", kEntriesPastCompaction, 8), kEntriesPastCompaction);
  const auto live_leader = cluster_->wait_leader(election_bound(), {watched, other});
  ASSERT_TRUE(live_leader);
  const std::uint64_t commit = cluster_->view(*live_leader).commit;
  std::string error;
  ASSERT_TRUE(cluster_->start(killed, false, false, &error)) << error;
  ASSERT_TRUE(cluster_->wait_startup(killed, milliseconds(10000) + kSlack));
  ASSERT_TRUE(ProcessCluster::wait_until([&] { return cluster_->view(killed).applied >= commit; },
                                         election_bound()));
  WatchReader old(cluster_->client_address(killed), options.cluster_id, 2);
  ASSERT_TRUE(ProcessCluster::wait_until([&] { return !old.events().empty(); }, election_bound()));
  const v1::WatchEvent first = old.events().front();
  EXPECT_EQ(first.type(), v1::WATCH_EVENT_COMPACTED) << first.DebugString();
  EXPECT_GT(first.compact_revision(), 2u);
  EXPECT_TRUE(ProcessCluster::wait_until([&] { return old.ended(); }, election_bound()))
      << "the stream did not end after COMPACTED";
  // The client re-reads and watches from the oldest watchable revision.
  WatchReader again(cluster_->client_address(killed), options.cluster_id, first.compact_revision());
  ClusterClient client(endpoints(), options.cluster_id);
  ASSERT_TRUE(client.create_topic("after-compaction", 1).ok());
  ASSERT_TRUE(ProcessCluster::wait_until(
      [&] {
        for (const auto& e : again.events()) {
          for (const auto& c : e.changes()) {
            if (c.topic().name() == "after-compaction") return true;
          }
        }
        return false;
      },
      election_bound()));
  EXPECT_NE(again.events().front().type(), v1::WATCH_EVENT_COMPACTED);
}

}  // namespace
}  // namespace raftmeta::e2e::lifecycle
