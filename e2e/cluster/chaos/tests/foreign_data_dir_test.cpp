// A member restarted on a data directory that is not its own must refuse to
// start with a clear error, leave that directory untouched, and leave its
// cluster unaffected (issue 9: "a member restarted with another member's or
// another cluster's data directory, which must be refused").
//
// Two clusters run side by side (A and B). Member 3 of A is killed and its
// directory replaced by a copy of (1) B's member 3 directory (another
// cluster), then (2) A's member 2 directory (another member of the same
// cluster). Each start must exit non-zero naming the mismatch, the copied
// files must be byte-identical afterwards, and A's two other members must
// keep a leader and accept writes throughout.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>

#include "e2e/cluster/chaos/tests/fresh_cluster.h"
#include "e2e/cluster/chaos/workload.h"
#include "e2e/cluster/process_cluster.h"

namespace raftmeta::chaos {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

constexpr milliseconds kStartupWait{10000};
// A refused start ends as soon as storage is opened and checked.
constexpr milliseconds kRefusalWait{10000};

// Path (relative) -> contents of every regular file under `dir`, except
// SQLite's "-shm" wal-index: opening a database in WAL mode (even to read
// its identity) rewrites that shared-memory index, which SQLite rebuilds from
// the database and the WAL and which holds no data of its own.
std::map<std::string, std::string> snapshot_files(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    const std::string name = entry.path().filename().string();
    if (name.size() > 4 && name.ends_with("-shm")) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream content;
    content << in.rdbuf();
    out[fs::relative(entry.path(), dir).string()] = content.str();
  }
  return out;
}

// Names of the files added, removed or changed between two snapshots.
std::string changed_files(const std::map<std::string, std::string>& before,
                          const std::map<std::string, std::string>& after) {
  std::string out;
  for (const auto& [name, content] : before) {
    auto it = after.find(name);
    if (it == after.end()) {
      out += name + " removed; ";
    } else if (it->second != content) {
      out += name + " changed; ";
    }
  }
  for (const auto& [name, content] : after) {
    if (!before.contains(name)) out += name + " added; ";
  }
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

// A write through A's surviving members (registers the run's broker and
// creates the offsets topic again: idempotent).
bool write_succeeds(const e2e::ProcessCluster& a, const std::string& name, std::string* error) {
  WorkloadOptions wo;
  wo.cluster_id = a.options().cluster_id;
  wo.clients = 1;
  wo.run_name = name;
  wo.endpoints[1] = a.client_address(1);
  wo.endpoints[2] = a.client_address(2);
  Workload w(wo, std::chrono::steady_clock::now(), nullptr);
  return w.setup(milliseconds(20000), error);
}

TEST(ChaosE2e, ForeignDataDirIsRefused) {
  e2e::ClusterOptions oa;
  oa.cluster_id = "foreign-a";
  oa.port_base_hint = 26900;
  e2e::ClusterOptions ob;
  ob.cluster_id = "foreign-b";
  ob.port_base_hint = 27200;
  std::string error;
  const auto owned_a = start_fresh_cluster(oa, &error);
  ASSERT_TRUE(owned_a) << error;
  const auto owned_b = start_fresh_cluster(ob, &error);
  ASSERT_TRUE(owned_b) << error;
  e2e::ProcessCluster& a = *owned_a;
  e2e::ProcessCluster& b = *owned_b;
  const milliseconds leader_wait = kStartupWait + milliseconds(4 * oa.election_ms) + e2e::kSlack;
  ASSERT_TRUE(write_succeeds(a, "before", &error)) << error;

  struct Case {
    std::string what;
    std::string source;    // the directory copied over member 3's
    std::string expected;  // in the refusal message
  };
  b.kill(3);
  a.kill(2);  // stopped so its directory is copied at rest; restarted below
  const fs::path copy_of_member2 = fs::path(a.root()) / "copy-of-member-2";
  fs::copy(a.data_dir(2), copy_of_member2, fs::copy_options::recursive);
  ASSERT_TRUE(a.start(2, false, false, &error)) << error;
  ASSERT_TRUE(a.wait_startup(2, kStartupWait + e2e::kSlack)) << a.diagnostics();
  const Case cases[] = {
      {"another cluster's data directory", b.data_dir(3), "belongs to cluster"},
      {"another member's data directory", copy_of_member2.string(), "belongs to member"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    a.kill(3);
    fs::remove_all(a.data_dir(3));
    fs::copy(c.source, a.data_dir(3), fs::copy_options::recursive);
    const auto before = snapshot_files(a.data_dir(3));
    const std::string log_before = read_file(a.log_path(3));

    ASSERT_TRUE(a.start(3, false, false, &error)) << error;
    std::optional<int> exit;
    e2e::ProcessCluster::wait_until(
        [&] {
          exit = a.exit_status(3);
          return exit.has_value();
        },
        kRefusalWait + e2e::kSlack, milliseconds(50));
    ASSERT_TRUE(exit) << "member 3 runs on " << c.what << "\n" << a.diagnostics();
    EXPECT_NE(*exit, 0) << "a refused start must exit with a failure status";
    const std::string log = read_file(a.log_path(3)).substr(log_before.size());
    EXPECT_NE(log.find(c.expected), std::string::npos) << log;
    EXPECT_EQ(changed_files(before, snapshot_files(a.data_dir(3))), "")
        << "the refused start changed the directory";

    // A is unaffected: members 1 and 2 keep a leader and accept writes.
    EXPECT_TRUE(a.wait_leader(leader_wait, {1, 2})) << a.diagnostics();
    EXPECT_TRUE(write_succeeds(a, "during-" + std::to_string(&c - cases), &error)) << error;
  }
}

}  // namespace
}  // namespace raftmeta::chaos
