// RequestExecutor: a fixed pool of named worker threads ("rpc-worker-N") that
// run the parts of gRPC calls that block or take long: the Admin service's
// operations (which wait on the node) and serving Metadata list reads after
// their barrier (which may copy much of the State). Metadata writes and point
// reads do not use it: they complete from the node's callbacks
// (metadata_service.h). gRPC's callback threads never block on the node.
//
// Bounded: at most `queue_capacity` tasks wait; submit() refuses more at once
// (the caller answers RESOURCE_EXHAUSTED) instead of growing without limit.
// Every task the node runs has its own deadline, so a worker is never held
// longer than the longest request deadline.
//
// Thread safety: submit() is safe from any thread. stop() once, from the
// owner, after the gRPC server has shut down (it runs queued tasks first).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace raftmeta::node::server {

class RequestExecutor {
 public:
  RequestExecutor(std::size_t threads, std::size_t queue_capacity);
  ~RequestExecutor();  // stop()
  RequestExecutor(const RequestExecutor&) = delete;
  RequestExecutor& operator=(const RequestExecutor&) = delete;

  // Queues `task`; false when the queue is full or the executor stopped.
  bool submit(std::function<void()> task);
  // Runs what is queued, then joins the workers. Idempotent.
  void stop();

 private:
  void run();

  const std::size_t capacity_;
  std::mutex mu_;  // guards queue_ and stopping_; never held while a task runs
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace raftmeta::node::server
