// Crash test: a child process appends batches in a loop and reports each one
// that save() made durable; the parent SIGKILLs it at random moments, then
// opens the store and checks that every reported batch is present and intact,
// the log is contiguous and the hard state agrees with it.
//
//   storage_crash_test <path-to-storage_crash_child> [--rounds=N]
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "sidecar/storage/log_store.h"
#include "sidecar/storage/tests/crash_workload.h"
#include "sidecar/storage/tests/test_util.h"

extern char** environ;

namespace raftmeta::storage {
namespace {

std::string g_child_path;
int g_rounds = 200;

#if defined(RAFTMETA_SANITIZER_ADDRESS) || defined(RAFTMETA_SANITIZER_THREAD)
constexpr int kSlowdown = 5;
#else
constexpr int kSlowdown = 1;
#endif
// How long the child may go without reporting a batch before the test calls
// it stuck: far above one fsync, generous for a loaded 2-core machine.
constexpr std::chrono::milliseconds kReportSlack{30000 * kSlowdown};

using testing::Expected;
using testing::Report;

class Child {
 public:
  Child(const std::string& dir, std::uint64_t seed) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    const std::string seed_text = std::to_string(seed);
    char* argv[] = {const_cast<char*>(g_child_path.c_str()), const_cast<char*>(dir.c_str()),
                    const_cast<char*>(seed_text.c_str()), nullptr};
    if (posix_spawn(&pid_, g_child_path.c_str(), &fa, nullptr, argv, environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
    ::close(fds[1]);
    fd_ = fds[0];
  }
  ~Child() {
    kill_and_wait();
    if (fd_ >= 0) ::close(fd_);
  }
  bool started() const { return pid_ > 0; }

  // Reads reports until `want` have arrived in total (or the child ends).
  // False if no report arrived within kReportSlack.
  bool read_until(std::size_t want) {
    while (reports_.size() < want) {
      pollfd p{fd_, POLLIN, 0};
      const int n = ::poll(&p, 1, static_cast<int>(kReportSlack.count()));
      if (n <= 0) return false;
      if (!read_some()) return true;  // EOF: the child exited
    }
    return true;
  }

  // SIGKILL, reap, then collect every report written before the kill.
  int kill_and_wait() {
    if (pid_ <= 0) return status_;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status_, 0);
    pid_ = -1;
    while (read_some()) {
    }
    return status_;
  }

  const std::vector<Report>& reports() const { return reports_; }

 private:
  // False at EOF.
  bool read_some() {
    char buf[4096];
    const ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n <= 0) return false;
    pending_.append(buf, static_cast<std::size_t>(n));
    std::size_t nl;
    while ((nl = pending_.find('\n')) != std::string::npos) {
      std::istringstream line(pending_.substr(0, nl));
      Report r{};
      line >> r.first >> r.last >> r.term >> r.commit;
      reports_.push_back(r);
      pending_.erase(0, nl + 1);
    }
    return true;
  }

  pid_t pid_ = -1;
  int fd_ = -1;
  int status_ = 0;
  std::string pending_;
  std::vector<Report> reports_;
};

// Opens the store after a kill and checks it against what was reported.
void verify(const std::string& dir, Expected* expected, int round) {
  SCOPED_TRACE("round " + std::to_string(round));
  Status s;
  auto store = LogStore::open(testing::crash_options(dir), &s);
  if (!store && expected->log.empty() && s.code() == Status::Code::kNotFound) {
    return;  // killed before the database was created
  }
  ASSERT_NE(store, nullptr) << s.to_string();
  ASSERT_EQ(testing::verify_store(*store, expected), "");
}

TEST(StorageCrashTest, EveryReportedBatchSurvivesSigkill) {
  ASSERT_FALSE(g_child_path.empty()) << "usage: storage_crash_test <storage_crash_child>";
  testing::TempDir dir;
  std::mt19937_64 rng(20261127);
  Expected expected;
  std::size_t total_reports = 0;
  int killed_mid_stream = 0;
  for (int round = 0; round < g_rounds; ++round) {
    Child child(dir.path(), rng());
    ASSERT_TRUE(child.started());
    // A random moment: after 0..15 reports, then 0..2 ms more.
    const std::size_t want = rng() % 16;
    ASSERT_TRUE(child.read_until(want)) << "child stuck in round " << round;
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 2000));
    const int status = child.kill_and_wait();
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "the child ended by itself (status " << status << ") in round " << round;
    if (want > 0) ++killed_mid_stream;
    for (const Report& r : child.reports()) expected.apply(r);
    total_reports += child.reports().size();
    verify(dir.path(), &expected, round);
    if (::testing::Test::HasFatalFailure()) return;
  }
  EXPECT_GT(total_reports, static_cast<std::size_t>(g_rounds));
  RecordProperty("rounds", g_rounds);
  RecordProperty("reports", static_cast<int>(total_reports));
  std::printf("%d rounds, %zu durable batches reported, %d kills while appending\n", g_rounds,
              total_reports, killed_mid_stream);
}

}  // namespace
}  // namespace raftmeta::storage

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--rounds=", 0) == 0) {
      raftmeta::storage::g_rounds = std::stoi(arg.substr(9));
    } else {
      raftmeta::storage::g_child_path = arg;
    }
  }
  return RUN_ALL_TESTS();
}
