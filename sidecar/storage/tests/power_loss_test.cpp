// Power loss: the store runs on PowerLossVfs, which keeps unsynced writes in
// memory and drops them at a simulated power cut. At random points (inside
// transactions, during open, between batches) the power fails, dropping every
// unsynced write (even cuts) or letting a random, torn subset of them land (odd
// cuts); after it is restored the store must hold every batch save() reported
// durable.
//
// The planted-bug variant (--planted-bug) commits without syncing
// (OpenOptions::testing_unsafe_no_sync_on_commit) and expects the very same
// check to catch lost batches: proof that the check can fail.
//
//   storage_power_loss_test [--planted-bug] [--cuts=N]
#include <gtest/gtest.h>

#include <random>

#include "sidecar/storage/log_store.h"
#include "sidecar/storage/tests/crash_workload.h"
#include "sidecar/storage/tests/power_loss_vfs.h"
#include "sidecar/storage/tests/test_util.h"

namespace raftmeta::storage {
namespace {

bool g_planted_bug = false;
int g_cuts = 250;

// Batches a session writes at most before the power is cut between batches.
constexpr int kMaxBatchesPerSession = 40;
// The armed cut falls within this many writes/syncs (a batch takes a handful).
constexpr std::uint64_t kMaxOpsBeforeCut = 250;

struct Outcome {
  int cuts = 0;
  int cuts_inside_operations = 0;
  std::size_t reported = 0;
  std::string first_violation;  // "" if nothing durable was lost
  int violation_round = -1;
};

Outcome run_power_cuts(int cuts, bool planted_bug, std::uint64_t seed) {
  testing::PowerLossVfs vfs("raftmeta-power-loss");
  testing::TempDir dir;
  std::mt19937_64 rng(seed);
  testing::Expected expected;
  Outcome out;
  for (int round = 0; round < cuts; ++round) {
    OpenOptions o = testing::crash_options(dir.path());
    o.vfs_name = vfs.name();
    o.create_if_missing = true;
    o.testing_unsafe_no_sync_on_commit = planted_bug;
    // Alternate: drop every unsynced write / let a random, torn subset land.
    vfs.set_cut_mode(round % 2 == 0 ? testing::PowerLossVfs::CutMode::kDropAllUnsynced
                                    : testing::PowerLossVfs::CutMode::kKeepRandomUnsynced,
                     rng());
    vfs.cut_power_after(rng() % kMaxOpsBeforeCut);
    {
      Status s;
      auto store = LogStore::open(o, &s);
      if (store) {
        testing::CrashWriter writer(*store, rng());
        const int batches = static_cast<int>(rng() % kMaxBatchesPerSession);
        for (int i = 0; i < batches; ++i) {
          testing::Report r;
          bool reported = false;
          Status st = writer.append_batch(*store, &r, &reported);
          if (reported) {
            expected.apply(r);
            ++out.reported;
          }
          if (!st || !writer.after_batch(*store).is_ok()) break;
        }
      }
      if (vfs.power_is_off()) {
        ++out.cuts_inside_operations;
      } else {
        vfs.cut_power_now();  // between batches
      }
      ++out.cuts;
    }  // the store closes with the power off: nothing more reaches the disk
    vfs.restore_power();

    o.create_if_missing = false;
    Status s;
    auto store = LogStore::open(o, &s);
    std::string violation;
    if (!store) {
      if (!(expected.log.empty() && s.code() == Status::Code::kNotFound)) {
        violation = "reopen after the cut failed: " + s.to_string();
      }
    } else {
      violation = testing::verify_store(*store, &expected);
    }
    if (!violation.empty()) {
      out.first_violation = violation;
      out.violation_round = round;
      return out;
    }
  }
  return out;
}

TEST(StoragePowerLossTest, NothingReportedDurableIsLost) {
  if (g_planted_bug) GTEST_SKIP() << "planted-bug run";
  const Outcome out = run_power_cuts(g_cuts, /*planted_bug=*/false, 424242);
  EXPECT_EQ(out.first_violation, "") << "at cut " << out.violation_round;
  EXPECT_EQ(out.cuts, g_cuts);
  // The test means something only if cuts landed inside operations and many
  // batches were claimed durable.
  EXPECT_GT(out.cuts_inside_operations, g_cuts / 4);
  EXPECT_GT(out.reported, static_cast<std::size_t>(g_cuts));
  std::printf("%d power cuts (%d inside an operation), %zu durable batches checked\n", out.cuts,
              out.cuts_inside_operations, out.reported);
}

// A cut at every single operation of creating a store: afterwards the data
// directory holds either no database or a complete one, never a broken one.
TEST(StoragePowerLossTest, CutDuringCreationNeverLeavesABrokenDatabase) {
  if (g_planted_bug) GTEST_SKIP() << "planted-bug run";
  testing::PowerLossVfs vfs("raftmeta-power-loss-create");
  int created = 0;
  for (std::uint64_t n = 0; n < 60; ++n) {
    testing::TempDir dir;
    OpenOptions o = testing::crash_options(dir.path());
    o.vfs_name = vfs.name();
    o.create_if_missing = true;
    vfs.set_cut_mode(n % 2 == 0 ? testing::PowerLossVfs::CutMode::kDropAllUnsynced
                                : testing::PowerLossVfs::CutMode::kKeepRandomUnsynced,
                     n);
    vfs.cut_power_after(n / 2);
    {
      Status s;
      auto store = LogStore::open(o, &s);
      if (store) ++created;
      if (!vfs.power_is_off()) vfs.cut_power_now();
    }
    vfs.restore_power();
    o.create_if_missing = false;
    Status s;
    auto store = LogStore::open(o, &s);
    if (!store) {
      EXPECT_EQ(s.code(), Status::Code::kNotFound)
          << "cut after " << n / 2 << ": " << s.to_string();
      o.create_if_missing = true;  // an interrupted creation can simply be retried
      store = LogStore::open(o, &s);
      ASSERT_NE(store, nullptr) << s.to_string();
    }
    EXPECT_TRUE(store->integrity_check().is_ok());
  }
  EXPECT_GT(created, 0);  // the later cuts came after a completed creation
}

TEST(StoragePowerLossTest, PlantedCommitWithoutSyncIsCaught) {
  if (!g_planted_bug) GTEST_SKIP() << "run with --planted-bug";
  const Outcome out = run_power_cuts(g_cuts, /*planted_bug=*/true, 424242);
  EXPECT_NE(out.first_violation, "")
      << "a commit without sync went unnoticed over " << out.cuts << " power cuts";
  std::printf("planted bug caught at cut %d: %s\n", out.violation_round,
              out.first_violation.c_str());
}

}  // namespace
}  // namespace raftmeta::storage

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--planted-bug") raftmeta::storage::g_planted_bug = true;
    if (arg.rfind("--cuts=", 0) == 0) raftmeta::storage::g_cuts = std::stoi(arg.substr(7));
  }
  return RUN_ALL_TESTS();
}
