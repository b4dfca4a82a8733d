// THE INCIDENT PATTERN. The original freeze: the Raft loop held the Raft lock
// while applying (taking the state machine's write lock) while a metadata
// query held the state machine's read lock and asked for leader status (the
// Raft lock). This test drives that access pattern hard on a 3-member cluster
// on the in-memory transport, under ThreadSanitizer in CI: many threads read
// at every consistency level and query leader status while others write.
//
// It asserts that every request is answered within its deadline plus kSlack,
// that every read level succeeds many times, and (through TSan, which fails
// the process on any report, lock-order inversions included) that no lock
// order can deadlock. Built against raftmeta_node_runtime_planted (the
// incident re-planted behind RAFTMETA_PLANT_INCIDENT_LOCK) the same test must
// make TSan report a lock-order inversion; ctest checks that it does.
//
// Duration: RAFTMETA_INCIDENT_SECONDS (default 30).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <random>
#include <thread>
#include <vector>

#include "sidecar/node/tests/test_cluster.h"

#ifdef RAFTMETA_INCIDENT_REAL_STATE
#include "raftmeta/v1/state.pb.h"
#include "sidecar/node/state/metadata_state_machine.h"
#endif

namespace raftmeta::node::testing {
namespace {

using std::chrono::milliseconds;

// Each request's own deadline.
constexpr milliseconds kRequestDeadline{2000};
// What a reader waits between two successful reads.
constexpr std::chrono::microseconds kReaderPause{200};
// Reads per level that count as "many".
constexpr int kMinSuccessesPerLevel = 100;

int duration_seconds() {
  const char* env = std::getenv("RAFTMETA_INCIDENT_SECONDS");
  if (env == nullptr || *env == '\0') return 30;
  return std::max(1, std::atoi(env));
}

#ifdef RAFTMETA_INCIDENT_REAL_STATE
TestCluster::ApplierFactory factory() {
  return [] { return std::make_shared<state::MetadataStateMachine>(); };
}
std::string write_command(const std::string& writer, std::uint64_t n) {
  v1::Command c;
  c.mutable_header()->set_client_id(writer);
  c.mutable_header()->set_request_id(n + 1);
  c.set_leader_time_ms(1'700'000'000'000);
  auto* r = c.mutable_create_topic();
  r->set_name(writer + "-topic-" + std::to_string(n));
  r->set_partitions(1);
  r->set_replication_factor(1);
  return c.SerializeAsString();
}
// Reads the published state the way a Metadata handler does; returns its
// revision.
raft::Index read_state(TestCluster& c, raft::NodeId id, const std::string& writer,
                       std::uint64_t n) {
  auto sm = std::static_pointer_cast<state::MetadataStateMachine>(c.applier(id));
  auto s = sm->current();
  (void)s->find_topic(writer + "-topic-" + std::to_string(n));
  return s->revision();
}
#else
TestCluster::ApplierFactory factory() { return nullptr; }
std::string write_command(const std::string& writer, std::uint64_t n) {
  return "set " + writer + "-" + std::to_string(n) + " v";
}
raft::Index read_state(TestCluster& c, raft::NodeId id, const std::string& writer,
                       std::uint64_t n) {
  auto s = c.kv(id).current();
  (void)s->data.count(writer + "-" + std::to_string(n));
  return s->revision;
}
#endif

struct Tally {
  std::atomic<std::uint64_t> ok{0};
  std::atomic<std::uint64_t> refused{0};
};

TEST(IncidentPattern, ReadsStatusAndWritesUnderLoadAlwaysAnswerInTime) {
  TestCluster c(3, /*snapshot_entries=*/2000, factory());
  c.start_all();
  ASSERT_NE(c.wait_for_leader(), raft::kNoNode);

  const auto stop_at = Clock::now() + std::chrono::seconds(duration_seconds());
  std::atomic<std::uint64_t> late{0};
  std::atomic<std::int64_t> worst_overrun_ms{0};
  std::atomic<std::uint64_t> stale_revision_reads{0};
  std::atomic<std::uint64_t> status_queries{0};
  Tally writes;
  Tally reads[3];  // by Consistency
  std::atomic<std::uint64_t> written{0};

  auto timed = [&](auto&& call) {
    const auto start = Clock::now();
    const Deadline deadline = start + kRequestDeadline;
    auto result = call(deadline);
    const auto end = Clock::now();
    if (end > deadline + kSlack) {
      late.fetch_add(1);
      const auto over = std::chrono::duration_cast<milliseconds>(end - deadline).count();
      std::int64_t prev = worst_overrun_ms.load();
      while (over > prev && !worst_overrun_ms.compare_exchange_weak(prev, over)) {
      }
    }
    return result;
  };

  std::vector<std::thread> threads;
  for (int w = 0; w < 2; ++w) {
    threads.emplace_back([&, w] {
      const std::string writer = "writer" + std::to_string(w);
      std::mt19937 rng(w);
      std::uint64_t n = 0;
      while (Clock::now() < stop_at) {
        const raft::NodeId via = 1 + rng() % 3;
        ProposeReply r =
            timed([&](Deadline d) { return c.node(via).propose(write_command(writer, n), d); });
        if (r.status.ok()) {
          writes.ok.fetch_add(1);
          written.store(n);
          ++n;
        } else {
          writes.refused.fetch_add(1);
          std::this_thread::sleep_for(milliseconds(5));
        }
      }
    });
  }
  const Consistency levels[3] = {Consistency::kLinearizable, Consistency::kLease,
                                 Consistency::kStale};
  for (int r = 0; r < 6; ++r) {
    threads.emplace_back([&, r] {
      const int level = r % 3;
      std::mt19937 rng(100 + r);
      while (Clock::now() < stop_at) {
        raft::NodeId via = 1 + rng() % 3;
        if (levels[level] == Consistency::kLease) {
          // A broker asks the member it believes leads.
          const raft::NodeId leader = c.node(via).status()->leader_id;
          if (leader != raft::kNoNode) via = leader;
        }
        ReadBarrierReply b =
            timed([&](Deadline d) { return c.node(via).read_barrier(levels[level], d); });
        if (b.status.ok()) {
          const raft::Index seen = read_state(c, via, "writer0", written.load());
          // Revision 1 is the bootstrap snapshot: the empty state, which a
          // fresh state machine reports as revision 0.
          if (seen < b.revision && b.revision > 1 && stale_revision_reads.fetch_add(1) == 0) {
            std::printf("first stale read: level %d member %llu revision %llu, state at %llu\n",
                        level, (unsigned long long)via, (unsigned long long)b.revision,
                        (unsigned long long)seen);
          }
          reads[level].ok.fetch_add(1);
          // Many requests, not a spin: leave CPU to the loops and to other
          // tests running beside this one on CI's two cores.
          std::this_thread::sleep_for(kReaderPause);
        } else {
          reads[level].refused.fetch_add(1);
          std::this_thread::sleep_for(milliseconds(2));
        }
      }
    });
  }
  for (int s = 0; s < 2; ++s) {
    threads.emplace_back([&, s] {
      std::mt19937 rng(200 + s);
      while (Clock::now() < stop_at) {
        const raft::NodeId via = 1 + rng() % 3;
        auto status = timed([&](Deadline) { return c.node(via).status(); });
        ASSERT_NE(status, nullptr);
        status_queries.fetch_add(1);
        std::this_thread::sleep_for(milliseconds(1));
      }
    });
  }
  for (auto& t : threads) t.join();

  std::printf(
      "incident pattern: %d s, writes ok %llu refused %llu; reads ok/refused: linearizable "
      "%llu/%llu lease %llu/%llu stale %llu/%llu; status queries %llu; late %llu (worst %lld ms "
      "past deadline)\n",
      duration_seconds(), (unsigned long long)writes.ok.load(),
      (unsigned long long)writes.refused.load(), (unsigned long long)reads[0].ok.load(),
      (unsigned long long)reads[0].refused.load(), (unsigned long long)reads[1].ok.load(),
      (unsigned long long)reads[1].refused.load(), (unsigned long long)reads[2].ok.load(),
      (unsigned long long)reads[2].refused.load(), (unsigned long long)status_queries.load(),
      (unsigned long long)late.load(), (long long)worst_overrun_ms.load());

  EXPECT_EQ(late.load(), 0u) << "requests answered later than deadline + kSlack; worst "
                             << worst_overrun_ms.load() << " ms";
  EXPECT_EQ(stale_revision_reads.load(), 0u)
      << "a read saw a state older than the revision its barrier promised";
  EXPECT_GE(writes.ok.load(), 50u);
  for (int level = 0; level < 3; ++level) {
    EXPECT_GE(reads[level].ok.load(), static_cast<std::uint64_t>(kMinSuccessesPerLevel))
        << "consistency level " << level;
  }
  EXPECT_GE(status_queries.load(), 1000u);
}

}  // namespace
}  // namespace raftmeta::node::testing
