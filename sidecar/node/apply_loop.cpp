#include "sidecar/node/apply_loop.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "e2e/cluster/chaos/planted_bugs.h"
#include "sidecar/health/failpoints.h"
#include "sidecar/health/metrics.h"
#include "sidecar/node/node_snapshot.h"

namespace raftmeta::node {
namespace {

// How long the apply thread waits for work before stamping "idle" progress.
constexpr auto kIdleWait = std::chrono::milliseconds(50);

void erase_id(std::vector<raft::NodeId>* ids, raft::NodeId id) {
  ids->erase(std::remove(ids->begin(), ids->end(), id), ids->end());
}
void insert_id(std::vector<raft::NodeId>* ids, raft::NodeId id) {
  auto it = std::lower_bound(ids->begin(), ids->end(), id);
  if (it == ids->end() || *it != id) ids->insert(it, id);
}
bool contains(const std::vector<raft::NodeId>& ids, raft::NodeId id) {
  return std::binary_search(ids.begin(), ids.end(), id);
}

}  // namespace

bool apply_conf_change_to(raft::ConfState* conf, const raft::ConfChange& change) {
  const raft::NodeId id = change.node_id;
  if (id == raft::kNoNode || contains(conf->removed, id)) return false;
  switch (change.type) {
    case raft::ConfChangeType::kAddLearner:
      if (contains(conf->voters, id) || contains(conf->learners, id)) return false;
      insert_id(&conf->learners, id);
      return true;
    case raft::ConfChangeType::kPromote:
      if (!contains(conf->learners, id)) return false;
      erase_id(&conf->learners, id);
      insert_id(&conf->voters, id);
      return true;
    case raft::ConfChangeType::kRemove:
      if (!contains(conf->voters, id) && !contains(conf->learners, id)) return false;
      erase_id(&conf->voters, id);
      erase_id(&conf->learners, id);
      insert_id(&conf->removed, id);
      return true;
  }
  return false;
}

ApplyLoop::ApplyLoop(std::shared_ptr<NodeShared> shared, std::shared_ptr<Applier> applier,
                     raft::Index applied, raft::Term applied_term, raft::ConfState conf,
                     std::map<raft::NodeId, std::string> peers)
    : shared_(std::move(shared)),
      applier_(std::move(applier)),
      applied_(applied),
      applied_term_(applied_term),
      last_snapshot_index_(applied),
      conf_(std::move(conf)),
      peers_(std::move(peers)) {}

ApplyLoop::~ApplyLoop() {
  if (thread_.joinable()) thread_.detach();
}

void ApplyLoop::start() {
  auto self = shared_from_this();
  thread_ = std::thread([self] {
    pthread_setname_np(pthread_self(), "apply-loop");
    self->run();
    self->finished_.complete(true);
  });
}

bool ApplyLoop::stop(Deadline deadline) {
  stop_requested_.store(true, std::memory_order_release);
  shared_->apply_queue.wake();
  if (finished_.wait_until(deadline)) {
    if (thread_.joinable()) thread_.join();
    return true;
  }
  spdlog::error("apply loop did not stop by the shutdown deadline; leaving it behind");
  if (thread_.joinable()) thread_.detach();
  return false;
}

void ApplyLoop::run() {
  auto* progress = shared_->health.progress;
  std::vector<ApplyItem> items;
  while (true) {
    items.clear();
    shared_->apply_queue.drain_until(&items, Clock::now() + kIdleWait);
    if (items.empty()) {
      // Nothing waiting: the apply loop is idle, not stalled.
      progress->apply_progress_ns.store(health::monotonic_ns(), std::memory_order_relaxed);
      if (stop_requested_.load(std::memory_order_acquire)) return;
      continue;
    }
    for (auto& item : items) {
      if (auto* e = std::get_if<ApplyEntriesItem>(&item)) {
        apply_entries(e->entries);
      } else if (auto* r = std::get_if<RestoreItem>(&item)) {
        restore(r->snapshot);
      } else if (auto* t = std::get_if<TakeSnapshotItem>(&item)) {
        take_snapshot(std::move(t->done));
      }
    }
    const std::uint64_t every = shared_->options.snapshot_entries;
    if (every > 0 && applied_ >= last_snapshot_index_ + every) {
      take_snapshot(nullptr);
    }
  }
}

void ApplyLoop::apply_entries(std::vector<raft::Entry>& entries) {
  auto* failpoints = shared_->health.failpoints;
  std::vector<std::function<void()>> callbacks;
  {
#ifdef RAFTMETA_PLANT_INCIDENT_LOCK
    // THE PLANTED INCIDENT: the thread that applies holds the status lock
    // (the old Raft lock) and takes the state machine's lock to apply.
    std::lock_guard<std::mutex> status_lock(shared_->incident_status_lock);
    std::lock_guard<std::mutex> state_lock(shared_->incident_state_lock);
#endif
    for (const raft::Entry& entry : entries) {
      if (entry.index <= applied_) continue;  // covered by a restored snapshot
      if (failpoints != nullptr) failpoints->eval(health::kFailpointApplyLoop);
      ApplyOutcome outcome;
      if (entry.type == raft::EntryType::kConfChange) {
        apply_conf_change(entry);
      } else {
        outcome = applier_->apply(entry.index, entry.term, entry.data);
      }
      applied_ = entry.index;
      applied_term_ = entry.term;
      auto done = shared_->registry.resolve_applied(entry.index, entry.term, outcome);
      for (auto& cb : done) callbacks.push_back(std::move(cb));
    }
    if (chaos::planted::enabled(chaos::planted::Bug::kDoubleApplyAfterRestart)) {
      apply_first_batch_again(entries);
    }
    applier_->publish();
  }
  publish_applied(applied_);
  // The Raft loop reports the new applied index to the core on its next
  // turn (configuration changes take effect then): wake it.
  shared_->inbox.wake();
  run_all(callbacks);
  auto reads = shared_->registry.resolve_reads();
  run_all(reads);
}

// PLANTED BUG double-apply-after-restart (raftmeta-node-planted only; never
// called elsewhere, see e2e/cluster/chaos/planted_bugs.h): the first batch
// this process applied (after a restart: the replay of its log) is applied
// once more, right after the next batch, as a replay that restarts from a
// stale position would. The state machine's own guard against old indexes is
// planted away too (metadata_state_machine.cpp). Apply thread only; one
// ApplyLoop per process in the planted binary.
void ApplyLoop::apply_first_batch_again(const std::vector<raft::Entry>& entries) {
  static std::vector<raft::Entry> first;
  static int stage = 0;  // 0: nothing applied yet, 1: first batch kept, 2: done
  if (stage == 0) {
    first = entries;
    stage = 1;
  } else if (stage == 1) {
    stage = 2;
    for (const raft::Entry& entry : first) {
      if (entry.type == raft::EntryType::kNormal)
        applier_->apply(entry.index, entry.term, entry.data);
    }
  }
}

void ApplyLoop::apply_conf_change(const raft::Entry& entry) {
  auto change = raft::decode_conf_change(entry.data);
  if (!change) {
    spdlog::error("entry {} holds a malformed configuration change; skipped", entry.index);
    return;
  }
  if (apply_conf_change_to(&conf_, *change)) {
    if (change->type == raft::ConfChangeType::kAddLearner) {
      peers_[change->node_id] = change->context;
    } else if (change->type == raft::ConfChangeType::kRemove) {
      peers_.erase(change->node_id);
    }
  }
}

void ApplyLoop::restore(const raft::Snapshot& snapshot) {
  if (snapshot.meta.index <= applied_) return;
  NodeSnapshotData data;
  std::string error;
  if (!decode_node_snapshot(snapshot.data, &data, &error) ||
      (!data.state.empty() && !applier_->restore(snapshot.meta.index, data.state, &error))) {
    // The leader sent a snapshot this member cannot read: keep the old state
    // and stop applying rather than diverge. The watchdog reports the stall.
    spdlog::critical("cannot restore snapshot at index {}: {}; the apply loop stops",
                     snapshot.meta.index, error);
    while (!stop_requested_.load(std::memory_order_acquire)) {
      std::this_thread::sleep_for(kIdleWait);
    }
    return;
  }
  applied_ = snapshot.meta.index;
  applied_term_ = snapshot.meta.term;
  last_snapshot_index_ = applied_;
  conf_ = snapshot.meta.conf;
  peers_ = std::move(data.peer_addresses);
  // Proposals at or below the snapshot were replaced by it: their outcome is
  // unknown here (the client retries with the same request id).
  RequestStatus unknown;
  unknown.code = kUnavailable;
  unknown.message = "the proposal's outcome is unknown (a snapshot replaced the log); retry";
  auto failed = shared_->registry.fail_through(applied_, unknown);
  publish_applied(applied_);
  run_all(failed);
  auto reads = shared_->registry.resolve_reads();
  run_all(reads);
}

void ApplyLoop::take_snapshot(AdminCallback done) {
  if (applied_ == 0 || (applied_ <= last_snapshot_index_ && !done)) return;
  raft::Snapshot snapshot;
  snapshot.meta.index = applied_;
  snapshot.meta.term = applied_term_;
  snapshot.meta.conf = conf_;
  NodeSnapshotData data;
  data.peer_addresses = peers_;
  data.state = applier_->snapshot();
  snapshot.data = encode_node_snapshot(data);
  SnapshotTakenItem item{std::move(snapshot), done};
  if (shared_->inbox.try_push(std::move(item))) {
    last_snapshot_index_ = applied_;
  } else if (done) {
    AdminReply reply;
    reply.status.code = kUnavailable;
    reply.status.message = "the Raft loop's inbox is full; try again";
    done(std::move(reply));
  }
}

void ApplyLoop::publish_applied(raft::Index index) {
  shared_->applied.store(index, std::memory_order_release);
  auto* progress = shared_->health.progress;
  progress->applied_index.store(index, std::memory_order_relaxed);
  progress->apply_progress_ns.store(health::monotonic_ns(), std::memory_order_relaxed);
  if (shared_->health.metrics != nullptr) {
    shared_->health.metrics->applied_index.store(index, std::memory_order_relaxed);
  }
}

}  // namespace raftmeta::node
