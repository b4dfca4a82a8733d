#include "sidecar/node/server/watch_hub.h"

#include <pthread.h>

#include <algorithm>
#include <deque>
#include <set>
#include <vector>

#include "sidecar/node/server/grpc_status.h"
#include "sidecar/node/state/state.h"

namespace raftmeta::node::server {

namespace v1 = ::raftmeta::v1;
using SteadyClock = std::chrono::steady_clock;

// One Watch call. Owned by the hub's map and by itself (self_) until gRPC
// calls OnDone.
class WatchStream final : public grpc::ServerWriteReactor<v1::WatchEvent>,
                          public std::enable_shared_from_this<WatchStream> {
 public:
  WatchStream(WatchHub* hub, grpc::CallbackServerContext* context, const v1::WatchRequest& request)
      : hub_(hub), context_(context) {
    for (int kind : request.kinds()) kinds_.insert(kind);
    next_revision_ = request.start_revision();
    last_sent_ = SteadyClock::now();
  }

  void begin(std::shared_ptr<WatchStream> self) { self_ = std::move(self); }

  // Sends what is due, if no write is in flight. Called by the hub thread
  // and after each completed write.
  void pump() {
    std::unique_lock lock(mu_);
    if (done_ || finished_ || cancelled_) return;
    const auto now = SteadyClock::now();
    if (writing_) {
      if (now - write_started_ > hub_->options_.max_write_stall && !cancel_requested_) {
        cancel_requested_ = true;
        lock.unlock();
        context_->TryCancel();  // the client stopped reading; OnCancel finishes
      }
      return;
    }
    if (finish_after_write_) {
      finished_ = true;
      lock.unlock();
      Finish(grpc::Status::OK);
      return;
    }
    if (!cancel_reason_.empty()) {
      event_.Clear();
      event_.set_type(v1::WATCH_EVENT_CANCELED);
      event_.set_reason(cancel_reason_);
      event_.set_revision(next_revision_ > 0 ? next_revision_ - 1 : 0);
      start_write(std::move(lock), /*then_finish=*/true);
      return;
    }
    if (pending_.empty() && !fill(now)) return;
    if (pending_.empty()) return;  // fill() prepared nothing to send
    event_ = std::move(pending_.front());
    pending_.pop_front();
    const bool then_finish = event_.type() == v1::WATCH_EVENT_COMPACTED;
    start_write(std::move(lock), then_finish);
  }

  void cancel(std::string reason) {
    {
      std::lock_guard lock(mu_);
      if (cancel_reason_.empty()) cancel_reason_ = std::move(reason);
    }
    pump();
  }

  void OnWriteDone(bool ok) override {
    grpc::Status finish_with;
    bool finish = false;
    {
      std::lock_guard lock(mu_);
      writing_ = false;
      if (finished_) return;
      if (!ok || cancelled_) {
        // The client went away or cancelled: OnDone follows the Finish.
        finished_ = true;
        finish = true;
        finish_with = grpc::Status::CANCELLED;
      }
    }
    if (finish) {
      Finish(finish_with);
      return;
    }
    pump();
  }

  void OnCancel() override {
    bool finish = false;
    {
      std::lock_guard lock(mu_);
      cancelled_ = true;
      if (!finished_ && !writing_) {
        finished_ = true;
        finish = true;
      }  // else OnWriteDone finishes
    }
    if (finish) Finish(grpc::Status::CANCELLED);
  }

  void OnDone() override {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    hub_->remove(this);
    std::shared_ptr<WatchStream> keep = std::move(self_);  // may delete this at return
  }

 private:
  // Reads the next events into pending_ (mu_ held). Returns false when there
  // is nothing to do now.
  bool fill(SteadyClock::time_point now) {
    const std::shared_ptr<const state::State> current = hub_->current_state_();
    if (!current) return false;
    if (next_revision_ == 0) next_revision_ = current->revision() + 1;
    const state::WatchRead read =
        current->watch_events(next_revision_, hub_->options_.max_events_per_read);
    if (read.compacted) {
      v1::WatchEvent e;
      if (!started_) {
        e.set_type(v1::WATCH_EVENT_COMPACTED);
        e.set_compact_revision(read.compact_revision);
        e.set_revision(current->revision());
        pending_.push_back(std::move(e));
        started_ = true;
        return true;
      }
      cancel_reason_ = "watcher fell behind: revision " + std::to_string(next_revision_) +
                       " is no longer held (oldest is " + std::to_string(read.compact_revision) +
                       "); re-read and watch again";
      e.set_type(v1::WATCH_EVENT_CANCELED);
      e.set_reason(cancel_reason_);
      e.set_revision(next_revision_ - 1);
      pending_.push_back(std::move(e));
      return true;
    }
    started_ = true;
    for (const auto& event : read.events) {
      next_revision_ = std::max(next_revision_, event->revision() + 1);
      if (kinds_.empty()) {
        pending_.push_back(*event);
        continue;
      }
      v1::WatchEvent filtered;
      filtered.set_type(event->type());
      filtered.set_revision(event->revision());
      for (const v1::Change& change : event->changes()) {
        if (kinds_.contains(change.kind())) *filtered.add_changes() = change;
      }
      if (filtered.changes_size() > 0) pending_.push_back(std::move(filtered));
    }
    if (read.events.empty() || read.events.size() < hub_->options_.max_events_per_read) {
      // Nothing else up to the State's revision: no need to read it again.
      next_revision_ = std::max(next_revision_, current->revision() + 1);
    }
    if (pending_.empty() && now - last_sent_ >= hub_->options_.progress_interval) {
      v1::WatchEvent e;
      e.set_type(v1::WATCH_EVENT_PROGRESS);
      e.set_revision(current->revision());
      pending_.push_back(std::move(e));
    }
    return !pending_.empty();
  }

  void start_write(std::unique_lock<std::mutex> lock, bool then_finish) {
    writing_ = true;
    write_started_ = SteadyClock::now();
    last_sent_ = write_started_;
    if (then_finish) finish_after_write_ = true;
    if (event_.type() == v1::WATCH_EVENT_CANCELED) finish_after_write_ = true;
    lock.unlock();
    StartWrite(&event_);
  }

  WatchHub* const hub_;
  grpc::CallbackServerContext* const context_;
  std::set<int> kinds_;
  std::shared_ptr<WatchStream> self_;

  std::mutex mu_;  // guards everything below; never held across a gRPC call
  std::uint64_t next_revision_ = 0;
  std::deque<v1::WatchEvent> pending_;
  v1::WatchEvent event_;  // the write in flight (must live until OnWriteDone)
  bool started_ = false;
  bool writing_ = false;
  bool finished_ = false;  // Finish called (or about to be)
  bool done_ = false;      // OnDone ran: touch nothing gRPC
  bool finish_after_write_ = false;
  bool cancelled_ = false;  // OnCancel ran
  bool cancel_requested_ = false;
  std::string cancel_reason_;
  SteadyClock::time_point write_started_;
  SteadyClock::time_point last_sent_;
};

WatchHub::WatchHub(std::function<std::shared_ptr<const state::State>()> current_state,
                   std::string cluster_id, WatchHubOptions options)
    : current_state_(std::move(current_state)),
      cluster_id_(std::move(cluster_id)),
      options_(options) {}

WatchHub::~WatchHub() { stop(); }

void WatchHub::start() {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "watch-hub");
    run();
  });
}

void WatchHub::stop() {
  std::vector<std::shared_ptr<WatchStream>> streams;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    for (auto& [key, stream] : streams_) streams.push_back(stream);
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  for (auto& stream : streams) stream->cancel("member is shutting down");
}

std::size_t WatchHub::open_streams() const {
  std::lock_guard lock(mu_);
  return streams_.size();
}

grpc::ServerWriteReactor<v1::WatchEvent>* WatchHub::open(grpc::CallbackServerContext* context,
                                                         const v1::WatchRequest& request) {
  auto stream = std::make_shared<WatchStream>(this, context, request);
  stream->begin(stream);
  grpc::Status refused = check_cluster_id(request.cluster_id(), cluster_id_);
  if (refused.ok()) {
    std::lock_guard lock(mu_);
    if (stopping_) {
      refused = grpc::Status(grpc::StatusCode::UNAVAILABLE, "member is shutting down");
    } else {
      streams_[stream.get()] = stream;
    }
  }
  if (!refused.ok()) {
    stream->Finish(refused);
    return stream.get();
  }
  stream->pump();
  return stream.get();
}

void WatchHub::remove(const WatchStream* stream) {
  std::lock_guard lock(mu_);
  streams_.erase(stream);
}

void WatchHub::run() {
  for (;;) {
    std::vector<std::shared_ptr<WatchStream>> streams;
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, options_.poll, [&] { return stopping_; });
      if (stopping_) return;
      for (auto& [key, stream] : streams_) streams.push_back(stream);
    }
    for (auto& stream : streams) stream->pump();
  }
}

}  // namespace raftmeta::node::server
