// One child process for tests: spawned with fork/exec, its stdout and stderr
// appended to a log file, killed with SIGKILL if the test process dies
// (PR_SET_PDEATHSIG), and reaped with a deadline.
//
// Thread use: one owner thread (the test's).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace raftmeta::e2e {

class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();  // SIGKILL and reap if still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts `argv[0]` with `argv` and the current environment plus `env`.
  // Returns false with *error if the process could not be created (an exec
  // failure shows as exit code 127).
  bool spawn(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
             const std::string& log_path, std::string* error);

  pid_t pid() const { return pid_; }
  bool running();  // reaps it when it has exited

  bool signal(int signo);
  // Waits up to `timeout` for exit. Returns the exit status as
  // "exit code" (0..255) or 128 + signal number; nullopt on timeout.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  // SIGKILL (after SIGCONT is irrelevant: SIGKILL ends stopped processes) and reap.
  void kill_and_reap();
  // Exit status after the process ended (see wait_exit), if it has.
  std::optional<int> exit_status() const { return exit_status_; }

 private:
  bool try_reap(bool block);

  pid_t pid_ = -1;
  std::optional<int> exit_status_;
};

}  // namespace raftmeta::e2e
