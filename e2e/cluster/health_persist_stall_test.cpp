// Issue 8, case 6: a slow disk. A `persist` sleep shorter than
// --storage-stall-ms keeps /livez 200 (the Raft loop waiting on storage is
// judged against the storage limit); a longer one turns /livez 503 naming
// storage, not before the limit and within it plus the slack.
#include "e2e/cluster/health_test_support.h"

namespace raftmeta::e2e {
namespace {

constexpr int kStorageStallMs = 2000;
constexpr int kShortSleepMs = kStorageStallMs / 4;
constexpr int kLongSleepMs = kStorageStallMs * 3;

class PersistStallTest : public HealthClusterTest {};

TEST_F(PersistStallTest, ShortPersistDelaysAreLiveLongOnesAreStorageStalls) {
  ClusterOptions options;
  options.port_base_hint = 22500;
  options.cluster_id = "e2e-persist-stall";
  options.storage_stall_ms = kStorageStallMs;
  options.loop_stall_ms = 1000;  // shorter than the storage limit on purpose
  start_cluster(options);
  const auto leader = cluster_->wait_leader(election_bound());
  ASSERT_TRUE(leader);
  const std::uint64_t follower = others(*leader).front();
  start_load(cluster_->ids());
  ASSERT_TRUE(load_->wait_for_more(10, kSlack + milliseconds(5000))) << load_->last_error();

  // Short: every write of the follower takes kShortSleepMs, longer than the
  // loop limit but shorter than the storage limit. /livez stays 200.
  ASSERT_TRUE(
      cluster_->set_failpoint(follower, "persist", "sleep(" + std::to_string(kShortSleepMs) + ")"));
  const auto short_until = Clock::now() + milliseconds(2 * kStorageStallMs);
  while (Clock::now() < short_until) {
    ASSERT_EQ(cluster_->livez(follower, milliseconds(2000)), 200)
        << "a persist delay under the storage limit failed /livez";
    std::this_thread::sleep_for(milliseconds(20));
  }
  ASSERT_TRUE(load_->wait_for_more(5, kSlack)) << load_->last_error();

  // Long: one write takes kLongSleepMs.
  const Clock::time_point slowed_at = Clock::now();
  ASSERT_TRUE(
      cluster_->set_failpoint(follower, "persist", "sleep(" + std::to_string(kLongSleepMs) + ")"));
  std::string body;
  const auto failed_at =
      wait_livez(follower, 503, milliseconds(kStorageStallMs + kShortSleepMs) + kSlack, &body);
  ASSERT_TRUE(failed_at) << "a persist sleep over the storage limit did not fail /livez";
  EXPECT_GE(ms_between(slowed_at, *failed_at), kStorageStallMs - kShortSleepMs)
      << "storage stall reported before its limit";
  const auto parts = stalled_parts(body);
  EXPECT_NE(std::find(parts.begin(), parts.end(), "storage"), parts.end()) << body;
  std::cerr << "storage stall detected " << ms_between(slowed_at, *failed_at)
            << " ms after the long sleep was set\n";

  ASSERT_TRUE(cluster_->set_failpoint(follower, "persist", "off"));
  ASSERT_TRUE(wait_livez(follower, 200, milliseconds(kLongSleepMs) + kSlack))
      << "/livez did not recover";
}

}  // namespace
}  // namespace raftmeta::e2e
