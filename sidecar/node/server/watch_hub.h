// WatchHub: serves Metadata.Watch streams from the state machine's watch
// history (state::WatchLog inside each published State).
//
// Each stream is a gRPC write reactor with at most one write in flight. It
// reads events from the latest published State (an atomic load) when its
// previous write completes, and a "watch-hub" thread polls every `poll`
// for idle streams with new events and for keep-alives. So the apply thread
// never waits for a watcher, and a watcher never waits for the apply thread.
//
// Answers (metadata.proto): a start revision older than the history gets one
// WATCH_EVENT_COMPACTED with the oldest watchable revision, then the stream
// ends. A watcher that falls so far behind that its next revision leaves the
// history, or whose client has not taken a write for `max_write_stall`, is
// ended with WATCH_EVENT_CANCELED and the reason (or cancelled when a write is
// stuck). Without changes, WATCH_EVENT_PROGRESS carries the applied revision
// every `progress_interval`. stop() ends every stream with CANCELED
// ("member is shutting down").
//
// Thread safety: open() from gRPC threads, start()/stop() from the owner;
// everything else is internal. Lock order: the hub's mutex, then a
// stream's; neither is held while calling into gRPC.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "raftmeta/v1/metadata.grpc.pb.h"

namespace raftmeta::state {
struct State;
}

namespace raftmeta::node::server {

struct WatchHubOptions {
  std::chrono::milliseconds poll{20};
  std::chrono::milliseconds progress_interval{1000};
  std::chrono::milliseconds max_write_stall{30000};
  std::size_t max_events_per_read = 256;
};

class WatchStream;

class WatchHub {
 public:
  WatchHub(std::function<std::shared_ptr<const state::State>()> current_state,
           std::string cluster_id, WatchHubOptions options = {});
  ~WatchHub();  // stop()
  WatchHub(const WatchHub&) = delete;
  WatchHub& operator=(const WatchHub&) = delete;

  void start();
  // Ends every open stream with CANCELED and stops the thread. Streams opened
  // afterwards are refused with UNAVAILABLE. Idempotent.
  void stop();

  grpc::ServerWriteReactor<raftmeta::v1::WatchEvent>* open(
      grpc::CallbackServerContext* context, const raftmeta::v1::WatchRequest& request);

  std::size_t open_streams() const;

 private:
  friend class WatchStream;
  void run();
  void remove(const WatchStream* stream);

  const std::function<std::shared_ptr<const state::State>()> current_state_;
  const std::string cluster_id_;
  const WatchHubOptions options_;

  mutable std::mutex mu_;  // guards streams_, stopping_
  std::condition_variable cv_;
  std::map<const WatchStream*, std::shared_ptr<WatchStream>> streams_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace raftmeta::node::server
