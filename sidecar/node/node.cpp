#include "sidecar/node/node.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <random>

#include "e2e/cluster/chaos/planted_bugs.h"
#include "sidecar/health/failpoints.h"
#include "sidecar/health/metrics.h"
#include "sidecar/node/apply_loop.h"
#include "sidecar/node/bootstrap_probe.h"
#include "sidecar/node/completion.h"
#include "sidecar/node/deadline_timer.h"
#include "sidecar/node/forwarding.h"
#include "sidecar/node/member_incarnation.h"
#include "sidecar/node/node_shared.h"
#include "sidecar/node/node_snapshot.h"
#include "sidecar/node/peer_incarnation_book.h"
#include "sidecar/node/raft_loop.h"
#include "sidecar/storage/log_store.h"

namespace raftmeta::node {
namespace {

// Bootstrap snapshot: every member of a new cluster starts from the same
// snapshot at (index 1, term 1) holding the initial voters, so the first log
// entry any of them writes is index 2.
constexpr raft::Index kBootstrapIndex = 1;
constexpr raft::Term kBootstrapTerm = 1;

health::ReadConsistency metric_level(Consistency level) {
  switch (level) {
    case Consistency::kLinearizable:
      return health::ReadConsistency::kLinearizable;
    case Consistency::kLease:
      return health::ReadConsistency::kLease;
    case Consistency::kStale:
      break;
  }
  return health::ReadConsistency::kStale;
}

std::int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A non-zero seed for the core's randomized election timeout.
std::uint64_t random_seed() {
  std::random_device device;
  std::uint64_t seed = (static_cast<std::uint64_t>(device()) << 32) ^ device();
  seed ^= static_cast<std::uint64_t>(Clock::now().time_since_epoch().count());
  return seed != 0 ? seed : 1;
}

std::string validate(const NodeOptions& o) {
  if (o.id == raft::kNoNode) return "the member id must be a positive number";
  if (o.cluster_id.empty()) return "the cluster id must not be empty";
  if (o.data_dir.empty()) return "the data directory must be set";
  if (o.heartbeat_ms <= 0) return "heartbeat-ms must be positive";
  if (o.election_ms < 2 * o.heartbeat_ms) return "election-ms must be at least 2 x heartbeat-ms";
  if (o.lease_drift_ms < 0) return "the lease drift bound must not be negative";
  if (o.inbox_capacity == 0 || o.apply_queue_entries == 0) return "queue bounds must be positive";
  return {};
}

}  // namespace

// Receives peer traffic for this member. Runs on transport threads; never
// blocks (inbox pushes only).
class Node::Handler final : public TransportHandler {
 public:
  explicit Handler(std::shared_ptr<NodeShared> shared) : shared_(std::move(shared)) {}

  void on_batch(MessageBatch batch) override {
    const NodeOptions& o = shared_->options;
    if (batch.cluster_id != o.cluster_id || batch.to != o.id) return;  // refused
    shared_->inbox.try_push(PeerBatchItem{std::move(batch)});          // full: dropped
  }

  void on_forward(ForwardRequest request, std::function<void(ForwardResponse)> reply) override {
    const NodeOptions& o = shared_->options;
    if (request.cluster_id != o.cluster_id || request.to != o.id) {
      ForwardResponse r;
      r.code = kFailedPrecondition;
      r.message = "forwarded request for another cluster or member";
      reply(std::move(r));
      return;
    }
    const Deadline deadline =
        Clock::now() + std::chrono::milliseconds(std::max<std::int64_t>(1, request.timeout_ms));
    bool queued;
    if (request.kind == ForwardRequest::Kind::kPropose) {
      if (o.restamp_forwarded) o.restamp_forwarded(&request.command, wall_clock_ms());
      queued = shared_->inbox.try_push(
          ProposeItem{std::move(request.command), deadline, true,
                      [reply](ProposeReply p) { reply(to_forward_response(p)); }});
    } else {
      queued = shared_->inbox.try_push(
          AdminItem{request.kind, request.target, std::move(request.peer_address), deadline, true,
                    [reply](AdminReply a) { reply(to_forward_response(a)); }});
    }
    if (!queued) {
      ForwardResponse r;
      r.code = kUnavailable;
      r.message = "the leader is overloaded or stopping; retry";
      reply(std::move(r));
    }
  }

 private:
  std::shared_ptr<NodeShared> shared_;
};

Node::Node() : deadlines_(std::make_unique<DeadlineTimer>()) {}

Node::~Node() {
  if (!stopped_ && shared_) {
    shutdown(Clock::now() + std::chrono::milliseconds(shared_->options.shutdown_timeout_ms));
  }
}

std::unique_ptr<Node> Node::start(NodeOptions options, std::shared_ptr<Applier> applier,
                                  Transport* transport, NodeHealth health, std::string* error) {
  if (std::string bad = validate(options); !bad.empty()) {
    *error = bad;
    return nullptr;
  }
  if (!applier || transport == nullptr) {
    *error = "a state machine and a transport are required";
    return nullptr;
  }
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) {
    *error = "cannot create data directory " + options.data_dir + ": " + ec.message();
    return nullptr;
  }
  const bool has_data =
      std::filesystem::exists(std::filesystem::path(options.data_dir) / "raft.db");
  const bool bootstrap = !has_data && !options.join && !options.initial_members.empty();
  if (!has_data && !options.join && options.initial_members.empty()) {
    *error = "no Raft data in " + options.data_dir +
             ": pass --initial-members to bootstrap a new cluster or --join to be added to one";
    return nullptr;
  }
  if (bootstrap && options.initial_members.count(options.id) == 0) {
    *error = "--initial-members does not include this member's id " + std::to_string(options.id);
    return nullptr;
  }
  if (has_data && !options.initial_members.empty()) {
    spdlog::info("{} already holds Raft data: --initial-members is ignored (no second bootstrap)",
                 options.data_dir);
  }

  // Incarnations (member_incarnation.h, peer_incarnation_book.h): nothing is
  // written before the probe has allowed a bootstrap, so a refused start
  // leaves the directory as empty as it found it.
  std::string why_not;
  std::shared_ptr<PeerIncarnationBook> book = PeerIncarnationBook::open(options.data_dir, &why_not);
  if (!book) {
    *error = why_not;
    return nullptr;
  }
  std::uint64_t incarnation = 0;
  if (!has_data) {
    incarnation = new_incarnation();
    if (bootstrap) {
      const std::vector<HelloAnswer> answers =
          transport->hello(options.initial_members, options.cluster_id, options.id, incarnation,
                           kBootstrapProbeTimeout);
      if (std::string refused = bootstrap_refusal(answers, options.id, incarnation);
          !refused.empty()) {
        *error = refused;
        return nullptr;
      }
    }
    if (!stamp_incarnation(options.data_dir, options.id, incarnation, &why_not)) {
      *error = why_not;
      return nullptr;
    }
  }

  storage::OpenOptions open;
  open.data_dir = options.data_dir;
  open.cluster_id = options.cluster_id;
  open.member_id = options.id;
  open.create_if_missing = !has_data;
  open.keep_tail_entries = options.compaction_margin;
  open.progress = health.progress;
  if (health.failpoints != nullptr) {
    health::FailpointRegistry* failpoints = health.failpoints;
    open.before_write = [failpoints] { failpoints->eval(health::kFailpointPersist); };
  }
  storage::Status status;
  std::unique_ptr<storage::LogStore> store = storage::LogStore::open(open, &status);
  if (!store) {
    *error = status.to_string();
    return nullptr;
  }
  // An existing directory: its incarnation is read once the store's own
  // identity checks (cluster id, member id) have passed, so a foreign
  // directory is refused with their message and left unchanged.
  if (has_data) {
    switch (read_incarnation(options.data_dir, options.id, &incarnation, &why_not)) {
      case DurableReadResult::kOk:
        break;
      case DurableReadResult::kMissing:
        // A data directory from before incarnations: stamp one now (its
        // peers have none on record for it either).
        incarnation = new_incarnation();
        if (!stamp_incarnation(options.data_dir, options.id, incarnation, &why_not)) {
          *error = why_not;
          return nullptr;
        }
        spdlog::info("member {} had no incarnation; stamped {}", options.id,
                     incarnation_text(incarnation));
        break;
      case DurableReadResult::kError:
        *error = why_not;
        return nullptr;
    }
  }
  if (bootstrap) {
    raft::Snapshot snapshot;
    snapshot.meta.index = kBootstrapIndex;
    snapshot.meta.term = kBootstrapTerm;
    for (const auto& [id, address] : options.initial_members) {
      snapshot.meta.conf.voters.push_back(id);
    }
    NodeSnapshotData data;
    data.peer_addresses = options.initial_members;
    // data.state stays empty: the empty state, which a fresh Applier holds.
    snapshot.data = encode_node_snapshot(data);
    storage::WriteBatch batch;
    batch.snapshot = snapshot;
    batch.hard_state = raft::HardState{kBootstrapTerm, raft::kNoNode, kBootstrapIndex};
    if (storage::Status s = store->save(batch); !s) {
      *error = "bootstrapping the cluster failed: " + s.to_string();
      return nullptr;
    }
    spdlog::info("member {} bootstrapped cluster {} with {} voters", options.id, options.cluster_id,
                 options.initial_members.size());
  }

  // Replay: fill the core's cache and restore the state machine.
  storage::StartupState startup;
  if (storage::Status s = store->load_all(&startup); !s) {
    *error = "reading the Raft log failed: " + s.to_string();
    return nullptr;
  }
  auto cache = std::make_unique<raft::MemoryStorage>();
  std::map<raft::NodeId, std::string> peers;
  raft::ConfState conf;
  raft::Index applied = 0;
  raft::Term applied_term = 0;
  if (startup.snapshot.index > 0) {
    raft::Snapshot snapshot;
    if (storage::Status s = store->read_snapshot(&snapshot); !s) {
      *error = "reading the stored snapshot failed: " + s.to_string();
      return nullptr;
    }
    NodeSnapshotData data;
    std::string why;
    if (!decode_node_snapshot(snapshot.data, &data, &why) ||
        (!data.state.empty() && !applier->restore(snapshot.meta.index, data.state, &why))) {
      *error = "restoring the stored snapshot at index " + std::to_string(snapshot.meta.index) +
               " failed: " + why;
      return nullptr;
    }
    peers = data.peer_addresses;
    conf = snapshot.meta.conf;
    applied = snapshot.meta.index;
    applied_term = snapshot.meta.term;
    cache->apply_snapshot(snapshot);
  }
  cache->append(startup.entries);
  cache->set_hard_state(startup.hard_state);
  for (const raft::Entry& entry : startup.entries) {
    if (entry.type != raft::EntryType::kConfChange) continue;
    auto change = raft::decode_conf_change(entry.data);
    if (change && change->type == raft::ConfChangeType::kAddLearner) {
      peers[change->node_id] = change->context;
    }
  }

  raft::Config config;
  config.id = options.id;
  config.heartbeat_tick = 1;
  config.election_tick = std::max(2, options.election_ms / options.heartbeat_ms);
  // A fresh random seed on every start (tests inject one): a seed derived
  // from the member id made members draw the same election timeouts after
  // every restart, so a split vote could repeat.
  config.seed = options.seed != 0 ? options.seed : random_seed();
  config.applied = applied;
  std::string why;
  std::unique_ptr<raft::RawNode> raw = raft::RawNode::create(config, cache.get(), &why);
  if (!raw) {
    *error = "the stored Raft state is inconsistent: " + why;
    return nullptr;
  }

  std::unique_ptr<Node> node(new Node());
  node->shared_ = std::make_shared<NodeShared>(options, transport, health);
  NodeShared& shared = *node->shared_;
  shared.applied.store(applied, std::memory_order_release);
  shared.health.progress->applied_index.store(applied, std::memory_order_relaxed);
  shared.health.progress->apply_queued_index.store(applied, std::memory_order_relaxed);
  shared.health.progress->apply_progress_ns.store(health::monotonic_ns(),
                                                  std::memory_order_relaxed);
  node->handler_ = std::make_unique<Handler>(node->shared_);
  transport->set_incarnation(incarnation, std::move(book));
  transport->start(options.id, options.cluster_id, node->handler_.get());
  node->apply_loop_ = std::make_shared<ApplyLoop>(node->shared_, std::move(applier), applied,
                                                  applied_term, conf, peers);
  node->raft_loop_ = std::make_shared<RaftLoop>(node->shared_, std::move(store), std::move(cache),
                                                std::move(raw), peers, applied);
  node->apply_loop_->start();
  node->raft_loop_->start();
  if (options.fence_interval_ms > 0 && options.leader_command) {
    Node* self = node.get();
    node->leader_duties_ = std::thread([self] {
      pthread_setname_np(pthread_self(), "leader-duty");
      self->run_leader_duties();
    });
  }
  shared.health.progress->startup_done.store(true, std::memory_order_release);
  return node;
}

std::vector<SnapshotTransfer> Node::snapshot_transfers() const {
  return shared_->transport->snapshot_transfers();
}

std::shared_ptr<const NodeStatus> Node::status() const {
#ifdef RAFTMETA_PLANT_INCIDENT_LOCK
  // THE PLANTED INCIDENT: status guarded by the lock the apply thread holds
  // while it applies (the old Raft lock).
  std::lock_guard<std::mutex> lock(shared_->incident_status_lock);
#endif
  return std::atomic_load(&shared_->status);
}

namespace {

RequestStatus with_leader_hint(RequestStatus status, const NodeStatus& s) {
  if (status.leader_id == raft::kNoNode) status.leader_id = s.leader_id;
  if (status.leader_client_address.empty() && status.leader_id == s.leader_id) {
    status.leader_client_address = s.leader_client_address;
  }
  return status;
}

// The answer to a request the node gives up on: UNAVAILABLE while it shuts
// down, else DEADLINE_EXCEEDED with `deadline_message`.
RequestStatus gave_up(const NodeShared& shared, std::string deadline_message) {
  RequestStatus status;
  if (shared.stopping.load(std::memory_order_acquire)) {
    status.code = kUnavailable;
    status.message = "the node is shutting down";
  } else {
    status.code = kDeadlineExceeded;
    status.message = std::move(deadline_message);
  }
  return status;
}

ProposeReply propose_deadline_reply(const NodeShared& shared) {
  ProposeReply reply;
  reply.status = with_leader_hint(
      gave_up(shared, "the write was not applied before the deadline (it may still be)"),
      *std::atomic_load(&shared.status));
  return reply;
}

ReadBarrierReply read_deadline_reply(const NodeShared& shared, Consistency level) {
  ReadBarrierReply reply;
  reply.status = gave_up(shared, level == Consistency::kLease
                                     ? "the leader did not apply up to its commit index in time"
                                     : "the read index was not confirmed before the deadline");
  return reply;
}

// The propose path shared by propose() and propose_async(): `done` is called
// exactly once unless the deadline passes with the request still in a loop
// (the caller covers that: a wait, or a DeadlineTimer entry). `done` is
// cheap to copy (it holds one shared pointer): the inbox item gets a copy.
template <typename Done>
void submit_propose(NodeShared& shared, std::string command, Deadline deadline, Done done) {
  if (command.size() > shared.options.max_request_bytes) {
    ProposeReply reply;
    reply.status.code = kInvalidArgument;
    reply.status.message = "the command is " + std::to_string(command.size()) +
                           " bytes; the limit is " +
                           std::to_string(shared.options.max_request_bytes);
    done(std::move(reply));
    return;
  }
  if (!shared.inbox.try_push(ProposeItem{std::move(command), deadline, false, done})) {
    ProposeReply reply;
    reply.status.code = kUnavailable;
    reply.status.message =
        shared.stopping.load() ? "the node is stopping" : "the node is overloaded; retry";
    reply.status = with_leader_hint(reply.status, *std::atomic_load(&shared.status));
    done(std::move(reply));
  }
}

// The read-barrier path shared by read_barrier() and read_barrier_async(),
// with the same "exactly once unless still in a loop" contract and the same
// cheap-to-copy `done`. Failures carry no leader hint yet (callers add it).
// A lease read may not be served: the lease ended on the monotonic clock (0:
// no lease). PLANTED BUG lease-without-clock (raftmeta-node-planted only; a
// constant false elsewhere, see e2e/cluster/chaos/planted_bugs.h): any lease
// once granted is trusted without the clock, so a leader whose Raft loop
// stopped turning keeps serving lease reads from its old state.
bool lease_ended(const NodeShared& shared) {
  const std::int64_t until = shared.lease_until_ns.load(std::memory_order_acquire);
  if (chaos::planted::enabled(chaos::planted::Bug::kLeaseWithoutClock)) return until == 0;
  return health::monotonic_ns() >= until;
}

template <typename Done>
void submit_read_barrier(NodeShared& shared, Consistency level, Deadline deadline, Done done) {
  if (shared.health.failpoints != nullptr) {
    shared.health.failpoints->eval(health::kFailpointReadPath);
  }
  switch (level) {
    case Consistency::kStale: {
      ReadBarrierReply reply;
      reply.revision = shared.applied.load(std::memory_order_acquire);
      done(std::move(reply));
      return;
    }
    case Consistency::kLease: {
      if (lease_ended(shared)) {
        ReadBarrierReply reply;
        reply.status.code = kUnavailable;
        reply.status.message = "this member holds no leader lease; read from the leader";
        done(std::move(reply));
        return;
      }
      const raft::Index commit = shared.commit.load(std::memory_order_acquire);
      NodeShared* s = &shared;  // the registry is part of it and answers first
      shared.registry.register_read(
          commit, [s, done = std::move(done)](bool served, raft::Index applied) {
            ReadBarrierReply reply;
            if (!served) {
              reply.status.code = kUnavailable;
              reply.status.message = "the node is stopping";
            } else if (lease_ended(*s)) {
              // Checked again when served: the lease may have ended, or a
              // transfer begun, while the read waited for the apply loop.
              reply.status.code = kUnavailable;
              reply.status.message = "the leader lease ended while the read waited; retry";
            } else {
              reply.revision = applied;
            }
            done(std::move(reply));
          });
      return;
    }
    case Consistency::kLinearizable: {
      if (!shared.inbox.try_push(ReadIndexItem{deadline, done})) {
        ReadBarrierReply reply;
        reply.status.code = kUnavailable;
        reply.status.message = "the node is overloaded or stopping; retry";
        done(std::move(reply));
      }
      return;
    }
  }
}

}  // namespace

ProposeReply Node::propose(std::string command, Deadline deadline) {
  auto completion = std::make_shared<Completion<ProposeReply>>();
  submit_propose(*shared_, std::move(command), deadline, completer(completion));
  if (auto answer = completion->wait_until(deadline)) return *answer;
  ProposeReply reply;
  reply.status.code = kDeadlineExceeded;
  reply.status.message = "the write was not applied before the deadline (it may still be)";
  reply.status = with_leader_hint(reply.status, *status());
  return reply;
}

void Node::propose_async(std::string command, Deadline deadline, ProposeDone done) {
  NodeShared* shared = shared_.get();
  auto pending = std::make_shared<PendingAnswer<ProposeReply>>(
      std::move(done), [shared] { return propose_deadline_reply(*shared); }, deadlines_.get());
  if (!deadlines_->schedule(pending, deadline)) {
    pending->deliver(propose_deadline_reply(*shared));  // shut down
    return;
  }
  submit_propose(*shared, std::move(command), deadline,
                 [pending](ProposeReply reply) { pending->deliver(std::move(reply)); });
}

ReadBarrierReply Node::read_barrier(Consistency level, Deadline deadline) {
  const auto started = Clock::now();
  auto completion = std::make_shared<Completion<ReadBarrierReply>>();
  submit_read_barrier(*shared_, level, deadline, completer(completion));
  ReadBarrierReply reply;
  if (auto answer = completion->wait_until(deadline)) {
    reply = std::move(*answer);
  } else {
    reply = read_deadline_reply(*shared_, level);
  }
  {
#ifdef RAFTMETA_PLANT_INCIDENT_LOCK
    // THE PLANTED INCIDENT: the handler holds the state machine's lock while
    // it asks for leader status, as the original read handler did.
    std::lock_guard<std::mutex> state_lock(shared_->incident_state_lock);
#endif
    std::shared_ptr<const NodeStatus> current = status();
    if (!reply.status.ok()) reply.status = with_leader_hint(reply.status, *current);
  }
  if (shared_->health.metrics != nullptr) {
    shared_->health.metrics->observe_read(
        metric_level(level), std::chrono::duration<double>(Clock::now() - started).count());
  }
  return reply;
}

void Node::read_barrier_async(Consistency level, Deadline deadline, ReadBarrierDone done) {
  NodeShared* shared = shared_.get();
  const auto started = Clock::now();
  // Runs on whichever thread answers (see node.h): adds the leader hint and
  // records the metric, both lock-free.
  auto finish = [shared, level, started, done = std::move(done)](ReadBarrierReply reply) {
    if (!reply.status.ok()) {
      reply.status = with_leader_hint(reply.status, *std::atomic_load(&shared->status));
    }
    if (shared->health.metrics != nullptr) {
      shared->health.metrics->observe_read(
          metric_level(level), std::chrono::duration<double>(Clock::now() - started).count());
    }
    done(std::move(reply));
  };
  if (level == Consistency::kStale) {
    // Answered at once on this thread: no deadline entry needed.
    submit_read_barrier(*shared, level, deadline, std::move(finish));
    return;
  }
  auto pending = std::make_shared<PendingAnswer<ReadBarrierReply>>(
      std::move(finish), [shared, level] { return read_deadline_reply(*shared, level); },
      deadlines_.get());
  if (!deadlines_->schedule(pending, deadline)) {
    pending->deliver(read_deadline_reply(*shared, level));  // shut down
    return;
  }
  submit_read_barrier(*shared, level, deadline,
                      [pending](ReadBarrierReply reply) { pending->deliver(std::move(reply)); });
}

namespace {

AdminReply run_admin(NodeShared& shared, AdminItem item) {
  const Deadline deadline = item.deadline;
  auto completion = std::make_shared<Completion<AdminReply>>();
  item.done = completer(completion);
  AdminReply reply;
  if (!shared.inbox.try_push(std::move(item))) {
    reply.status.code = kUnavailable;
    reply.status.message = "the node is overloaded or stopping; retry";
    return reply;
  }
  if (auto answer = completion->wait_until(deadline)) return *answer;
  reply.status.code = kDeadlineExceeded;
  reply.status.message = "the operation did not complete before the deadline (it may still)";
  return reply;
}

}  // namespace

AdminReply Node::add_learner(raft::NodeId id, std::string peer_address, Deadline deadline) {
  return run_admin(*shared_, AdminItem{ForwardRequest::Kind::kAddLearner, id,
                                       std::move(peer_address), deadline, false, nullptr});
}

AdminReply Node::promote(raft::NodeId id, Deadline deadline) {
  return run_admin(*shared_,
                   AdminItem{ForwardRequest::Kind::kPromote, id, {}, deadline, false, nullptr});
}

AdminReply Node::remove(raft::NodeId id, Deadline deadline) {
  return run_admin(*shared_,
                   AdminItem{ForwardRequest::Kind::kRemove, id, {}, deadline, false, nullptr});
}

AdminReply Node::transfer_leader(raft::NodeId to, Deadline deadline) {
  return run_admin(
      *shared_, AdminItem{ForwardRequest::Kind::kTransferLeader, to, {}, deadline, false, nullptr});
}

AdminReply Node::take_snapshot(Deadline deadline) {
  auto completion = std::make_shared<Completion<AdminReply>>();
  AdminReply reply;
  if (!shared_->inbox.try_push(TakeSnapshotItem{completer(completion)})) {
    reply.status.code = kUnavailable;
    reply.status.message = "the node is overloaded or stopping; retry";
    return reply;
  }
  if (auto answer = completion->wait_until(deadline)) return *answer;
  reply.status.code = kDeadlineExceeded;
  reply.status.message = "the snapshot was not stored before the deadline";
  return reply;
}

void Node::run_leader_duties() {
  const NodeOptions& o = shared_->options;
  const auto interval = std::chrono::milliseconds(o.fence_interval_ms);
  std::unique_lock<std::mutex> lock(duties_mu_);
  while (!duties_cv_.wait_for(lock, interval, [&] { return duties_stop_; })) {
    lock.unlock();
    if (status()->role == raft::Role::kLeader) {
      std::string command = o.leader_command(wall_clock_ms());
      if (!command.empty()) {
        ProposeReply r = propose(std::move(command), Clock::now() + interval);
        if (!r.status.ok()) {
          spdlog::debug("leader duty proposal not applied: {}", r.status.message);
        }
      }
    }
    lock.lock();
  }
}

bool Node::shutdown(Deadline deadline) {
  if (stopped_) return true;
  stopped_ = true;
  if (leader_duties_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(duties_mu_);
      duties_stop_ = true;
    }
    duties_cv_.notify_all();
    leader_duties_.join();  // bounded: its only wait is a propose with a deadline
  }
  bool clean = true;
  const NodeOptions& o = shared_->options;
  // 1. A leader hands over first, bounded by two election timeouts.
  auto s = status();
  if (s->role == raft::Role::kLeader && s->members.size() > 1) {
    const Deadline transfer_deadline =
        std::min(deadline, Clock::now() + std::chrono::milliseconds(2 * o.election_ms));
    AdminReply r = transfer_leader(raft::kNoNode, transfer_deadline);
    if (r.status.ok()) {
      while (Clock::now() < transfer_deadline && status()->leader_id == o.id) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
    if (status()->leader_id == o.id) {
      spdlog::warn("member {} is still the leader at shutdown: {}", o.id,
                   r.status.ok() ? "the transfer did not finish in time" : r.status.message);
    }
  }
  shared_->stopping.store(true);
  // 2. Stop the Raft loop (it stops writing storage), then peer traffic.
  clean &= raft_loop_->stop(deadline);
  shared_->transport->stop();
  // 3. In-flight applies finish.
  clean &= apply_loop_->stop(deadline);
  // 4. Everyone still waiting gets an answer.
  RequestStatus stopping;
  stopping.code = kUnavailable;
  stopping.message = "the node is shutting down";
  for (LoopItem& item : shared_->inbox.close()) {
    if (auto* p = std::get_if<ProposeItem>(&item)) {
      p->done(ProposeReply{stopping, {}, 0});
    } else if (auto* r = std::get_if<ReadIndexItem>(&item)) {
      r->done(ReadBarrierReply{stopping, 0});
    } else if (auto* a = std::get_if<AdminItem>(&item)) {
      a->done(AdminReply{stopping, {}});
    } else if (auto* t = std::get_if<TakeSnapshotItem>(&item)) {
      t->done(AdminReply{stopping, {}});
    }
  }
  shared_->registry.fail_all(stopping);
  // Asynchronous requests still inside a loop (pending read indexes,
  // forwarded writes) are answered now rather than at their deadline.
  deadlines_->expire_all();
  // 5. Storage closes when the Raft loop object goes (if its thread stopped).
  raft_loop_.reset();
  apply_loop_.reset();
  if (!clean) spdlog::error("member {} shut down uncleanly: a loop did not stop in time", o.id);
  return clean;
}

}  // namespace raftmeta::node
