// ShutdownSignals: SIGTERM and SIGINT handled on a thread of our own
// ("signals"), as gRPC needs (FACTS.md): block() must run in main() before
// any other thread exists, so that every thread inherits the blocked mask and
// only sigwait() on the signal thread receives them.
//
// The first signal calls `on_signal` (once, on the signal thread; it must only
// hand the request over, e.g. wake main(), and return at once); a second
// one while shutting down exits the process at once with status 1 and a
// logged reason, so an operator is never stuck with a node that ignores them.
#pragma once

#include <functional>
#include <thread>

namespace raftmeta::node::server {

class ShutdownSignals {
 public:
  // Blocks SIGTERM and SIGINT for the calling thread (and the threads it
  // starts later). Call first thing in main().
  static void block();

  // Starts the signal thread.
  explicit ShutdownSignals(std::function<void(int signo)> on_signal);
  // Wakes and joins the signal thread (it exits without calling on_signal
  // when no signal came).
  ~ShutdownSignals();
  ShutdownSignals(const ShutdownSignals&) = delete;
  ShutdownSignals& operator=(const ShutdownSignals&) = delete;

 private:
  std::thread thread_;
};

}  // namespace raftmeta::node::server
