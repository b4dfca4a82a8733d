#include "sidecar/node/raft_loop.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "e2e/cluster/chaos/planted_bugs.h"
#include "sidecar/health/failpoints.h"
#include "sidecar/health/metrics.h"
#include "sidecar/node/forwarding.h"
#include "sidecar/node/node_snapshot.h"
#include "sidecar/raft/progress.h"

namespace raftmeta::node {
namespace {

// A learner may be promoted once its match index is within this many entries
// of the leader's last index.
constexpr raft::Index kPromoteMaxLagEntries = 256;
// While committed entries wait for room in the apply queue, the loop looks
// again this often even without new inbox items.
constexpr std::int64_t kBacklogPollNs = 2'000'000;
// Readies taken per turn before the loop goes back to its inbox.
constexpr int kMaxReadiesPerTurn = 8;
// Election timeouts a leader waits for a follower's answer to a snapshot
// after its last chunk went out before sending it again.
constexpr int kSnapshotAnswerElections = 10;
// Heartbeat rounds remembered for the lease.
constexpr std::size_t kMaxRounds = 64;
// Writes submitted and not yet durable beyond which the loop stops taking
// Readies (it keeps turning). Far above what a working disk leaves in flight:
// the writer merges whatever is queued into one transaction.
constexpr std::size_t kMaxWritesInFlight = 4096;

std::int64_t ms_to_ns(std::int64_t ms) { return ms * 1'000'000; }

Clock::time_point at_ns(std::int64_t ns) {
  return Clock::time_point(
      std::chrono::duration_cast<Clock::duration>(std::chrono::nanoseconds(ns)));
}

}  // namespace

RaftLoop::RaftLoop(std::shared_ptr<NodeShared> shared, std::unique_ptr<storage::LogStore> store,
                   std::unique_ptr<raft::MemoryStorage> cache, std::unique_ptr<raft::RawNode> raw,
                   std::map<raft::NodeId, std::string> peers, raft::Index applied_at_start)
    : shared_(std::move(shared)),
      writer_(std::make_unique<StorageWriter>(
          std::move(store), shared_->health.metrics,
          // Runs on the storage-writer thread: only wakes the Raft loop.
          [shared = shared_] { shared->inbox.wake(); })),
      cache_(std::move(cache)),
      raw_(std::move(raw)),
      handed_over_(applied_at_start),
      reported_applied_(applied_at_start) {
  for (const auto& [id, address] : peers) learn_peer(id, address);
  publish_status(raw_->status());
}

RaftLoop::~RaftLoop() {
  if (thread_.joinable()) thread_.detach();
}

void RaftLoop::start() {
  writer_->start();
  auto self = shared_from_this();
  thread_ = std::thread([self] {
    pthread_setname_np(pthread_self(), "raft-loop");
    self->run();
    self->finished_.complete(true);
  });
}

bool RaftLoop::stop(Deadline deadline) {
  stop_requested_.store(true, std::memory_order_release);
  shared_->inbox.wake();
  if (finished_.wait_until(deadline)) {
    if (thread_.joinable()) thread_.join();
    // What was submitted is written (it was accepted by the core); then the
    // store is closed.
    return writer_->stop(deadline);
  }
  spdlog::error("Raft loop did not stop by the shutdown deadline; leaving it behind");
  if (thread_.joinable()) thread_.detach();
  return false;
}

void RaftLoop::run() {
  next_tick_ns_ = health::monotonic_ns() + ms_to_ns(shared_->options.heartbeat_ms);
  while (!stop_requested_.load(std::memory_order_acquire)) {
    turn();
    if (fatal_) {
      // Storage failed: stop turning (the watchdog reports a stalled loop and
      // the member is restarted) but still honour stop requests.
      while (!stop_requested_.load(std::memory_order_acquire)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      return;
    }
  }
}

void RaftLoop::turn() {
  auto* progress = shared_->health.progress;
  auto* metrics = shared_->health.metrics;
  const std::int64_t turn_start = health::monotonic_ns();
  progress->raft_loop_turn_ns.store(turn_start, std::memory_order_relaxed);
  progress->raft_loop_turns.fetch_add(1, std::memory_order_relaxed);
  if (shared_->health.failpoints != nullptr) {
    shared_->health.failpoints->eval(health::kFailpointRaftLoop);
  }

  std::int64_t wait_until = next_tick_ns_;
  if (raw_->has_ready() && writer_->in_flight() < kMaxWritesInFlight) wait_until = 0;
  if (!committed_backlog_.empty()) wait_until = std::min(wait_until, turn_start + kBacklogPollNs);
  std::vector<LoopItem> items;
  shared_->inbox.drain_until(&items, at_ns(wait_until));
  // Report what the apply loop applied before handling requests: a client
  // that got the answer to a configuration change and sends the next one
  // must find the first one in effect.
  const raft::Index applied = shared_->applied.load(std::memory_order_acquire);
  if (applied > reported_applied_) {
    raw_->on_applied(applied);
    reported_applied_ = applied;
  }
  complete_writes();
  if (fatal_) return;
  for (auto& item : items) handle(item);
  start_read_index();

  const std::int64_t now = health::monotonic_ns();
  if (now >= next_tick_ns_) {
    raw_->tick();
    // Ticks keep to their schedule (no drift from turn lengths); after a long
    // turn there is one tick, never a burst: a stalled loop must not start an
    // election the moment it resumes.
    const std::int64_t interval = ms_to_ns(shared_->options.heartbeat_ms);
    next_tick_ns_ += interval;
    if (next_tick_ns_ <= now) next_tick_ns_ = now + interval;
  }
  raft::Status status = raw_->status();
  check_step_aside(status);
  check_snapshot_answers(status);
  update_lease(status);
  for (int i = 0;
       i < kMaxReadiesPerTurn && raw_->has_ready() && writer_->in_flight() < kMaxWritesInFlight;
       ++i) {
    handle_ready();
  }
  hand_over_committed();

  status = raw_->status();
  update_lease(status);
  publish_status(status);

  // Reads whose ReadIndex was never answered (a lost message): answer them so
  // nothing waits on a request the leader will never see.
  const std::int64_t read_timeout = ms_to_ns(2LL * shared_->options.election_ms);
  for (auto it = pending_reads_.begin(); it != pending_reads_.end();) {
    if (now - it->second.started_ns > read_timeout) {
      for (auto& read : it->second.reads) {
        ReadBarrierReply reply;
        reply.status =
            unavailable("the leader did not confirm the read index in time", soft_.leader);
        read.done(std::move(reply));
      }
      it = pending_reads_.erase(it);
    } else {
      ++it;
    }
  }
  if (metrics != nullptr) {
    metrics->raft_loop_turn_seconds.observe(
        static_cast<double>(health::monotonic_ns() - turn_start) / 1e9);
  }
}

void RaftLoop::handle(LoopItem& item) {
  if (auto* b = std::get_if<PeerBatchItem>(&item)) {
    handle_batch(b->batch);
  } else if (auto* p = std::get_if<ProposeItem>(&item)) {
    handle_propose(*p);
  } else if (auto* r = std::get_if<ReadIndexItem>(&item)) {
    if (Clock::now() >= r->deadline) {
      ReadBarrierReply reply;
      reply.status.code = kDeadlineExceeded;
      reply.status.message = "deadline passed before the read reached the Raft loop";
      r->done(std::move(reply));
    } else {
      reads_this_turn_.push_back(std::move(*r));
    }
  } else if (auto* a = std::get_if<AdminItem>(&item)) {
    handle_admin(*a);
  } else if (auto* s = std::get_if<SnapshotTakenItem>(&item)) {
    handle_snapshot_taken(*s);
  } else if (auto* t = std::get_if<TakeSnapshotItem>(&item)) {
    // Ordered after every entry already handed over.
    if (!shared_->apply_queue.try_push(std::move(*t))) {
      AdminReply reply;
      reply.status.code = kUnavailable;
      reply.status.message = "the node is stopping";
      t->done(std::move(reply));
    }
  }
}

void RaftLoop::handle_batch(MessageBatch& batch) {
  const raft::NodeId from = batch.from;
  last_contact_ns_[from] = health::monotonic_ns();
  if (!batch.from_client_address.empty()) client_addresses_[from] = batch.from_client_address;
  if (!batch.from_peer_address.empty() && peers_.count(from) == 0) {
    learn_peer(from, batch.from_peer_address);
  }
  for (const raft::Message& message : batch.messages) raw_->step(message);
}

RequestStatus RaftLoop::unavailable(std::string message, raft::NodeId leader_hint) const {
  RequestStatus status;
  status.code = kUnavailable;
  status.message = std::move(message);
  status.leader_id = leader_hint;
  if (leader_hint == shared_->options.id) {
    status.leader_client_address = shared_->options.client_address;
  } else if (auto it = client_addresses_.find(leader_hint); it != client_addresses_.end()) {
    status.leader_client_address = it->second;
  }
  return status;
}

void RaftLoop::forward(ForwardRequest request, Deadline deadline,
                       std::function<void(ForwardResponse)> done) {
  request.cluster_id = shared_->options.cluster_id;
  request.from = shared_->options.id;
  request.to = soft_.leader;
  request.timeout_ms = std::max<std::int64_t>(
      1, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
  shared_->transport->forward(std::move(request), std::move(done));
}

void RaftLoop::handle_propose(ProposeItem& item) {
  auto* metrics = shared_->health.metrics;
  auto refuse = [&](RequestStatus status, health::ProposalResult result) {
    if (metrics != nullptr) metrics->count_proposal(result);
    ProposeReply reply;
    reply.status = std::move(status);
    item.done(std::move(reply));
  };
  if (Clock::now() >= item.deadline) {
    RequestStatus status;
    status.code = kDeadlineExceeded;
    status.message = "deadline passed before the proposal reached the Raft loop";
    refuse(std::move(status), health::ProposalResult::kDropped);
    return;
  }
  if (soft_.role != raft::Role::kLeader) {
    if (!item.forwarded && soft_.leader != raft::kNoNode) {
      ForwardRequest request;
      request.kind = ForwardRequest::Kind::kPropose;
      request.command = std::move(item.command);
      forward(std::move(request), item.deadline,
              [done = std::move(item.done)](ForwardResponse r) { done(propose_reply_of(r)); });
      return;
    }
    refuse(unavailable(soft_.leader == raft::kNoNode ? "no leader is known; retry"
                                                     : "this member is not the leader",
                       soft_.leader),
           health::ProposalResult::kDropped);
    return;
  }
  if (stepping_aside_) {
    refuse(
        unavailable("the leader is handing over leadership (its apply loop or storage is stalled)",
                    raft::kNoNode),
        health::ProposalResult::kDropped);
    return;
  }
  const raft::Index commit = shared_->commit.load(std::memory_order_relaxed);
  const raft::Index applied = shared_->applied.load(std::memory_order_acquire);
  if (commit > applied && commit - applied > shared_->options.max_apply_lag) {
    RequestStatus status;
    status.code = kResourceExhausted;
    status.message = "the leader is applying a backlog of " + std::to_string(commit - applied) +
                     " entries; retry shortly";
    refuse(std::move(status), health::ProposalResult::kDropped);
    return;
  }
  raft::ProposeResult result = raw_->propose(std::move(item.command));
  switch (result.status) {
    case raft::ProposeStatus::kOk:
      if (metrics != nullptr) metrics->count_proposal(health::ProposalResult::kOk);
      shared_->registry.register_proposal(result.index, result.term, std::move(item.done));
      return;
    case raft::ProposeStatus::kDropped: {
      RequestStatus status;
      status.code = kResourceExhausted;
      status.message = "too much uncommitted data at the leader; retry shortly";
      refuse(std::move(status), health::ProposalResult::kDropped);
      return;
    }
    case raft::ProposeStatus::kTransferring:
      refuse(unavailable("leadership is being transferred; retry", result.leader_hint),
             health::ProposalResult::kDropped);
      return;
    default:
      refuse(unavailable("this member is not the leader", result.leader_hint),
             health::ProposalResult::kDropped);
      return;
  }
}

void RaftLoop::handle_admin(AdminItem& item) {
  auto reply_with = [&](int code, std::string message, std::string detail = {}) {
    AdminReply reply;
    reply.status.code = code;
    reply.status.message = std::move(message);
    reply.detail = std::move(detail);
    item.done(std::move(reply));
  };
  if (soft_.role != raft::Role::kLeader) {
    if (!item.forwarded && soft_.leader != raft::kNoNode) {
      ForwardRequest request;
      request.kind = item.kind;
      request.target = item.target;
      request.peer_address = item.peer_address;
      forward(std::move(request), item.deadline,
              [done = std::move(item.done)](ForwardResponse r) { done(admin_reply_of(r)); });
      return;
    }
    AdminReply reply;
    reply.status = unavailable(soft_.leader == raft::kNoNode ? "no leader is known; retry"
                                                             : "this member is not the leader",
                               soft_.leader);
    item.done(std::move(reply));
    return;
  }
  const raft::Status status = raw_->status();
  auto propose_change = [&](raft::ConfChangeType type, std::string context, std::string what) {
    raft::ConfChange change{type, item.target, std::move(context)};
    raft::ProposeResult result = raw_->propose_conf_change(change);
    if (result.status == raft::ProposeStatus::kOk) {
      shared_->registry.register_proposal(
          result.index, result.term,
          [done = std::move(item.done), what = std::move(what)](ProposeReply p) {
            AdminReply reply;
            reply.status = p.status;
            if (p.status.ok()) reply.detail = what + " at index " + std::to_string(p.index);
            done(std::move(reply));
          });
      return;
    }
    const int code = (result.status == raft::ProposeStatus::kConfPending ||
                      result.status == raft::ProposeStatus::kInvalid)
                         ? kFailedPrecondition
                         : kUnavailable;
    reply_with(code,
               result.reason.empty() ? std::string(raft::to_string(result.status)) : result.reason);
  };
  switch (item.kind) {
    case ForwardRequest::Kind::kAddLearner:
      if (item.target == raft::kNoNode || item.peer_address.empty()) {
        reply_with(kInvalidArgument, "add learner needs a member id and a peer address");
        return;
      }
      propose_change(raft::ConfChangeType::kAddLearner, item.peer_address,
                     "learner " + std::to_string(item.target) + " added");
      return;
    case ForwardRequest::Kind::kPromote: {
      if (std::binary_search(status.conf.voters.begin(), status.conf.voters.end(), item.target)) {
        reply_with(kFailedPrecondition,
                   "member " + std::to_string(item.target) + " is already a voter");
        return;
      }
      if (!std::binary_search(status.conf.learners.begin(), status.conf.learners.end(),
                              item.target)) {
        reply_with(kNotFound, "member " + std::to_string(item.target) + " is not a learner");
        return;
      }
      raft::Index match = 0;
      for (const auto& p : status.progress) {
        if (p.id == item.target) match = p.match;
      }
      if (match + kPromoteMaxLagEntries < status.last_index) {
        reply_with(kFailedPrecondition,
                   "learner " + std::to_string(item.target) + " has not caught up: it has " +
                       std::to_string(match) + " of " + std::to_string(status.last_index) +
                       " entries (must be within " + std::to_string(kPromoteMaxLagEntries) +
                       "); retry when it has");
        return;
      }
      propose_change(raft::ConfChangeType::kPromote, {},
                     "member " + std::to_string(item.target) + " promoted to voter");
      return;
    }
    case ForwardRequest::Kind::kRemove:
      propose_change(raft::ConfChangeType::kRemove, {},
                     "member " + std::to_string(item.target) + " removed");
      return;
    case ForwardRequest::Kind::kTransferLeader: {
      // No lease read may be served from here on: the transferee may be
      // elected before our lease would have run out.
      shared_->lease_until_ns.store(0, std::memory_order_release);
      std::string reason;
      if (!raw_->transfer_leader(item.target, &reason)) {
        reply_with(kFailedPrecondition, "leadership transfer refused: " + reason);
        return;
      }
      reply_with(kOk, {}, "leadership transfer started");
      return;
    }
    case ForwardRequest::Kind::kPropose:
      reply_with(kInvalidArgument, "not an admin operation");
      return;
  }
}

void RaftLoop::handle_snapshot_taken(SnapshotTakenItem& item) {
  const raft::Index index = item.snapshot.meta.index;
  const raft::Index newest = std::max(cache_->snapshot_meta().index, local_snapshot_submitted_);
  if (index <= newest) {
    if (item.done) {
      AdminReply reply;
      reply.detail = "snapshot at index " + std::to_string(newest);
      item.done(std::move(reply));
    }
    return;
  }
  local_snapshot_submitted_ = index;
  WriteTask task;
  task.kind = WriteTask::Kind::kLocalSnapshot;
  task.snapshot = std::make_shared<const raft::Snapshot>(std::move(item.snapshot));
  InFlightWrite write;
  write.local_snapshot = true;
  write.snapshot = task.snapshot;
  write.done = std::move(item.done);
  write.seq = writer_->submit(std::move(task));
  in_flight_.push_back(std::move(write));
}

void RaftLoop::finish_local_snapshot(const raft::Snapshot& snapshot, const AdminCallback& done) {
  const raft::Index index = snapshot.meta.index;
  if (index > cache_->snapshot_meta().index) {
    cache_->create_snapshot(index, snapshot.meta.conf, snapshot.data);
    const std::uint64_t margin = shared_->options.compaction_margin;
    if (index > margin && index - margin >= cache_->first_index()) cache_->compact(index - margin);
  }
  if (done) {
    AdminReply reply;
    reply.detail = "snapshot at index " + std::to_string(cache_->snapshot_meta().index);
    done(std::move(reply));
  }
}

void RaftLoop::complete_writes() {
  std::vector<WriteCompletion> completed;
  writer_->take_completed(&completed);
  for (const WriteCompletion& c : completed) {
    InFlightWrite write = std::move(in_flight_.front());
    in_flight_.pop_front();
    if (write.seq != c.seq) {
      spdlog::critical("the storage writer finished write {} while write {} was expected", c.seq,
                       write.seq);
      fatal_ = true;
      return;
    }
    if (write.local_snapshot) {
      if (!c.status) {
        spdlog::error("storing the snapshot at index {} failed: {}", write.snapshot->meta.index,
                      c.status.to_string());
        if (write.done) {
          AdminReply reply;
          reply.status.code = kInternal;
          reply.status.message = "storing the snapshot failed: " + c.status.to_string();
          write.done(std::move(reply));
        }
        continue;
      }
      finish_local_snapshot(*write.snapshot, write.done);
      continue;
    }
    if (!c.status) {
      spdlog::critical("writing the Raft log failed: {}; the Raft loop stops",
                       c.status.to_string());
      fatal_ = true;
      return;
    }
    if (write.snapshot) cache_->apply_snapshot(*write.snapshot);
    if (write.entries) cache_->append(*write.entries);
    if (write.hard_state) cache_->set_hard_state(*write.hard_state);
    if (write.entries) {
      raw_->on_persisted(write.entries->back().index, write.entries->back().term);
      // PLANTED BUG ack-before-commit (raftmeta-node-planted only; a constant
      // false elsewhere, see e2e/cluster/chaos/planted_bugs.h): a leader
      // answers its proposals as soon as they are on its own disk, before a
      // quorum has them.
      if (chaos::planted::enabled(chaos::planted::Bug::kAckBeforeCommit) &&
          soft_.role == raft::Role::kLeader) {
        for (const raft::Entry& e : *write.entries) {
          for (auto& done : shared_->registry.resolve_applied(e.index, e.term, ApplyOutcome{})) {
            done();
          }
        }
      }
    } else if (write.snapshot) {
      raw_->on_persisted(write.snapshot->meta.index, write.snapshot->meta.term);
    }
    send(write.persisted_messages);
    if (write.snapshot) restore_from(*write.snapshot);
  }
}

void RaftLoop::restore_from(const raft::Snapshot& snapshot) {
  NodeSnapshotData data;
  std::string error;
  if (decode_node_snapshot(snapshot.data, &data, &error)) {
    for (const auto& [id, address] : data.peer_addresses) learn_peer(id, address);
  }
  // Everything not yet handed over is older than the snapshot (the core hands
  // out no committed entry while a snapshot is not yet durable).
  committed_backlog_.clear();
  handed_over_ = std::max(handed_over_, snapshot.meta.index);
  shared_->apply_queue.try_push(RestoreItem{snapshot});
  shared_->health.progress->apply_queued_index.store(handed_over_, std::memory_order_relaxed);
}

void RaftLoop::start_read_index() {
  if (reads_this_turn_.empty()) return;
  std::string context = std::to_string(shared_->options.id) + ":" + std::to_string(++read_seq_);
  raw_->read_index(context);
  pending_reads_[context] = PendingReads{std::move(reads_this_turn_), health::monotonic_ns()};
  reads_this_turn_.clear();
}

void RaftLoop::handle_ready() {
  auto* metrics = shared_->health.metrics;
  raft::Ready rd = raw_->ready();
  raw_->accept(rd);
  const std::int64_t taken_ns = health::monotonic_ns();
  if (rd.heartbeat_round != 0) {
    rounds_.emplace_back(rd.heartbeat_round, taken_ns);
    while (rounds_.size() > kMaxRounds) rounds_.pop_front();
  }
  if (rd.soft_state) {
    if (rd.soft_state->leader != soft_.leader && metrics != nullptr) {
      metrics->leader_changes_total.fetch_add(1, std::memory_order_relaxed);
    }
    if ((rd.soft_state->role == raft::Role::kCandidate ||
         rd.soft_state->role == raft::Role::kPreCandidate) &&
        metrics != nullptr) {
      metrics->elections_started_total.fetch_add(1, std::memory_order_relaxed);
    }
    soft_ = *rd.soft_state;
  }

  // Appends and heartbeats may leave before our own copy is durable.
  send(rd.messages);

  // Everything that must wait for the disk goes through the writer, in order.
  // A Ready with only persisted_messages still queues an (empty) task: they
  // may promise entries an earlier task is still writing.
  if (rd.snapshot || !rd.entries.empty() || rd.hard_state || !rd.persisted_messages.empty()) {
    WriteTask task;
    InFlightWrite write;
    if (rd.snapshot) {
      task.snapshot = std::make_shared<const raft::Snapshot>(std::move(*rd.snapshot));
    }
    if (!rd.entries.empty()) {
      task.entries = std::make_shared<const std::vector<raft::Entry>>(std::move(rd.entries));
    }
    task.hard_state = rd.hard_state;
    task.must_sync = rd.must_sync;
    write.snapshot = task.snapshot;
    write.entries = task.entries;
    write.hard_state = rd.hard_state;
    write.persisted_messages = std::move(rd.persisted_messages);
    write.seq = writer_->submit(std::move(task));
    in_flight_.push_back(std::move(write));
  }

  for (raft::Entry& entry : rd.committed_entries) {
    if (entry.index <= handed_over_ && committed_backlog_.empty()) continue;
    if (entry.type == raft::EntryType::kConfChange) note_committed_conf_change(entry);
    committed_backlog_.push_back(std::move(entry));
  }
  for (const raft::ReadState& rs : rd.read_states) {
    auto it = pending_reads_.find(rs.context);
    if (it == pending_reads_.end()) continue;
    for (auto& read : it->second.reads) {
      shared_->registry.register_read(
          rs.index, [done = std::move(read.done)](bool served, raft::Index applied) {
            ReadBarrierReply reply;
            if (served) {
              reply.revision = applied;
            } else {
              reply.status.code = kUnavailable;
              reply.status.message = "the node is stopping";
            }
            done(std::move(reply));
          });
    }
    pending_reads_.erase(it);
  }
  for (const raft::ReadFailure& failure : rd.read_failures) {
    auto it = pending_reads_.find(failure.context);
    if (it == pending_reads_.end()) continue;
    for (auto& read : it->second.reads) {
      ReadBarrierReply reply;
      reply.status = unavailable("the read index could not be confirmed (no usable leader)",
                                 failure.leader_hint);
      read.done(std::move(reply));
    }
    pending_reads_.erase(it);
  }
}

void RaftLoop::send(std::vector<raft::Message>& messages) {
  if (messages.empty()) return;
  std::map<raft::NodeId, MessageBatch> batches;
  for (raft::Message& message : messages) {
    MessageBatch& batch = batches[message.to];
    batch.messages.push_back(std::move(message));
  }
  auto* failpoints = shared_->health.failpoints;
  for (auto& [to, batch] : batches) {
    bool has_snapshot = false;
    for (const auto& m : batch.messages) has_snapshot |= m.type == raft::MessageType::kSnapshot;
    batch.cluster_id = shared_->options.cluster_id;
    batch.from = shared_->options.id;
    batch.to = to;
    batch.from_client_address = shared_->options.client_address;
    batch.from_peer_address = shared_->options.peer_address;
    const bool injected = failpoints != nullptr && failpoints->eval(health::kFailpointPeerSend);
    if (injected || !shared_->transport->send(std::move(batch))) {
      raw_->report_unreachable(to);
      if (has_snapshot) raw_->report_snapshot(to, false);
    }
  }
}

void RaftLoop::hand_over_committed() {
  if (committed_backlog_.empty()) return;
  const raft::Index applied = shared_->applied.load(std::memory_order_acquire);
  const std::uint64_t limit = shared_->options.apply_queue_entries;
  ApplyEntriesItem item;
  while (!committed_backlog_.empty() &&
         (handed_over_ <= applied || handed_over_ - applied < limit)) {
    handed_over_ = std::max(handed_over_, committed_backlog_.front().index);
    item.entries.push_back(std::move(committed_backlog_.front()));
    committed_backlog_.pop_front();
  }
  if (item.entries.empty()) return;
  shared_->apply_queue.try_push(std::move(item));
  shared_->health.progress->apply_queued_index.store(handed_over_, std::memory_order_relaxed);
}

void RaftLoop::learn_peer(raft::NodeId id, const std::string& address) {
  if (id == shared_->options.id || address.empty()) return;
  auto it = peers_.find(id);
  if (it != peers_.end() && it->second == address) return;
  peers_[id] = address;
  shared_->transport->set_peer(id, address);
}

void RaftLoop::forget_peer(raft::NodeId id) {
  if (id == shared_->options.id) return;
  peers_.erase(id);
  shared_->transport->remove_peer(id);
}

void RaftLoop::note_committed_conf_change(const raft::Entry& entry) {
  auto change = raft::decode_conf_change(entry.data);
  if (!change) return;
  if (change->type == raft::ConfChangeType::kAddLearner) {
    learn_peer(change->node_id, change->context);
  } else if (change->type == raft::ConfChangeType::kRemove) {
    forget_peer(change->node_id);
  }
}

// The core sends a follower a snapshot and then waits for its answer; it
// sends again only when told the snapshot failed. A transport failure says so
// (send()), but a snapshot lost after it was handed over (the receiver's
// inbox was full, or the receiver restarted while restoring it) would leave
// the follower waiting for ever. So the leader reports the snapshot failed
// when no answer came for kSnapshotAnswerElections election timeouts after
// the last chunk went out, and the core sends it again.
void RaftLoop::check_snapshot_answers(const raft::Status& status) {
  if (status.role != raft::Role::kLeader) {
    snapshot_wait_since_ns_.clear();
    return;
  }
  const std::int64_t now = health::monotonic_ns();
  const std::int64_t limit =
      ms_to_ns(static_cast<std::int64_t>(kSnapshotAnswerElections) * shared_->options.election_ms);
  std::map<raft::NodeId, std::int64_t> waiting;
  std::vector<SnapshotTransfer> transfers;
  bool transfers_read = false;
  for (const raft::PeerProgress& p : status.progress) {
    if (p.state != raft::to_string(raft::ProgressState::kSnapshot)) continue;
    const auto it = snapshot_wait_since_ns_.find(p.id);
    std::int64_t since = it == snapshot_wait_since_ns_.end() ? now : it->second;
    if (now - since > limit) {
      // A transfer still moving is not lost: count from its last chunk.
      if (!transfers_read) {
        transfers = shared_->transport->snapshot_transfers();
        transfers_read = true;
      }
      for (const SnapshotTransfer& t : transfers) {
        if (t.outgoing && t.peer == p.id) since = std::max(since, t.updated_ns);
      }
    }
    if (now - since > limit) {
      spdlog::warn("member {} has not answered the snapshot sent to it for {} ms; sending it again",
                   p.id, (now - since) / 1'000'000);
      raw_->report_snapshot(p.id, false);
      continue;
    }
    waiting[p.id] = since;
  }
  snapshot_wait_since_ns_ = std::move(waiting);
}

void RaftLoop::check_step_aside(const raft::Status& status) {
  if (status.role != raft::Role::kLeader) {
    stepping_aside_ = false;
    return;
  }
  const auto* progress = shared_->health.progress;
  const NodeOptions& o = shared_->options;
  const std::int64_t now = health::monotonic_ns();
  const bool waiting = progress->apply_queued_index.load(std::memory_order_relaxed) >
                       progress->applied_index.load(std::memory_order_relaxed);
  const std::int64_t apply_since = progress->apply_progress_ns.load(std::memory_order_relaxed);
  const bool apply_stalled =
      waiting && apply_since != 0 && now - apply_since > ms_to_ns(o.apply_stall_ms);
  const std::int64_t write_since =
      progress->storage_write_started_ns.load(std::memory_order_acquire);
  const bool storage_stalled = write_since != 0 && now - write_since > ms_to_ns(o.storage_stall_ms);
  if (!apply_stalled && !storage_stalled) {
    stepping_aside_ = false;
    return;
  }
  if (!stepping_aside_ || stepped_aside_term_ != status.term) {
    if (storage_stalled) {
      spdlog::warn("a storage write has been in progress for {} ms; leader {} transfers leadership",
                   (now - write_since) / 1'000'000, o.id);
    } else {
      spdlog::warn("the apply loop has not advanced for {} ms; leader {} transfers leadership",
                   (now - apply_since) / 1'000'000, o.id);
    }
  }
  stepping_aside_ = true;
  stepped_aside_term_ = status.term;
  shared_->lease_until_ns.store(0, std::memory_order_release);
  if (status.lead_transferee == raft::kNoNode) {
    std::string reason;
    raw_->transfer_leader(raft::kNoNode, &reason);
  }
}

void RaftLoop::update_lease(const raft::Status& status) {
  if (status.term != lease_term_) {
    rounds_.clear();
    lease_term_ = status.term;
  }
  const NodeOptions& o = shared_->options;
  if (status.role != raft::Role::kLeader || !status.committed_in_term ||
      status.lead_transferee != raft::kNoNode || stepping_aside_ ||
      o.lease_drift_ms >= o.election_ms) {
    shared_->lease_until_ns.store(0, std::memory_order_release);
    return;
  }
  // The newest round a quorum acknowledged, and when it started.
  std::int64_t started = 0;
  while (!rounds_.empty() && rounds_.front().first <= status.lease_round) {
    started = rounds_.front().second;
    if (rounds_.size() > 1 && rounds_[1].first <= status.lease_round) {
      rounds_.pop_front();
      continue;
    }
    break;
  }
  if (started == 0) {
    shared_->lease_until_ns.store(0, std::memory_order_release);
    return;
  }
  shared_->lease_until_ns.store(started + ms_to_ns(o.election_ms - o.lease_drift_ms),
                                std::memory_order_release);
}

void RaftLoop::publish_status(const raft::Status& status) {
  const NodeOptions& o = shared_->options;
  auto s = std::make_shared<NodeStatus>();
  s->id = o.id;
  s->cluster_id = o.cluster_id;
  s->role = status.role;
  s->term = status.term;
  s->leader_id = status.leader;
  if (status.leader == o.id) {
    s->leader_client_address = o.client_address;
  } else if (auto it = client_addresses_.find(status.leader); it != client_addresses_.end()) {
    s->leader_client_address = it->second;
  }
  s->commit = status.commit;
  s->applied = shared_->applied.load(std::memory_order_acquire);
  s->last_index = status.last_index;
  s->snapshot_index = cache_->snapshot_meta().index;
  s->transferring_to = status.lead_transferee;
  const std::int64_t now = health::monotonic_ns();
  s->lease_valid = now < shared_->lease_until_ns.load(std::memory_order_acquire);
  s->stepping_aside = stepping_aside_;
  s->started = true;
  auto add_member = [&](raft::NodeId id, bool voter) {
    MemberStatus m;
    m.id = id;
    m.voter = voter;
    if (id == o.id) {
      m.peer_address = o.peer_address;
      m.client_address = o.client_address;
      m.match = status.last_index;
      m.last_contact_ns = now;
    } else {
      if (auto it = peers_.find(id); it != peers_.end()) m.peer_address = it->second;
      if (auto it = client_addresses_.find(id); it != client_addresses_.end()) {
        m.client_address = it->second;
      }
      if (auto it = last_contact_ns_.find(id); it != last_contact_ns_.end()) {
        m.last_contact_ns = it->second;
      }
      for (const auto& p : status.progress) {
        if (p.id != id) continue;
        m.match = p.match;
        m.next = p.next;
        m.progress_state = p.state;
        m.recent_active = p.recent_active;
      }
    }
    s->members.push_back(std::move(m));
  };
  for (raft::NodeId id : status.conf.voters) add_member(id, true);
  for (raft::NodeId id : status.conf.learners) add_member(id, false);
  s->published_ns = now;
  shared_->commit.store(status.commit, std::memory_order_release);
  std::atomic_store(&shared_->status, std::shared_ptr<const NodeStatus>(std::move(s)));
  if (auto* metrics = shared_->health.metrics) {
    metrics->term.store(status.term, std::memory_order_relaxed);
    metrics->is_leader.store(status.role == raft::Role::kLeader, std::memory_order_relaxed);
    metrics->commit_index.store(status.commit, std::memory_order_relaxed);
  }
}

}  // namespace raftmeta::node
