// Acceptance (issue 7): a learner added after 20,000 entries, with a small
// --snapshot-entries, catches up through InstallSnapshot.
//
// Evidence that it was a snapshot: the leader's log was compacted far past
// index 1 (its snapshot index exceeds the compaction margin, so it no longer
// holds the entries an empty member would need), and the learner, which
// started with no log at all, reports a snapshot index of its own the first
// time it has applied anything beyond the bootstrap configuration. Then its
// applied index reaches what the leader had committed, and the transfer shows
// in status on both sides (bytes sent / received of the total).
#include <algorithm>

#include "e2e/cluster/lifecycle/lifecycle_support.h"

namespace raftmeta::e2e::lifecycle {
namespace {

constexpr std::uint64_t kEntries = 20'000;
constexpr std::uint64_t kSnapshotEntries = 1'000;
// Entries a leader keeps behind its snapshot (NodeOptions::compaction_margin).
constexpr std::uint64_t kCompactionMargin = 1'000;
constexpr int kWriterThreads = 8;

class SnapshotCatchUpTest : public LifecycleTest {};

TEST_F(SnapshotCatchUpTest, LearnerAddedAfter20000EntriesCatchesUpThroughInstallSnapshot) {
  ClusterOptions options = short_timers(23100);
  options.snapshot_entries = kSnapshotEntries;
  options.log_level = "warn";  // 20,000 writes: keep the logs small
  ASSERT_NO_FATAL_FAILURE(start_cluster(options));

  // 20,000 acknowledged writes from a few concurrent clients.
  ASSERT_GE(write_topics("snap-", kEntries, kWriterThreads), kEntries);

  const auto leader = cluster_->wait_leader(election_bound());
  ASSERT_TRUE(leader);
  const MemberView before = cluster_->view(*leader);
  ASSERT_TRUE(before.answered);
  ASSERT_GE(before.commit, kEntries);
  // Snapshots are taken by applied count; wait for the last one due.
  std::uint64_t leader_snapshot = 0;
  ASSERT_TRUE(ProcessCluster::wait_until(
      [&] {
        leader_snapshot = cluster_->view(*leader).raw.value("snapshot_index", std::uint64_t{0});
        return leader_snapshot + 2 * kSnapshotEntries >= before.commit;
      },
      election_bound()))
      << "leader snapshot index " << leader_snapshot << ", commit " << before.commit;
  // Index 2 (the first entry after bootstrap) is gone from the leader's log.
  ASSERT_GT(leader_snapshot, kCompactionMargin + 2);

  // Add member 4 as a learner and start it empty.
  const std::uint64_t learner = 4;
  const CtlResult add = ctl_until_ok({1, 2, 3},
                                     {"member", "add", "--id", std::to_string(learner),
                                      "--peer-address", cluster_->peer_address(learner)},
                                     election_bound());
  ASSERT_TRUE(add.ok()) << add.output;
  const std::uint64_t target = cluster_->view(*leader).commit;
  std::string error;
  ASSERT_TRUE(cluster_->start(learner, false, true, &error)) << error;

  // Watch it from the start: the first time it has applied past the
  // bootstrap configuration, its state must have come from a snapshot.
  std::uint64_t first_applied = 0;
  std::uint64_t first_snapshot = 0;
  std::uint64_t applied = 0;
  const auto catch_up_bound = election_bound() * 3;
  const auto started = Clock::now();
  ASSERT_TRUE(ProcessCluster::wait_until(
      [&] {
        const MemberView v = cluster_->view(learner, milliseconds(500));
        if (!v.answered) return false;
        applied = v.applied;
        if (first_applied == 0 && v.applied > 1) {
          first_applied = v.applied;
          first_snapshot = v.raw.value("snapshot_index", std::uint64_t{0});
        }
        return v.applied >= target;
      },
      catch_up_bound, milliseconds(10)))
      << "learner applied " << applied << " of " << target;
  const auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - started);
  std::cout << "learner caught up to " << target << " in " << took.count() << " ms; first applied "
            << first_applied << " with snapshot index " << first_snapshot << " (leader snapshot "
            << leader_snapshot << ")\n";
  EXPECT_GT(first_snapshot, kCompactionMargin + 2)
      << "the learner applied " << first_applied << " without a snapshot";
  EXPECT_GE(first_applied, first_snapshot);
  EXPECT_GE(first_snapshot + kCompactionMargin, leader_snapshot - kSnapshotEntries);

  // The transfer is visible in status on both sides, from the peer
  // transport's chunk counters: /status JSON on the member that sent it,
  // raftmetactl status (Admin GetStatus) on the learner.
  std::string sender_transfers;
  bool sender_reports = false;
  for (std::uint64_t id : {1, 2, 3}) {
    const MemberView v = cluster_->view(id);
    if (!v.answered || !v.raw.contains("snapshot_transfers")) continue;
    sender_transfers += std::to_string(id) + ": " + v.raw["snapshot_transfers"].dump() + "\n";
    for (const auto& t : v.raw["snapshot_transfers"]) {
      if (t.value("peer", std::uint64_t{0}) == learner && t.value("direction", "") == "sending" &&
          t.value("finished", false) && t.value("bytes_total", std::uint64_t{0}) > 0 &&
          t.value("bytes_done", std::uint64_t{0}) == t.value("bytes_total", std::uint64_t{0}) &&
          t.value("snapshot_index", std::uint64_t{0}) >= first_snapshot) {
        sender_reports = true;
      }
    }
  }
  EXPECT_TRUE(sender_reports) << "no member reports the finished transfer to " << learner << ":\n"
                              << sender_transfers;
  const CtlResult learner_status = ctl({learner}, {"status", "-o", "json"});
  ASSERT_TRUE(learner_status.ok()) << learner_status.output;
  const nlohmann::json status_json = nlohmann::json::parse(learner_status.output, nullptr, false);
  ASSERT_FALSE(status_json.is_discarded()) << learner_status.output;
  // Protobuf's JSON prints 64-bit numbers as strings.
  auto number = [](const nlohmann::json& j) -> std::uint64_t {
    return j.is_string() ? std::stoull(j.get<std::string>()) : j.get<std::uint64_t>();
  };
  bool learner_reports = false;
  for (const auto& t : status_json.value("snapshot_transfers", nlohmann::json::array())) {
    if (!t.value("outgoing", true) && t.value("finished", false) && number(t["bytes_total"]) > 0 &&
        number(t["bytes_done"]) == number(t["bytes_total"]) &&
        number(t["snapshot_index"]) >= first_snapshot) {
      learner_reports = true;
    }
  }
  EXPECT_TRUE(learner_reports) << "the learner reports no finished received snapshot at or after "
                               << first_snapshot << ":\n"
                               << learner_status.output;

  // It is a learner that the leader tracks as caught up, and it can be promoted.
  const CtlResult promote = ctl_until_ok(
      {1, 2, 3}, {"member", "promote", "--id", std::to_string(learner)}, election_bound());
  EXPECT_TRUE(promote.ok()) << promote.output;
}

}  // namespace
}  // namespace raftmeta::e2e::lifecycle
