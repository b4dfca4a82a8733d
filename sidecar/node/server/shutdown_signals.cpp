#include "sidecar/node/server/shutdown_signals.h"

#include <pthread.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <csignal>

namespace raftmeta::node::server {
namespace {

// Sent by the destructor to wake the signal thread without a real signal.
constexpr int kWakeSignal = SIGUSR2;

sigset_t handled_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, kWakeSignal);
  return set;
}

}  // namespace

void ShutdownSignals::block() {
  const sigset_t set = handled_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

ShutdownSignals::ShutdownSignals(std::function<void(int)> on_signal) {
  thread_ = std::thread([on_signal = std::move(on_signal)] {
    pthread_setname_np(pthread_self(), "signals");
    const sigset_t set = handled_signals();
    bool shutting_down = false;
    for (;;) {
      int signo = 0;
      if (sigwait(&set, &signo) != 0) continue;
      if (signo == kWakeSignal) return;
      if (shutting_down) {
        spdlog::critical("received {} again while shutting down: exiting now",
                         signo == SIGTERM ? "SIGTERM" : "SIGINT");
        spdlog::default_logger()->flush();
        ::_exit(1);
      }
      shutting_down = true;
      spdlog::info("received {}: shutting down", signo == SIGTERM ? "SIGTERM" : "SIGINT");
      on_signal(signo);
    }
  });
}

ShutdownSignals::~ShutdownSignals() {
  if (thread_.joinable()) {
    pthread_kill(thread_.native_handle(), kWakeSignal);
    thread_.join();
  }
}

}  // namespace raftmeta::node::server
