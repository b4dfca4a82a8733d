// Simulation (see simulation.h).
#include "sidecar/raft/sim/simulation.h"

#include <algorithm>
#include <optional>
#include <utility>

namespace raftmeta::raft::sim {

namespace {

std::string entries_range(const std::vector<Entry>& es) {
  if (es.empty()) return "";
  return "[" + std::to_string(es.front().index) + ".." + std::to_string(es.back().index) + "]";
}

bool is_member(const ConfState& c, NodeId id) {
  return std::binary_search(c.voters.begin(), c.voters.end(), id) ||
         std::binary_search(c.learners.begin(), c.learners.end(), id);
}

// A read request's context is "r<id>"; anything else is not ours.
std::optional<std::uint64_t> read_id(const std::string& context) {
  if (context.size() < 2 || context[0] != 'r') return std::nullopt;
  std::uint64_t id = 0;
  for (std::size_t i = 1; i < context.size(); ++i) {
    if (context[i] < '0' || context[i] > '9') return std::nullopt;
    id = id * 10 + static_cast<std::uint64_t>(context[i] - '0');
  }
  return id;
}

std::string describe(const Message& m) {
  std::string out = std::string(to_string(m.type)) + " from n" + std::to_string(m.from) + " term " +
                    std::to_string(m.term) + " log_term " + std::to_string(m.log_term) + " index " +
                    std::to_string(m.index) + " commit " + std::to_string(m.commit);
  if (!m.entries.empty()) {
    out += " entries [" + std::to_string(m.entries.front().index) + "/t" +
           std::to_string(m.entries.front().term) + ".." + std::to_string(m.entries.back().index) +
           "/t" + std::to_string(m.entries.back().term) + "]";
  }
  if (m.reject)
    out +=
        " REJECT hint " + std::to_string(m.reject_hint) + "/t" + std::to_string(m.reject_hint_term);
  if (m.snapshot) out += " snapshot " + std::to_string(m.snapshot->meta.index);
  return out;
}

// A core with no new input settles after a few Readies; more means a loop.
constexpr int kMaxReadiesPerTurn = 64;

}  // namespace

std::string replay_command(const SimOptions& o) {
  return "raft_sim_runner --seed " + std::to_string(o.seed) + " --steps " +
         std::to_string(o.steps) + " --nodes " + std::to_string(o.nodes) + " --profile " +
         o.profile.name + " --bootstrap " + std::string(to_string(o.bootstrap));
}

Simulation::Simulation(SimOptions options)
    : options_(std::move(options)), profile_(options_.profile), rng_(options_.seed) {
  // Appends of one entry each (1 byte: at least one entry per message) let a
  // leader's older-term entries reach a majority before its own no-op does.
  static const std::uint64_t kAppendBytes[] = {1, 64, 512};
  max_append_bytes_ = kAppendBytes[rng_.uniform(0, 2)];
}

Simulation::~Simulation() = default;

std::string Simulation::prefix(NodeId id) const {
  return "step " + std::to_string(step_) + " n" + std::to_string(id) + ": ";
}

void Simulation::trace(std::string line) {
  if (options_.trace_tail == 0) return;
  trace_.push_back(std::move(line));
  while (trace_.size() > options_.trace_tail) trace_.pop_front();
}

SimNode* Simulation::find(NodeId id) {
  const auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : it->second.get();
}

std::vector<SimNode*> Simulation::up_nodes() {
  std::vector<SimNode*> out;
  for (auto& [id, n] : nodes_) {
    if (n->up) out.push_back(n.get());
  }
  return out;
}

SimNode* Simulation::pick_leader() {
  std::vector<SimNode*> leaders;
  for (auto& [id, n] : nodes_) {
    if (n->up && !n->paused && n->status.role == Role::kLeader) leaders.push_back(n.get());
  }
  return leaders.empty() ? nullptr : rng_.pick(leaders);
}

SimNode& Simulation::add_node(NodeId id, bool bootstrap) {
  auto node = std::make_unique<SimNode>();
  SimNode& n = *node;
  n.id = id;
  n.async = rng_.chance(500'000);
  n.clock_ppm = 1'000'000 - kClockDriftPpm + rng_.uniform(0, 2 * kClockDriftPpm);
  if (bootstrap && options_.bootstrap == Bootstrap::kSnapshot) {
    Snapshot initial;
    for (NodeId v = 1; v <= options_.nodes; ++v) initial.meta.conf.voters.push_back(v);
    n.disk.apply_snapshot(initial);
  } else if (bootstrap) {
    std::vector<Entry> entries;
    for (NodeId v = 1; v <= options_.nodes; ++v) {
      for (const auto type : {ConfChangeType::kAddLearner, ConfChangeType::kPromote}) {
        entries.push_back(Entry{1, entries.size() + 1, EntryType::kConfChange,
                                encode_conf_change(ConfChange{type, v, ""})});
      }
    }
    n.disk.append(entries);
    n.disk.set_hard_state(HardState{1, kNoNode, entries.size()});
  }
  nodes_.emplace(id, std::move(node));
  trace(prefix(id) + (bootstrap ? "bootstraps" : "joins empty") +
        (n.async ? " (async)" : " (sync)") + " clock " + std::to_string(n.clock_ppm) + "ppm");
  start(n);
  return n;
}

void Simulation::start(SimNode& n) {
  // The application's durable state: its checkpoint, or the snapshot in the
  // log storage if that is newer.
  n.state = KvStateMachine();
  const Snapshot snap = n.disk.snapshot();
  if (n.checkpoint && n.checkpoint->applied() >= snap.meta.index) {
    n.state = *n.checkpoint;
  } else if (!snap.empty() && !n.state.restore(snap.data)) {
    checker_->fail("node " + std::to_string(n.id) + " cannot restore its own snapshot");
    return;
  }
  Config cfg;
  cfg.id = n.id;
  cfg.election_tick = kElectionTick;
  cfg.heartbeat_tick = kHeartbeatTick;
  cfg.seed = SimRandom::mix(options_.seed, n.id * 1'000'003 + n.incarnation);
  cfg.pre_vote = true;
  cfg.check_quorum = true;
  cfg.lease_reads = true;
  cfg.max_size_per_msg = max_append_bytes_;
  cfg.max_inflight_msgs = 8;
  cfg.applied = n.state.applied();
  std::string error;
  n.raw = RawNode::create(cfg, &n.disk, &error);
  if (!n.raw) {
    checker_->fail("node " + std::to_string(n.id) +
                   " cannot start from its durable state: " + error);
    return;
  }
  ++n.incarnation;
  n.up = true;
  net_.drop_all_to(n.id);  // what was sent to it while it was down is lost
  n.log.load(n.disk);
  {
    // The durable log must agree with every other member's, and what it
    // holds as committed with what was committed.
    std::vector<Entry> durable;
    if (n.disk.last_index() >= n.disk.first_index()) {
      n.disk.entries(n.disk.first_index(), n.disk.last_index() + 1, UINT64_MAX, &durable);
    }
    checker_->on_log_append(n.id, durable, n.log);
    checker_->on_commit(n.id, n.log.offset(), std::max(n.disk.hard_state().commit, n.log.offset()),
                        n.log);
  }
  n.observed_commit = std::max(n.disk.hard_state().commit, n.disk.first_index() - 1);
  n.observed_leader_term = 0;
  n.conf_continuous = false;
  n.last_tick = n.local_time(now_) / kTickUnits;
  if (n.state.applied() > 0) checker_->on_restore(n.id, n.state.applied(), n.state.digest());
  observe(n);
}

void Simulation::crash(SimNode& n) {
  trace(prefix(n.id) + "CRASH (loses " +
        std::to_string(n.persist_queue.size() + (n.paused ? 1 : 0)) + " unpersisted Readies)");
  ++stats_.crashes;
  n.up = false;
  n.down_since = now_;
  n.raw.reset();
  n.paused.reset();
  std::erase_if(pending_conf_checks_, [&](const PendingConfCheck& c) { return c.leader == n.id; });
  n.persist_queue.clear();
  n.apply_queue.clear();
  n.last_persist_due = n.last_apply_due = 0;
  n.round_local_time.clear();
  n.read_states.clear();
  n.snapshot_reports.clear();
  n.status = Status();
  n.soft.reset();
  net_.drop_all_to(n.id);
}

void Simulation::shut_down(SimNode& n) {
  trace(prefix(n.id) + "removed from the cluster: shuts down");
  crash(n);
  n.gone = true;
}

void Simulation::send(SimNode& n, const std::vector<Message>& messages) {
  const bool faults = !healed_;
  for (const Message& m : messages) {
    if (m.type == MessageType::kAppend && !m.entries.empty()) {
      checker_->on_entries_visible(n.id, m.entries, m.log_term);
    }
    const auto result = net_.send(m, now_, faults, profile_, rng_);
    if (m.type == MessageType::kSnapshot) {
      n.snapshot_reports.push_back({m.to, result == SimNetwork::SendResult::kQueued});
    }
  }
}

void Simulation::take_ready(SimNode& n) {
  Ready rd = n.raw->ready();
  if (options_.verbose) {
    trace(prefix(n.id) + "Ready: entries " + entries_range(rd.entries) + " committed " +
          entries_range(rd.committed_entries) +
          (rd.hard_state ? " hs(term " + std::to_string(rd.hard_state->term) + " vote " +
                               std::to_string(rd.hard_state->vote) + " commit " +
                               std::to_string(rd.hard_state->commit) + ")"
                         : "") +
          (rd.snapshot ? " snapshot " + std::to_string(rd.snapshot->meta.index) : "") + " msgs " +
          std::to_string(rd.messages.size()) + "+" + std::to_string(rd.persisted_messages.size()));
  }
  if (rd.heartbeat_round != 0) n.round_local_time[rd.heartbeat_round] = n.local_time(now_);
  if (rd.soft_state) n.soft = rd.soft_state;
  if (rd.snapshot) {
    n.log.reset(rd.snapshot->meta.index, rd.snapshot->meta.term);
    trace(prefix(n.id) + "receives snapshot at " + std::to_string(rd.snapshot->meta.index));
  }
  if (!n.log.append(rd.entries)) {
    checker_->fail("node " + std::to_string(n.id) + " Ready entries " + entries_range(rd.entries) +
                   " leave a gap after its log's last index " + std::to_string(n.log.last_index()));
    return;
  }
  // Log matching counts the entries once they are durable (persist()) or
  // sent (send()): entries one incarnation handed out and lost in a crash
  // were seen by no one, and a later incarnation may reuse their (index, term).
  std::optional<Term> prev_term;
  if (!rd.entries.empty()) {
    Term t = 0;
    if (n.log.term_at(rd.entries.front().index - 1, &t)) prev_term = t;
  }
  send(n, rd.messages);
  if (n.async) {
    n.raw->accept(rd);
    n.last_persist_due =
        std::max(n.last_persist_due, step_ + rng_.uniform(0, profile_.max_persist_delay_steps));
    n.persist_queue.push_back({std::move(rd), n.last_persist_due, prev_term});
    return;
  }
  const std::uint64_t stall =
      rng_.chance(profile_.sync_stall_ppm) ? rng_.uniform(1, profile_.max_sync_stall_steps) : 0;
  n.paused = SimNode::Job{std::move(rd), step_ + stall, prev_term};
  if (stall == 0) finish_sync(n);
}

void Simulation::finish_sync(SimNode& n) {
  SimNode::Job job = std::move(*n.paused);
  n.paused.reset();
  persist(n, job);
  if (checker_->failed()) return;
  const Ready& rd = job.ready;
  send(n, rd.persisted_messages);
  apply(n, rd);
  n.raw->advance(rd);
}

void Simulation::persist(SimNode& n, const SimNode::Job& job) {
  const Ready& rd = job.ready;
  if (rd.snapshot) n.disk.apply_snapshot(*rd.snapshot);
  n.disk.append(rd.entries);
  if (rd.hard_state) n.disk.set_hard_state(*rd.hard_state);
  checker_->on_entries_visible(n.id, rd.entries, job.entries_prev_term);
}

void Simulation::apply(SimNode& n, const Ready& rd) {
  if (rd.snapshot && rd.snapshot->meta.index > n.state.applied()) {
    KvStateMachine restored;
    if (!restored.restore(rd.snapshot->data) || restored.applied() != rd.snapshot->meta.index) {
      checker_->fail("node " + std::to_string(n.id) + " received a snapshot at " +
                     std::to_string(rd.snapshot->meta.index) +
                     " whose data does not hold that state");
      return;
    }
    n.state = restored;
    n.conf_continuous = false;
    checker_->on_restore(n.id, n.state.applied(), n.state.digest());
  }
  if (!rd.committed_entries.empty()) {
    // Record what this member has committed before checking what it applies.
    // (Entries the core received in this turn and has not handed out yet are
    // not in the shadow log; observe() checks commit against the whole log.)
    const Index commit = n.raw->status().commit;
    const Index known = std::min(commit, n.log.last_index());
    if (known > n.observed_commit) {
      checker_->on_commit(n.id, n.observed_commit, known, n.log);
      n.observed_commit = known;
    }
    for (const Entry& e : rd.committed_entries) {
      if (e.index != n.state.applied() + 1) {
        checker_->fail("node " + std::to_string(n.id) + " was handed committed entry " +
                       std::to_string(e.index) + " with applied index " +
                       std::to_string(n.state.applied()) + " (a gap or a repeat)");
        return;
      }
      n.state.apply(e);
      checker_->on_apply(n.id, e, commit, n.state.digest());
      if (e.type == EntryType::kConfChange) {
        if (const auto cc = decode_conf_change(e.data)) {
          trace(prefix(n.id) + "applies conf change " + std::to_string(static_cast<int>(cc->type)) +
                " of n" + std::to_string(cc->node_id) + " at " + std::to_string(e.index));
        }
      }
      const auto own = n.own_writes.find(e.index);
      if (own != n.own_writes.end()) {
        if (own->second.term == e.term) {
          checker_->on_write_acked(e.index);
          ++stats_.writes_acked;
          if (all_up_at_ != 0 && now_ >= all_up_at_) healed_write_acked_ = true;
        }
        n.own_writes.erase(own);
      }
    }
  }
  for (const ReadState& rs : rd.read_states) n.read_states.push_back(rs);
  for (const ReadFailure& f : rd.read_failures) {
    if (const auto id = read_id(f.context)) reads_.erase(*id);
  }
}

void Simulation::run_node(SimNode& n) {
  if (!n.up) return;
  if (n.paused) {
    if (step_ < n.paused->due_step) return;  // paused while persisting: no ticks, no input
    finish_sync(n);
    if (checker_->failed()) return;
  }
  // Finish the writer's and applier's work first: the core's log is then
  // exactly what it has handed out, so commit indexes can be checked against
  // the shadow log.
  if (n.async) {
    while (!n.persist_queue.empty() && n.persist_queue.front().due_step <= step_) {
      SimNode::Job job = std::move(n.persist_queue.front());
      n.persist_queue.pop_front();
      persist(n, job);
      if (checker_->failed()) return;
      if (options_.verbose) {
        trace(prefix(n.id) + "persisted Ready " + entries_range(job.ready.entries) + ", sends " +
              std::to_string(job.ready.persisted_messages.size()));
      }
      send(n, job.ready.persisted_messages);
      if (!job.ready.entries.empty()) {
        n.raw->on_persisted(job.ready.entries.back().index, job.ready.entries.back().term);
      } else if (job.ready.snapshot) {
        n.raw->on_persisted(job.ready.snapshot->meta.index, job.ready.snapshot->meta.term);
      }
      n.last_apply_due =
          std::max(n.last_apply_due, step_ + rng_.uniform(0, profile_.max_apply_delay_steps));
      job.due_step = n.last_apply_due;
      n.apply_queue.push_back(std::move(job));
    }
    while (!n.apply_queue.empty() && n.apply_queue.front().due_step <= step_) {
      SimNode::Job job = std::move(n.apply_queue.front());
      n.apply_queue.pop_front();
      apply(n, job.ready);
      if (checker_->failed()) return;
      if (!job.ready.committed_entries.empty()) {
        n.raw->on_applied(job.ready.committed_entries.back().index);
      } else if (job.ready.snapshot) {
        n.raw->on_applied(job.ready.snapshot->meta.index);
      }
    }
  }
  for (const auto& [peer, ok] : n.snapshot_reports) n.raw->report_snapshot(peer, ok);
  n.snapshot_reports.clear();
  const std::uint64_t ticks = n.local_time(now_) / kTickUnits;
  if (ticks > n.last_tick) {
    n.last_tick = ticks;  // a member that was paused does not catch up on missed ticks
    n.raw->tick();
  }
  for (const Message& m : net_.take_due(n.id, now_, rng_)) {
    if (options_.verbose) trace(prefix(n.id) + "<- " + describe(m));
    n.raw->step(m);
  }
  // Take Readies until the core is quiet (or paused persisting one).
  for (int i = 0; n.up && !n.paused && n.raw->has_ready(); ++i) {
    if (i == kMaxReadiesPerTurn) {
      checker_->fail("node " + std::to_string(n.id) + " still has a Ready after " +
                     std::to_string(kMaxReadiesPerTurn) + " in one turn without new input");
      return;
    }
    take_ready(n);
    if (checker_->failed()) return;
  }
  for (auto it = pending_conf_checks_.begin(); it != pending_conf_checks_.end();) {
    if (it->leader == n.id) {
      checker_->on_conf_proposed(n.id, it->applied, n.log, it->index);
      it = pending_conf_checks_.erase(it);
    } else {
      ++it;
    }
  }
  observe(n);
}

void Simulation::observe(SimNode& n) {
  if (!n.up || checker_->failed()) return;
  n.status = n.raw->status();
  const Status& st = n.status;
  if (st.role == Role::kLeader && st.term != n.observed_leader_term) {
    n.observed_leader_term = st.term;
    ++stats_.leaders;
    trace(prefix(n.id) + "LEADER of term " + std::to_string(st.term) + " (log " +
          std::to_string(n.log.last_index()) + ", commit " + std::to_string(st.commit) + ")");
    checker_->on_leader(n.id, st.term, n.log);
  }
  if (st.commit != n.observed_commit) {
    checker_->on_commit(n.id, n.observed_commit, st.commit, n.log);
    n.observed_commit = st.commit;
    stats_.max_commit = std::max(stats_.max_commit, st.commit);
  }
  if (st.applied < n.log.offset()) {
    // A snapshot is on its way to disk: the core already runs with its
    // configuration but reports the old applied index until it is durable.
    n.conf_continuous = false;
  } else {
    checker_->on_conf(n.id, st.applied, st.conf, n.conf_continuous);
    n.conf_continuous = true;
  }
  if (std::binary_search(st.conf.removed.begin(), st.conf.removed.end(), n.id)) shut_down(n);
}

void Simulation::start_partition() {
  net_.heal_all();
  ++stats_.partitions;
  std::vector<NodeId> ids;
  for (auto& [id, n] : nodes_) {
    if (!n->gone) ids.push_back(id);
  }
  if (ids.size() < 2) return;
  rng_.shuffle(ids);
  std::string kind;
  switch (rng_.uniform(0, 4)) {
    case 0: {  // symmetric split
      kind = "split";
      const std::size_t k = rng_.uniform(1, ids.size() - 1);
      for (std::size_t i = 0; i < k; ++i) {
        for (std::size_t j = k; j < ids.size(); ++j) {
          net_.cut(ids[i], ids[j]);
          net_.cut(ids[j], ids[i]);
        }
      }
      break;
    }
    case 1: {  // one-way links
      kind = "one-way";
      const std::size_t links = rng_.uniform(1, ids.size());
      for (std::size_t l = 0; l < links; ++l) {
        const NodeId a = rng_.pick(ids);
        const NodeId b = rng_.pick(ids);
        if (a != b) net_.cut(a, b);
      }
      break;
    }
    case 2: {  // partial: ids[0] loses some peers but keeps a bridge
      kind = "partial";
      for (std::size_t j = 1; j + 1 < ids.size(); ++j) {
        net_.cut(ids[0], ids[j]);
        net_.cut(ids[j], ids[0]);
      }
      break;
    }
    case 3: {  // the leader keeps a minority; the majority can elect a new leader
      kind = "leader-minority";
      SimNode* l = pick_leader();
      if (l != nullptr) {
        std::erase(ids, l->id);
        ids.insert(ids.begin(), l->id);
      }
      const std::size_t k = (ids.size() - 1) / 2;  // leader + k-1 others
      for (std::size_t i = 0; i < k; ++i) {
        for (std::size_t j = k; j < ids.size(); ++j) {
          net_.cut(ids[i], ids[j]);
          net_.cut(ids[j], ids[i]);
        }
      }
      break;
    }
    default: {  // isolate the leader, in one or both directions
      kind = "isolate-leader";
      SimNode* l = pick_leader();
      const NodeId x = l ? l->id : ids[0];
      const auto dir = rng_.uniform(0, 2);
      for (const NodeId other : ids) {
        if (other == x) continue;
        if (dir != 1) net_.cut(x, other);
        if (dir != 2) net_.cut(other, x);
      }
      break;
    }
  }
  trace("step " + std::to_string(step_) + ": PARTITION " + kind + " cuts " + net_.describe_cuts());
}

// Bad input that a correct core must ignore without harm: answers from an id
// that was never a member (to requests never sent), and any message from such
// an id with a term from the past, with impossible indexes and terms inside.
// (A request at a newer term from an unknown id is not junk: the core must
// hear it, since its configuration may lag behind a newly added leader.)
void Simulation::inject_junk() {
  // Only members get junk: a member waiting to join must accept its first
  // leader's messages from an id it does not know yet.
  std::vector<SimNode*> members;
  for (SimNode* n : up_nodes()) {
    if (!n->paused && is_member(n->status.conf, n->id)) members.push_back(n);
  }
  if (members.empty()) return;
  SimNode& n = *rng_.pick(members);
  static const MessageType kAnswers[] = {
      MessageType::kAppendResponse,    MessageType::kVoteResponse, MessageType::kPreVoteResponse,
      MessageType::kHeartbeatResponse, MessageType::kReadIndex,    MessageType::kTransferLeader};
  Message m;
  const bool answer = rng_.chance(500'000) || n.status.term == 0;
  m.type = answer ? kAnswers[rng_.uniform(0, 5)] : static_cast<MessageType>(rng_.uniform(0, 12));
  m.to = n.id;
  m.from = 1000 + rng_.uniform(0, 5);  // never a member
  m.term = answer ? rng_.uniform(0, n.status.term + 5) : rng_.uniform(0, n.status.term - 1);
  m.log_term = rng_.uniform(0, 1'000'000);
  m.index = rng_.uniform(0, 1'000'000);
  m.commit = rng_.uniform(0, 1'000'000);
  m.reject = rng_.chance(500'000);
  m.reject_hint = rng_.uniform(0, 1'000'000);
  m.context = "junk";
  if (rng_.chance(300'000))
    m.entries.push_back(Entry{m.term, m.index + 1, EntryType::kNormal, "junk"});
  if (options_.verbose) trace(prefix(n.id) + "<- junk " + describe(m));
  n.raw->step(m);
}

void Simulation::inject_faults() {
  if (rng_.chance(profile_.partition_ppm)) start_partition();
  if (net_.any_cut() && rng_.chance(profile_.partition_heal_ppm)) {
    net_.heal_all();
    trace("step " + std::to_string(step_) + ": partition healed");
  }
  if (rng_.chance(profile_.crash_ppm)) {
    std::size_t down = 0;
    for (auto& [id, n] : nodes_) down += (!n->up && !n->gone) ? 1 : 0;
    std::vector<SimNode*> up = up_nodes();
    if (down < profile_.max_down && !up.empty()) {
      // Leaders are crashed more often: that is where the interesting bugs are.
      SimNode* l = pick_leader();
      crash(l && rng_.chance(400'000) ? *l : *rng_.pick(up));
    }
  }
  if (rng_.chance(profile_.junk_ppm)) inject_junk();
  if (rng_.chance(profile_.transfer_ppm)) {
    if (SimNode* l = pick_leader()) {
      const auto& voters = l->status.conf.voters;
      const NodeId to = rng_.chance(300'000) || voters.empty() ? kNoNode : rng_.pick(voters);
      std::string reason;
      const bool ok = l->raw->transfer_leader(to, &reason);
      trace(prefix(l->id) + "transfer leadership to n" + std::to_string(to) +
            (ok ? "" : " refused: " + reason));
    }
  }
  if (rng_.chance(profile_.conf_change_ppm)) {
    if (SimNode* l = pick_leader()) change_membership(*l);
  }
  if (rng_.chance(profile_.snapshot_ppm)) {
    std::vector<SimNode*> up = up_nodes();
    if (!up.empty()) snapshot_and_compact(*rng_.pick(up));
  }
}

void Simulation::change_membership(SimNode& l) {
  const ConfState& conf = l.status.conf;
  ConfChange cc;
  const auto what = rng_.uniform(0, 9);
  const std::size_t members = conf.voters.size() + conf.learners.size();
  if (what < 4 && members < kMaxMembers) {
    cc.type = ConfChangeType::kAddLearner;
    cc.node_id = next_id_;
  } else if (what < 7 && !conf.learners.empty()) {
    cc.type = ConfChangeType::kPromote;
    cc.node_id = rng_.pick(conf.learners);
    // Promote only a learner that has caught up.
    for (const PeerProgress& p : l.status.progress) {
      if (p.id == cc.node_id && p.match + 5 < l.status.commit) return;
    }
  } else if (what < 9) {
    std::vector<NodeId> all = conf.voters;
    all.insert(all.end(), conf.learners.begin(), conf.learners.end());
    cc.type = ConfChangeType::kRemove;
    cc.node_id = rng_.pick(all);  // may be the leader itself
    if (conf.voters.size() <= 2 &&
        std::binary_search(conf.voters.begin(), conf.voters.end(), cc.node_id) &&
        rng_.chance(700'000)) {
      return;  // keep most runs from shrinking to a single voter
    }
  } else if (!conf.removed.empty()) {
    cc.type = ConfChangeType::kAddLearner;  // the rules must refuse a removed id forever
    cc.node_id = rng_.pick(conf.removed);
  } else {
    return;
  }
  const ProposeResult r = l.raw->propose_conf_change(cc);
  trace(prefix(l.id) + "propose conf change " + std::to_string(static_cast<int>(cc.type)) +
        " of n" + std::to_string(cc.node_id) + ": " + std::string(to_string(r.status)) +
        (r.status == ProposeStatus::kOk ? " at " + std::to_string(r.index) : ""));
  if (r.status != ProposeStatus::kOk) return;
  ++stats_.conf_changes;
  pending_conf_checks_.push_back({l.id, l.raw->status().applied, r.index});
  if (cc.type == ConfChangeType::kAddLearner && checker_->removed(cc.node_id)) {
    checker_->fail("removed id accepted: leader " + std::to_string(l.id) +
                   " accepted adding removed id " + std::to_string(cc.node_id));
    return;
  }
  if (cc.type == ConfChangeType::kAddLearner && cc.node_id == next_id_) {
    ++next_id_;
    add_node(cc.node_id, /*bootstrap=*/false);
  }
}

void Simulation::snapshot_and_compact(SimNode& n) {
  if (n.paused || n.state.applied() < n.disk.first_index()) return;
  const Status st = n.raw->status();
  if (st.applied != n.state.applied() || st.applied > n.disk.last_index()) return;
  if (!n.disk.create_snapshot(st.applied, st.conf, n.state.serialize())) return;
  const Index upto = rng_.uniform(n.disk.first_index(), st.applied);
  n.disk.compact(upto);
  ++stats_.snapshots;
  trace(prefix(n.id) + "snapshot at " + std::to_string(st.applied) + ", compacted to " +
        std::to_string(upto));
}

void Simulation::client_requests() {
  std::vector<SimNode*> up = up_nodes();
  if (up.empty()) return;
  if (rng_.chance(profile_.write_ppm)) {
    SimNode* target = pick_leader();
    if (target == nullptr || rng_.chance(100'000)) target = rng_.pick(up);
    if (!target->paused) {
      const std::uint64_t id = next_write_++;
      checker_->on_write_proposed(id);
      const ProposeResult r =
          target->raw->propose(encode_write({id, static_cast<std::uint32_t>(id % 8)}));
      if (r.status == ProposeStatus::kOk) target->own_writes[r.index] = {r.term, id};
      if (options_.verbose) {
        trace(prefix(target->id) + "propose write " + std::to_string(id) + ": " +
              std::string(to_string(r.status)) + " " + r.reason);
      }
    }
  }
  if (rng_.chance(profile_.read_index_ppm)) {
    SimNode* target = rng_.pick(up);
    if (!target->paused) {
      const std::uint64_t id = next_read_++;
      reads_[id] =
          PendingRead{false, target->id, checker_->acked_watermark(), step_ + 200, false, 0};
      target->raw->read_index("r" + std::to_string(id));
    }
  }
  if (rng_.chance(profile_.lease_read_ppm)) {
    SimNode* target = pick_leader();
    if (target == nullptr || rng_.chance(200'000)) target = rng_.pick(up);
    const std::uint64_t id = next_read_++;
    reads_[id] = PendingRead{true, target->id, checker_->acked_watermark(), step_ + 20, false, 0};
  }
}

// The node-side lease rule of raw_node.h. Returns true when the read is done
// (served or refused), false to retry in a later step.
bool Simulation::try_serve_lease(PendingRead& r) {
  SimNode* n = find(r.node);
  if (n == nullptr || !n->up) return true;
  if (n->paused) return false;
  const Status st = n->raw->status();
  if (st.role != Role::kLeader || !st.committed_in_term || st.lead_transferee != kNoNode)
    return true;
  auto it = n->round_local_time.upper_bound(st.lease_round);
  if (it == n->round_local_time.begin()) return true;
  --it;
  const std::uint64_t local_now = n->local_time(now_);
  if (local_now >= it->second + kElectionTimeoutUnits - kLeaseDriftBoundUnits) return true;
  if (n->state.applied() < st.commit) return false;  // wait until applied >= commit
  checker_->on_read_served("lease", n->id, r.begin_watermark, n->state.applied());
  ++stats_.reads_lease;
  trace(prefix(n->id) + "serves lease read at " + std::to_string(n->state.applied()) + " (round " +
        std::to_string(it->first) + ", lease_round " + std::to_string(st.lease_round) + ")");
  return true;
}

void Simulation::serve_reads() {
  // Match ReadIndex answers to their requests.
  for (auto& [id, n] : nodes_) {
    if (!n->up) continue;
    for (const ReadState& rs : n->read_states) {
      const auto rid = read_id(rs.context);
      if (!rid) continue;
      const auto it = reads_.find(*rid);
      if (it == reads_.end() || it->second.lease || it->second.node != id || it->second.has_index)
        continue;
      it->second.has_index = true;
      it->second.index = rs.index;
    }
    n->read_states.clear();
  }
  for (auto it = reads_.begin(); it != reads_.end();) {
    PendingRead& r = it->second;
    bool done = step_ > r.deadline_step;
    if (!done && r.lease) {
      done = try_serve_lease(r);
    } else if (!done && r.has_index) {
      SimNode* n = find(r.node);
      if (n == nullptr || !n->up) {
        done = true;
      } else if (n->state.applied() >= r.index) {
        // The protocol promises index >= every commit before the request.
        checker_->on_read_served("ReadIndex", n->id, r.begin_watermark, r.index);
        ++stats_.reads_read_index;
        done = true;
      }
    }
    it = done ? reads_.erase(it) : std::next(it);
  }
}

std::string Simulation::describe_members() {
  std::string out;
  for (auto& [id, n] : nodes_) {
    if (n->gone) continue;
    out += "n" + std::to_string(id) + "[";
    if (!n->up) {
      out += "down";
    } else {
      const Status st = n->raw->status();
      out += std::string(to_string(st.role)) + " term " + std::to_string(st.term) + " vote " +
             std::to_string(st.vote) + " lead " + std::to_string(st.leader) + " last " +
             std::to_string(st.last_index) + " commit " + std::to_string(st.commit) + " applied " +
             std::to_string(st.applied) + " voters";
      for (const NodeId v : st.conf.voters) out += " " + std::to_string(v);
      if (n->paused) out += " paused";
    }
    out += "] ";
  }
  return out;
}

void Simulation::heal() {
  healed_ = true;
  heal_at_ = now_;
  net_.heal_all();
  trace("step " + std::to_string(step_) + ": HEAL all faults");
}

void Simulation::check_liveness() {
  if (!healed_ || liveness_checked_) return;
  if (all_up_at_ == 0) {
    bool all_up = true;
    for (auto& [id, n] : nodes_) {
      if (n->gone || n->up) continue;
      if (now_ - n->down_since >= kMinDowntimeUnits) {
        start(*n);
        trace(prefix(id) + "restarts (heal)");
      }
      all_up = all_up && n->up;
    }
    if (all_up) all_up_at_ = now_ + 1;
    return;
  }
  if (leader_seen_at_ == 0) {
    if (pick_leader() != nullptr) {
      leader_seen_at_ = now_;
    } else if (now_ > all_up_at_ + kHealedLeaderBoundTicks * kTickUnits) {
      checker_->fail("liveness: no leader within " + std::to_string(kHealedLeaderBoundTicks) +
                     " ticks after every fault healed; members: " + describe_members());
    }
    return;
  }
  if (healed_write_acked_) {
    liveness_checked_ = true;
  } else if (now_ > leader_seen_at_ + kHealedCommitBoundTicks * kTickUnits) {
    checker_->fail("liveness: no proposal committed within " +
                   std::to_string(kHealedCommitBoundTicks) +
                   " ticks after a leader was elected in the healed cluster" +
                   "; members: " + describe_members());
  }
}

SimResult Simulation::run() {
  ConfState initial;  // with a log bootstrap, the configuration comes from entries 1..2n
  if (options_.bootstrap == Bootstrap::kSnapshot) {
    for (NodeId v = 1; v <= options_.nodes; ++v) initial.voters.push_back(v);
  }
  checker_ = std::make_unique<SafetyChecker>(initial);
  for (NodeId v = 1; v <= options_.nodes; ++v) add_node(v, /*bootstrap=*/true);
  next_id_ = options_.nodes + 1;
  const std::uint64_t total = options_.steps * kStepUnits;
  const std::uint64_t heal_time = total > 2 * kHealPhaseUnits ? total - kHealPhaseUnits : total / 2;

  for (step_ = 1; step_ <= options_.steps && !checker_->failed(); ++step_) {
    now_ = step_ * kStepUnits;
    if (!healed_ && now_ >= heal_time) heal();
    if (!healed_) {
      inject_faults();
      for (auto& [id, n] : nodes_) {
        if (!n->up && !n->gone && now_ - n->down_since >= kMinDowntimeUnits &&
            rng_.chance(profile_.restart_ppm)) {
          start(*n);
          trace(prefix(id) + "restarts");
        }
      }
    }
    if (checker_->failed()) break;
    client_requests();
    for (auto& [id, n] : nodes_) {
      run_node(*n);
      if (checker_->failed()) break;
    }
    if (checker_->failed()) break;
    serve_reads();
    check_liveness();
    if (rng_.chance(profile_.checkpoint_ppm)) {
      std::vector<SimNode*> up = up_nodes();
      if (!up.empty()) {
        SimNode& n = *rng_.pick(up);
        n.checkpoint = n.state;
      }
    }
  }
  if (!checker_->failed() && healed_ && !liveness_checked_ &&
      options_.steps * kStepUnits >= heal_at_ + kHealPhaseUnits) {
    checker_->fail("liveness: the healed phase ended without a leader and a committed proposal");
  }
  SimResult result;
  result.stats = stats_;
  result.stats.steps = std::min(step_, options_.steps);
  if (checker_->failed()) {
    result.ok = false;
    result.violation = checker_->violation();
    result.failed_step = step_;
    result.trace_tail.assign(trace_.begin(), trace_.end());
  }
  return result;
}

}  // namespace raftmeta::raft::sim
