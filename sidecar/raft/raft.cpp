// The Raft protocol state machine (see raft.h and raw_node.h).
#include "sidecar/raft/raft.h"

#include <algorithm>
#include <limits>

#include "sidecar/raft/conf_change.h"
#include "sidecar/raft/quorum.h"

namespace raftmeta::raft {
namespace {

// Marks the (pre-)vote requests of a campaign started by kTimeoutNow: voters
// grant them even while they still hear from the old leader.
constexpr std::string_view kTransferContext = "transfer";
constexpr std::uint64_t kNoLimit = std::numeric_limits<std::uint64_t>::max();

bool is_vote_request(MessageType t) {
  return t == MessageType::kVote || t == MessageType::kPreVote;
}

std::uint64_t data_bytes(const std::vector<Entry>& ents) {
  std::uint64_t n = 0;
  for (const Entry& e : ents) n += e.data.size();
  return n;
}

}  // namespace

std::uint64_t SplitMix64::next() {
  std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

Raft::Raft(const Config& config, LogStorage* storage)
    : config_(config),
      id_(config.id),
      rng_(config.seed ^ (config.id * 0xD1B54A32D192ED03ull)),
      log_(storage) {}

bool Raft::restore(std::string* error) {
  auto fail = [&](std::string why) {
    if (error) *error = std::move(why);
    return false;
  };
  if (id_ == kNoNode) return fail("config: id 0 is not a valid member id");
  if (config_.heartbeat_tick <= 0) return fail("config: heartbeat_tick must be positive");
  if (config_.election_tick <= config_.heartbeat_tick) {
    return fail("config: election_tick must be greater than heartbeat_tick");
  }
  if (config_.max_inflight_msgs == 0) return fail("config: max_inflight_msgs must be positive");
  LogStorage* storage = log_.storage();
  const HardState hs = storage->hard_state();
  const Index first = storage->first_index();
  const Index last = storage->last_index();
  if (first == 0 || last + 1 < first) return fail("storage: first index above last index + 1");
  conf_ = storage->conf_state();
  if (!is_well_formed(conf_)) return fail("storage: configuration is not well formed");
  Index commit = std::max(hs.commit, first - 1);
  if (commit > last) {
    return fail("storage: hard state commit " + std::to_string(hs.commit) +
                " is beyond the last index " + std::to_string(last));
  }
  const Index applied = std::max(config_.applied, first - 1);
  if (applied > commit) {
    return fail("config: applied " + std::to_string(config_.applied) +
                " is beyond the commit index " + std::to_string(commit));
  }
  if (hs.vote != kNoNode && hs.term == 0) return fail("storage: vote without a term");
  log_.init(commit, applied);
  conf_applied_index_ = first - 1;
  // Replay the configuration changes the application has already applied.
  if (applied >= first) {
    std::vector<Entry> ents;
    if (log_.slice(first, applied + 1, kNoLimit, &ents) != StorageError::kNone ||
        ents.size() != applied + 1 - first) {
      return fail("storage: cannot read entries up to the applied index");
    }
    for (const Entry& e : ents) {
      if (e.type != EntryType::kConfChange) continue;
      if (auto cc = decode_conf_change(e.data)) conf_ = raft::apply_conf_change(conf_, *cc);
      conf_applied_index_ = e.index;
    }
  }
  term_ = hs.term;
  vote_ = hs.vote;
  persisted_ = last;
  become_follower(term_, kNoNode);
  accepted_hard_state = hs;
  accepted_soft_state = soft_state();
  return true;
}

// ---- roles ------------------------------------------------------------------

Role Raft::follower_role() const {
  return is_learner(conf_, id_) ? Role::kLearner : Role::kFollower;
}

bool Raft::promotable() const { return is_voter(conf_, id_); }

void Raft::reset_randomized_election_timeout() {
  const auto span = static_cast<std::uint64_t>(config_.election_tick);
  randomized_election_timeout_ = config_.election_tick + static_cast<int>(rng_.next() % span);
}

void Raft::reset(Term term) {
  if (term_ != term) {
    term_ = term;
    vote_ = kNoNode;
  }
  lead_ = kNoNode;
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  reset_randomized_election_timeout();
  lead_transferee_ = kNoNode;
  votes_.clear();
  progress_.clear();
  uncommitted_.clear();
  uncommitted_bytes_ = 0;
  committed_in_term_ = false;
  lease_round_ = 0;
  round_needed_ = false;
  term_durable_ = true;
}

void Raft::become_follower(Term term, NodeId lead) {
  reset(term);
  lead_ = lead;
  role_ = follower_role();
  if (read_only_.size() > 0) fail_pending_reads();
}

void Raft::become_pre_candidate() {
  // The term does not change: a pre-candidate only asks whether it could win.
  votes_.clear();
  progress_.clear();
  lead_ = kNoNode;
  lead_transferee_ = kNoNode;
  role_ = Role::kPreCandidate;
  if (read_only_.size() > 0) fail_pending_reads();
}

void Raft::become_candidate() {
  reset(term_ + 1);
  vote_ = id_;
  role_ = Role::kCandidate;
  if (read_only_.size() > 0) fail_pending_reads();
}

void Raft::become_leader() {
  reset(term_);
  role_ = Role::kLeader;
  lead_ = id_;
  reset_progress();
  // Conservatively: no configuration change until everything before this
  // term is applied (the log may hold an unapplied one).
  pending_conf_index_ = log_.last_index();
  // With other voters, our term and vote were durable before any vote request
  // left (kVote goes out after persistence). Alone, we won without anyone's
  // answer: hold our messages until our own no-op is durable.
  term_durable_ = !(conf_.voters.size() == 1 && conf_.voters[0] == id_);
  append_entries({Entry{0, 0, EntryType::kNormal, {}}});
  term_start_index_ = log_.last_index();
}

void Raft::reset_progress() {
  progress_.clear();
  const Index next = log_.last_index() + 1;
  for (NodeId v : conf_.voters) {
    progress_.emplace(v,
                      Progress(next, config_.max_inflight_msgs, config_.max_inflight_bytes, true));
  }
  for (NodeId l : conf_.learners) {
    progress_.emplace(l,
                      Progress(next, config_.max_inflight_msgs, config_.max_inflight_bytes, false));
  }
  auto self = progress_.find(id_);
  if (self != progress_.end()) {
    self->second.match = std::min(log_.last_durable_index(), log_.last_index());
    self->second.recent_active = true;
  }
}

// ---- ticks and elections ------------------------------------------------------

void Raft::tick() {
  if (role_ != Role::kLeader) {
    ++election_elapsed_;
    if (promotable() && election_elapsed_ >= randomized_election_timeout_) {
      election_elapsed_ = 0;
      hup(false);
    }
    return;
  }
  ++heartbeat_elapsed_;
  ++election_elapsed_;
  if (election_elapsed_ >= config_.election_tick) {
    election_elapsed_ = 0;
    if (config_.check_quorum) {
      const bool active = has_quorum(conf_.voters, [&](NodeId v) {
        if (v == id_) return true;
        auto it = progress_.find(v);
        return it != progress_.end() && it->second.recent_active;
      });
      for (auto& [pid, pr] : progress_) {
        if (pid != id_) pr.recent_active = false;
      }
      if (!active) {
        become_follower(term_, kNoNode);  // CheckQuorum: no quorum heard from
        return;
      }
    }
    if (lead_transferee_ != kNoNode) abort_transfer();  // took an election timeout
  }
  if (heartbeat_elapsed_ >= config_.heartbeat_tick) {
    heartbeat_elapsed_ = 0;
    bcast_heartbeat_round();
    tick_round_ = round_;
  }
}

bool Raft::has_unapplied_committed_conf() const {
  for (const auto& [index, cc] : conf_to_apply_) {
    if (index > log_.applied()) return true;
  }
  const Index lo = std::max(log_.applied() + 1, log_.first_index());
  Index hi = log_.committed();
  // Our own held-back removal does not count: until it is applied we may
  // still lead under the configuration that includes us (one voter changes
  // at a time, so its quorums intersect the new ones), and we must, when the
  // remaining voters cannot elect a leader without us.
  if (log_.held_from() != 0) hi = std::min(hi, log_.held_from() - 1);
  if (lo > hi) return false;
  std::vector<Entry> ents;
  if (log_.slice(lo, hi + 1, kNoLimit, &ents) != StorageError::kNone) return false;
  for (const Entry& e : ents) {
    if (e.type == EntryType::kConfChange && e.index > conf_applied_index_) return true;
  }
  return false;
}

void Raft::campaign() { hup(false); }

void Raft::hup(bool transfer) {
  if (role_ == Role::kLeader) return;
  if (!promotable()) return;
  // etcd-io/raft #456: with a committed but unapplied configuration change we
  // would campaign under the wrong configuration (two leaders in one term).
  if (has_unapplied_committed_conf()) return;
  start_campaign(config_.pre_vote && !transfer, transfer);
}

void Raft::start_campaign(bool pre_vote, bool transfer) {
  Term vote_term = 0;
  if (pre_vote) {
    become_pre_candidate();
    vote_term = term_ + 1;
  } else {
    become_candidate();
    vote_term = term_;
  }
  votes_[id_] = true;
  if (conclude_election(pre_vote, transfer)) return;
  for (NodeId v : conf_.voters) {
    if (v == id_) continue;
    Message m;
    m.type = pre_vote ? MessageType::kPreVote : MessageType::kVote;
    m.to = v;
    m.term = vote_term;
    m.index = log_.last_index();
    m.log_term = log_.last_term();
    if (transfer) m.context = std::string(kTransferContext);
    send(std::move(m));
  }
}

void Raft::handle_vote_request(const Message& m) {
  const bool pre = m.type == MessageType::kPreVote;
  const bool can_vote =
      vote_ == m.from || (vote_ == kNoNode && lead_ == kNoNode) || (pre && m.term > term_);
#ifdef RAFTMETA_MUTATION_VOTE_WITHOUT_LOG_CHECK
  // RAFTMETA_MUTATION_VOTE_WITHOUT_LOG_CHECK: planted bug, no up-to-date check.
  const bool up_to_date = true;
#else
  const bool up_to_date = log_.is_up_to_date(m.index, m.log_term);
#endif
  Message r;
  r.type = pre ? MessageType::kPreVoteResponse : MessageType::kVoteResponse;
  r.to = m.from;
  if (can_vote && up_to_date) {
    r.term = m.term;
    if (!pre) {
      election_elapsed_ = 0;
      vote_ = m.from;
    }
  } else {
    r.term = term_;
    r.reject = true;
  }
  send(std::move(r));
}

void Raft::handle_vote_response(const Message& m) {
  const bool pre = role_ == Role::kPreCandidate;
  if (pre != (m.type == MessageType::kPreVoteResponse)) return;
  if (pre && !m.reject && m.term != term_ + 1) return;
  if (!pre && m.term != term_) return;
  votes_.emplace(m.from, !m.reject);  // only the first answer counts
  conclude_election(pre, false);
}

bool Raft::conclude_election(bool pre, bool transfer) {
  switch (tally_votes(conf_.voters, votes_)) {
    case VoteResult::kWon:
      if (pre) {
        start_campaign(false, transfer);
      } else {
        become_leader();
        bcast_append();
      }
      return true;
    case VoteResult::kLost:
      become_follower(term_, kNoNode);
      return true;
    case VoteResult::kPending:
      break;
  }
  return false;
}

// ---- step ----------------------------------------------------------------------

bool Raft::well_formed(const Message& m) const {
  if (static_cast<std::uint8_t>(m.type) > static_cast<std::uint8_t>(MessageType::kTransferLeader)) {
    return false;
  }
  if (m.to != id_ || m.from == kNoNode || m.from == id_ || m.term == 0) return false;
  switch (m.type) {
    case MessageType::kAppend: {
      if (m.log_term > m.term) return false;
      if (m.index > std::numeric_limits<Index>::max() - m.entries.size()) return false;
      Term prev = m.log_term;
      for (std::size_t i = 0; i < m.entries.size(); ++i) {
        const Entry& e = m.entries[i];
        if (e.index != m.index + 1 + i || e.term < prev || e.term > m.term) return false;
        prev = e.term;
      }
      return true;
    }
    case MessageType::kSnapshot: {
      if (!m.snapshot) return false;
      const SnapshotMeta& meta = m.snapshot->meta;
      // Index 0 is the bootstrap configuration a joining member is sent.
      const bool bootstrap = meta.index == 0 && meta.term == 0;
      return (bootstrap || (meta.index > 0 && meta.term > 0)) && meta.term <= m.term &&
             is_well_formed(meta.conf) && !meta.conf.voters.empty();
    }
    case MessageType::kVote:
    case MessageType::kPreVote:
      return m.log_term <= m.term;
    default:
      return true;
  }
}

bool Raft::accept_from(const Message& m) const {
  if (is_removed(conf_, m.from)) {
    // Removed ids are refused forever, except the heartbeats of the leader of
    // our current term that was just removed: it holds back its own removal
    // until a quorum of us acknowledges a heartbeat (see hold_own_removal).
    return m.type == MessageType::kHeartbeat && m.from == lead_ && m.term == term_;
  }
  if (is_member(conf_, m.from)) return true;
  // Not a member of our configuration. Our configuration may lag behind (a
  // newer member may lead or campaign), so requests are still heard; answers
  // to requests we never sent to it are not.
  switch (m.type) {
    case MessageType::kAppend:
    case MessageType::kHeartbeat:
    case MessageType::kSnapshot:
    case MessageType::kTimeoutNow:
    case MessageType::kVote:
    case MessageType::kPreVote:
    case MessageType::kReadIndexResponse:
      return true;
    default:
      return false;
  }
}

bool Raft::step(const Message& m) {
  if (!well_formed(m) || !accept_from(m)) return false;
  if (m.term > term_) {
    if (is_vote_request(m.type)) {
      const bool force = m.context == kTransferContext;
      const bool in_lease =
          config_.check_quorum && lead_ != kNoNode && election_elapsed_ < config_.election_tick;
      // CheckQuorum: a member that heard from a leader within the election
      // timeout ignores campaigns (except one the leader asked for).
      if (!force && in_lease) return false;
    }
    if (m.type == MessageType::kPreVote) {
      // Never change the term for a pre-vote.
    } else if (m.type == MessageType::kPreVoteResponse && !m.reject) {
      // A granted pre-vote carries the term we would campaign in.
    } else if (m.type == MessageType::kAppend || m.type == MessageType::kHeartbeat ||
               m.type == MessageType::kSnapshot) {
      become_follower(m.term, m.from);
    } else {
      become_follower(m.term, kNoNode);
    }
  } else if (m.term < term_) {
    if ((config_.check_quorum || config_.pre_vote) &&
        (m.type == MessageType::kAppend || m.type == MessageType::kHeartbeat)) {
      // A stale leader (or a node that rejoined with a higher term it has since
      // lost) learns our term and steps down.
      Message r;
      r.type = MessageType::kAppendResponse;
      r.to = m.from;
      send(std::move(r));
    } else if (m.type == MessageType::kPreVote) {
      Message r;
      r.type = MessageType::kPreVoteResponse;
      r.to = m.from;
      r.reject = true;
      send(std::move(r));
    }
    return false;
  }

  if (is_vote_request(m.type)) {
    handle_vote_request(m);
    return true;
  }
  switch (role_) {
    case Role::kLeader:
      step_leader(m);
      break;
    case Role::kCandidate:
    case Role::kPreCandidate:
      step_candidate(m);
      break;
    case Role::kFollower:
    case Role::kLearner:
      step_follower(m);
      break;
  }
  return true;
}

void Raft::step_follower(const Message& m) {
  switch (m.type) {
    case MessageType::kAppend:
      election_elapsed_ = 0;
      lead_ = m.from;
      handle_append(m);
      break;
    case MessageType::kHeartbeat:
      // A leader our configuration has removed is heard (so it learns that we
      // know its removal committed, see accept_from) but not followed: it can
      // no longer commit with us, so its heartbeats must not hold back our
      // election timeout (nor, through it, our refusal of campaigns).
      if (!is_removed(conf_, m.from)) election_elapsed_ = 0;
      lead_ = m.from;
      handle_heartbeat(m);
      break;
    case MessageType::kSnapshot:
      election_elapsed_ = 0;
      lead_ = m.from;
      handle_snapshot(m);
      break;
    case MessageType::kTimeoutNow:
      hup(true);
      break;
    case MessageType::kReadIndexResponse:
      if (m.reject) {
        read_failures_.push_back({m.context, lead_});
      } else {
        read_states_.push_back({m.index, m.context});
      }
      break;
    default:
      break;  // requests only a leader answers, responses to a past role
  }
}

void Raft::step_candidate(const Message& m) {
  switch (m.type) {
    case MessageType::kAppend:
      become_follower(m.term, m.from);
      handle_append(m);
      break;
    case MessageType::kHeartbeat:
      become_follower(m.term, m.from);
      handle_heartbeat(m);
      break;
    case MessageType::kSnapshot:
      become_follower(m.term, m.from);
      handle_snapshot(m);
      break;
    case MessageType::kVoteResponse:
    case MessageType::kPreVoteResponse:
      handle_vote_response(m);
      break;
    case MessageType::kReadIndexResponse:
      if (m.reject) {
        read_failures_.push_back({m.context, kNoNode});
      } else {
        read_states_.push_back({m.index, m.context});
      }
      break;
    default:
      break;
  }
}

void Raft::step_leader(const Message& m) {
  switch (m.type) {
    case MessageType::kAppendResponse:
      handle_append_response(m);
      break;
    case MessageType::kHeartbeatResponse:
      handle_heartbeat_response(m);
      break;
    case MessageType::kReadIndex:
      handle_read_request(m.context, m.from);
      break;
    case MessageType::kTransferLeader:
      if (is_voter(conf_, m.from)) {
        std::string reason;
        transfer_leader(m.from, &reason);
      }
      break;
    default:
      break;  // another leader in our term cannot exist; responses to past roles
  }
}

// ---- follower side of replication ----------------------------------------------

void Raft::handle_append(const Message& m) {
  if (log_.held_from() != 0 && m.commit >= log_.held_from()) log_.hold_from(0);
  Message r;
  r.type = MessageType::kAppendResponse;
  r.to = m.from;
  if (m.index < log_.committed()) {
    r.index = log_.committed();
    send(std::move(r));
    return;
  }
  if (auto last_new = log_.maybe_append(m.index, m.log_term, m.commit, m.entries)) {
    persisted_ = std::min(persisted_, log_.last_durable_index());
#ifdef RAFTMETA_MUTATION_CONF_ON_APPEND
    // RAFTMETA_MUTATION_CONF_ON_APPEND: planted bug, conf changes take effect
    // when appended instead of when applied.
    for (const Entry& e : m.entries) {
      if (e.type == EntryType::kConfChange && e.index > conf_applied_index_) {
        if (auto cc = decode_conf_change(e.data)) apply_conf(*cc);
        conf_applied_index_ = e.index;
      }
    }
#endif
    r.index = *last_new;
    send(std::move(r));
    return;
  }
  // Fast backtracking: tell the leader where our log may still match it.
  Index hint = std::min(m.index, log_.last_index());
  hint = log_.find_conflict_by_term(hint, m.log_term);
  r.index = m.index;
  r.reject = true;
  r.reject_hint = hint;
  r.reject_hint_term = log_.term_or_zero(hint);
  send(std::move(r));
}

void Raft::handle_heartbeat(const Message& m) {
  // Another leader knows the commit index covers our removal: let it apply.
  if (log_.held_from() != 0 && m.commit >= log_.held_from()) log_.hold_from(0);
  // The leader sends min(commit, our match): that prefix of our log is its.
  log_.commit_to(m.commit);
  Message r;
  r.type = MessageType::kHeartbeatResponse;
  r.to = m.from;
  r.context = m.context;
  send(std::move(r));
}

void Raft::handle_snapshot(const Message& m) {
  Message r;
  r.type = MessageType::kAppendResponse;
  r.to = m.from;
  if (restore_snapshot(*m.snapshot)) {
    r.index = log_.last_index();
  } else {
    r.index = log_.committed();
  }
  send(std::move(r));
}

bool Raft::restore_snapshot(const Snapshot& s) {
  if (s.meta.index == 0) {
    // The bootstrap configuration: only a member that never had one takes it
    // (it then replays the log from index 1 under the right configuration).
    if (!conf_.voters.empty() || !conf_.learners.empty() || log_.last_index() != 0) return false;
    log_.restore(s);
    conf_ = s.meta.conf;
    conf_to_apply_.clear();
    if (role_ != Role::kLeader) role_ = follower_role();
    return true;
  }
  if (s.meta.index <= log_.committed()) return false;  // stale
#ifdef RAFTMETA_MUTATION_SNAPSHOT_NO_TRUNCATE
  // RAFTMETA_MUTATION_SNAPSHOT_NO_TRUNCATE: planted bug, keeps a log that
  // conflicts with the snapshot and treats it as matching.
  if (log_.last_index() >= s.meta.index) {
    log_.commit_to(s.meta.index);
    return false;
  }
#else
  if (log_.match_term(s.meta.index, s.meta.term)) {
    // Our log already holds the snapshot's last entry: keep the log, commit.
    log_.commit_to(s.meta.index);
    return false;
  }
#endif
  log_.restore(s);
  log_.hold_from(0);
  conf_ = s.meta.conf;
  conf_applied_index_ = s.meta.index;
  conf_to_apply_.clear();
  if (role_ != Role::kLeader) role_ = follower_role();
  return true;
}

// ---- leader side of replication --------------------------------------------------

void Raft::send(Message m) {
  m.from = id_;
  if (m.term == 0) m.term = term_;
  const bool after_persist = is_response_after_persist(m.type) || m.type == MessageType::kVote ||
                             (role_ == Role::kLeader && !term_durable_);
  (after_persist ? msgs_after_persist_ : msgs_).push_back(std::move(m));
}

void Raft::append_entries(std::vector<Entry> ents) {
  Index index = log_.last_index();
  for (Entry& e : ents) {
    e.term = term_;
    e.index = ++index;
    uncommitted_.emplace_back(e.index, e.data.size());
    uncommitted_bytes_ += e.data.size();
  }
  log_.append(ents);
  auto self = progress_.find(id_);
  if (self != progress_.end()) self->second.next = log_.last_index() + 1;
#ifdef RAFTMETA_MUTATION_CONF_ON_APPEND
  // RAFTMETA_MUTATION_CONF_ON_APPEND: planted bug (see handle_append).
  for (const Entry& e : ents) {
    if (e.type == EntryType::kConfChange && e.index > conf_applied_index_) {
      conf_applied_index_ = e.index;
      if (auto cc = decode_conf_change(e.data)) apply_conf(*cc);
    }
  }
#endif
}

bool Raft::maybe_send_append(NodeId to, bool send_if_empty) {
  auto it = progress_.find(to);
  if (it == progress_.end() || to == id_) return false;
  Progress& pr = it->second;
  if (pr.is_paused()) return false;
  if (pr.next > log_.last_index() + 1) pr.next = log_.last_index() + 1;
  if (pr.next == 0) pr.next = 1;
  const Index prev = pr.next - 1;
  Term prev_term = 0;
  std::vector<Entry> ents;
  StorageError err = log_.term(prev, &prev_term);
  if (err == StorageError::kNone && pr.next <= log_.last_index()) {
    err = log_.slice(pr.next, log_.last_index() + 1, config_.max_size_per_msg, &ents);
  }
  if (err != StorageError::kNone) return send_snapshot(to, pr);
  if (prev == 0 && !pr.has_bootstrap_conf && needs_bootstrap_conf(to)) {
    return send_snapshot(to, pr);
  }
  if (ents.empty() && !send_if_empty) return false;
  const std::uint64_t bytes = data_bytes(ents);
  const Index last = ents.empty() ? prev : ents.back().index;
  const bool had_entries = !ents.empty();
  Message m;
  m.type = MessageType::kAppend;
  m.to = to;
  m.index = prev;
  m.log_term = prev_term;
  m.entries = std::move(ents);
  m.commit = log_.committed();
  send(std::move(m));
  pr.sent_entries(last, bytes, had_entries);
  return true;
}

bool Raft::needs_bootstrap_conf(NodeId to) const {
  // A member added after the cluster was bootstrapped (from a configuration
  // at index 0, not from log entries) cannot learn that configuration from
  // the log: it gets the bootstrap snapshot before entry 1.
  const Snapshot snap = log_.storage()->snapshot();
  return snap.meta.index == 0 && !snap.meta.conf.voters.empty() && !is_member(snap.meta.conf, to);
}

bool Raft::send_snapshot(NodeId to, Progress& pr) {
  Snapshot snap = log_.storage()->snapshot();
  // Not available yet (retried on the next response), unless it is the
  // bootstrap configuration for a joining member.
  if (snap.empty() && !needs_bootstrap_conf(to)) return false;
  pr.become_snapshot(snap.meta.index);
  Message m;
  m.type = MessageType::kSnapshot;
  m.to = to;
  m.snapshot = std::move(snap);
  send(std::move(m));
  return true;
}

void Raft::bcast_append() {
  for (auto& [pid, pr] : progress_) {
    if (pid != id_) maybe_send_append(pid, true);
  }
}

void Raft::send_heartbeat(NodeId to, std::uint64_t round) {
  auto it = progress_.find(to);
  if (it == progress_.end()) return;
  Message m;
  m.type = MessageType::kHeartbeat;
  m.to = to;
  m.commit = std::min(it->second.match, log_.committed());
  m.context = encode_round(round);
  const Index hold = log_.held_from();
  if (hold != 0 && m.commit >= hold && it->second.removal_round == 0) {
    it->second.removal_round = round;
  }
  send(std::move(m));
}

void Raft::bcast_heartbeat_round() {
  ++round_;
  ready_round_ = round_;
  round_needed_ = false;
  for (auto& [pid, pr] : progress_) {
    if (pid != id_) send_heartbeat(pid, round_);
  }
  update_lease_round();
}

void Raft::start_round_if_needed() {
  if (role_ == Role::kLeader && round_needed_) bcast_heartbeat_round();
}

std::uint64_t Raft::take_heartbeat_round() {
  const std::uint64_t r = ready_round_;
  ready_round_ = 0;
  return r;
}

void Raft::handle_append_response(const Message& m) {
  auto it = progress_.find(m.from);
  if (it == progress_.end()) return;
  Progress& pr = it->second;
  pr.recent_active = true;
  if (m.index > log_.last_index()) return;  // impossible: we never sent that much
  if (m.reject) {
    Index next_probe = std::min(m.reject_hint, m.index);
    if (m.reject_hint_term > 0) {
      next_probe = log_.find_conflict_by_term(next_probe, m.reject_hint_term);
    }
    if (pr.maybe_decrease_to(m.index, next_probe)) {
      if (pr.state == ProgressState::kReplicate) pr.become_probe();
      maybe_send_append(m.from, true);
    }
    return;
  }
  const bool was_paused = pr.is_paused();
  const bool has_snapshot = pr.state == ProgressState::kSnapshot && m.index >= pr.pending_snapshot;
  if (has_snapshot && pr.pending_snapshot == 0) pr.has_bootstrap_conf = true;
  if (!pr.maybe_update(m.index) && !has_snapshot) return;
  switch (pr.state) {
    case ProgressState::kProbe:
      pr.become_replicate();
      break;
    case ProgressState::kSnapshot:
      if (pr.match >= pr.pending_snapshot || pr.match + 1 >= log_.first_index()) {
        pr.become_probe();
        pr.become_replicate();
      }
      break;
    case ProgressState::kReplicate:
      pr.inflights.free_le(m.index);
      break;
  }
  if (log_.held_from() != 0 && pr.match >= log_.held_from() && pr.removal_round == 0) {
    round_needed_ = true;  // a heartbeat can now tell it that our removal committed
  }
  if (maybe_commit()) {
    bcast_append();
  } else if (was_paused) {
    maybe_send_append(m.from, false);
  }
  while (maybe_send_append(m.from, false)) {
  }
  if (m.from == lead_transferee_ && pr.match == log_.last_index()) send_timeout_now(m.from);
}

void Raft::handle_heartbeat_response(const Message& m) {
  auto it = progress_.find(m.from);
  if (it == progress_.end()) return;
  Progress& pr = it->second;
  pr.recent_active = true;
  if (const std::optional<std::uint64_t> round = decode_round(m.context)) {
    if (*round > pr.acked_round && *round <= round_) {
      pr.acked_round = *round;
      update_lease_round();
    }
    if (pr.removal_round != 0 && *round >= pr.removal_round && !pr.knows_removal) {
      pr.knows_removal = true;
      maybe_release_own_removal();
    }
  }
  // The member is alive, so an append it never answered may have been lost:
  // send again (a probe, or one more append past a full window). At most once
  // per heartbeat tick, whichever round the answer is for: reads start rounds
  // too, as often as once per loop turn, and letting every answer through
  // re-sent up to max_size_per_msg to a probing member per answer (a soak saw
  // 2.5 GB for one member in one turn, and an 11 s loop turn building it).
  if (pr.resend_round >= tick_round_) return;
  pr.resend_round = tick_round_;
  pr.probe_sent = false;
  if (pr.state == ProgressState::kReplicate && pr.inflights.full()) pr.inflights.free_first_one();
  if (pr.match < log_.last_index() || pr.state == ProgressState::kProbe) {
    maybe_send_append(m.from, true);
  }
}

bool Raft::maybe_commit() {
  const Index mci = majority_value(conf_.voters, [&](NodeId v) -> std::uint64_t {
    auto it = progress_.find(v);
    return it == progress_.end() ? 0 : it->second.match;
  });
  if (mci <= log_.committed()) return false;
#ifndef RAFTMETA_MUTATION_COMMIT_PREVIOUS_TERM
  // Raft §5.4.2: only entries of the current term are committed by counting.
  if (log_.term_or_zero(mci) != term_) return false;
#else
    // RAFTMETA_MUTATION_COMMIT_PREVIOUS_TERM: planted bug, counts any term.
#endif
  const Index old_commit = log_.committed();
  log_.commit_to(mci);
  hold_own_removal(old_commit);
  const Index committed = log_.committed();
  std::size_t n = 0;
  while (n < uncommitted_.size() && uncommitted_[n].first <= committed) {
    uncommitted_bytes_ -= uncommitted_[n].second;
    ++n;
  }
  uncommitted_.erase(uncommitted_.begin(), uncommitted_.begin() + static_cast<std::ptrdiff_t>(n));
  if (!committed_in_term_ && committed >= term_start_index_) on_committed_in_term();
  return true;
}

void Raft::on_committed_in_term() {
  committed_in_term_ = true;
  for (PendingRead& r : read_only_.take_waiting_for_commit()) register_read(std::move(r));
}

void Raft::send_timeout_now(NodeId to) {
  Message m;
  m.type = MessageType::kTimeoutNow;
  m.to = to;
  send(std::move(m));
}

void Raft::abort_transfer() { lead_transferee_ = kNoNode; }

// ---- proposals ---------------------------------------------------------------

ProposeResult Raft::propose(std::string data) {
  ProposeResult res;
  if (role_ != Role::kLeader) {
    res.status = ProposeStatus::kNotLeader;
    res.leader_hint = lead_;
    return res;
  }
  res.leader_hint = id_;
  if (lead_transferee_ != kNoNode) {
    res.status = ProposeStatus::kTransferring;
    res.reason = "leadership is being transferred to " + std::to_string(lead_transferee_);
    return res;
  }
  if (uncommitted_bytes_ > 0 && uncommitted_bytes_ + data.size() > config_.max_uncommitted_bytes) {
    res.status = ProposeStatus::kDropped;
    res.reason = "too many uncommitted bytes";
    return res;
  }
  append_entries({Entry{0, 0, EntryType::kNormal, std::move(data)}});
  res.index = log_.last_index();
  res.term = term_;
  bcast_append();
  return res;
}

ProposeResult Raft::propose_conf_change(const ConfChange& change) {
  ProposeResult res;
  if (role_ != Role::kLeader) {
    res.status = ProposeStatus::kNotLeader;
    res.leader_hint = lead_;
    return res;
  }
  res.leader_hint = id_;
  if (lead_transferee_ != kNoNode) {
    res.status = ProposeStatus::kTransferring;
    res.reason = "leadership is being transferred";
    return res;
  }
  if (pending_conf_index_ > log_.applied()) {
    res.status = ProposeStatus::kConfPending;
    res.reason = "entries up to index " + std::to_string(pending_conf_index_) +
                 " (possibly a configuration change) are not yet applied";
    return res;
  }
  if (std::string why = check_conf_change(conf_, change); !why.empty()) {
    res.status = ProposeStatus::kInvalid;
    res.reason = std::move(why);
    return res;
  }
  append_entries({Entry{0, 0, EntryType::kConfChange, encode_conf_change(change)}});
  pending_conf_index_ = log_.last_index();
  res.index = log_.last_index();
  res.term = term_;
  bcast_append();
  return res;
}

bool Raft::transfer_leader(NodeId to, std::string* reason) {
  auto fail = [&](std::string why) {
    if (reason) *reason = std::move(why);
    return false;
  };
  if (role_ != Role::kLeader) {
    if (lead_ != kNoNode && to == id_) {
      Message m;
      m.type = MessageType::kTransferLeader;
      m.to = lead_;
      send(std::move(m));
      return true;
    }
    return fail("not the leader");
  }
  if (lead_transferee_ != kNoNode) {
    return fail("a transfer to " + std::to_string(lead_transferee_) + " is in flight");
  }
  if (to == kNoNode) {
    Index best = 0;
    for (const auto& [pid, pr] : progress_) {
      if (pid == id_ || !pr.voter) continue;
      if (to == kNoNode || pr.match > best) {
        to = pid;
        best = pr.match;
      }
    }
    if (to == kNoNode) return fail("no other voter to transfer to");
  }
  if (to == id_) return fail("already the leader");
  auto it = progress_.find(to);
  if (it == progress_.end() || !it->second.voter) {
    return fail("node " + std::to_string(to) + " is not a voter");
  }
  lead_transferee_ = to;
  election_elapsed_ = 0;  // the transfer is aborted after an election timeout
  if (it->second.match == log_.last_index()) {
    send_timeout_now(to);
  } else {
    maybe_send_append(to, true);
  }
  return true;
}

void Raft::report_unreachable(NodeId peer) {
  if (role_ != Role::kLeader) return;
  auto it = progress_.find(peer);
  if (it == progress_.end()) return;
  if (it->second.state == ProgressState::kReplicate) it->second.become_probe();
}

void Raft::report_snapshot(NodeId peer, bool ok) {
  if (role_ != Role::kLeader) return;
  auto it = progress_.find(peer);
  if (it == progress_.end() || it->second.state != ProgressState::kSnapshot) return;
  Progress& pr = it->second;
  if (!ok) pr.pending_snapshot = 0;
  pr.become_probe();
  // Wait for the follower's answer (or the next heartbeat) before probing.
  pr.probe_sent = true;
}

// ---- reads ---------------------------------------------------------------------

void Raft::read_index(std::string context) { handle_read_request(std::move(context), id_); }

void Raft::handle_read_request(std::string context, NodeId from) {
  if (role_ != Role::kLeader) {
    if (from != id_) return;  // forwarded to us by mistake; the asker times out
    if (lead_ == kNoNode) {
      read_failures_.push_back({std::move(context), kNoNode});
      return;
    }
    Message m;
    m.type = MessageType::kReadIndex;
    m.to = lead_;
    m.context = std::move(context);
    send(std::move(m));
    return;
  }
  PendingRead read{std::move(context), from, 0, 0};
  if (lead_transferee_ != kNoNode) {
    answer_read(read, false);
    return;
  }
#ifndef RAFTMETA_MUTATION_READ_INDEX_BEFORE_OWN_COMMIT
  if (!committed_in_term_) {
    // Our commit index may be behind the previous leader's until an entry of
    // our term commits.
    read_only_.wait_for_commit(std::move(read));
    return;
  }
#else
  // RAFTMETA_MUTATION_READ_INDEX_BEFORE_OWN_COMMIT: planted bug, serves reads
  // with a commit index that may predate the previous leader's commits.
#endif
  register_read(std::move(read));
}

void Raft::register_read(PendingRead read) {
  read.index = log_.committed();
  if (conf_.voters.size() == 1 && conf_.voters[0] == id_) {
    answer_read(read, true);
    return;
  }
  read.round = round_ + 1;  // a round started after this request arrived
  round_needed_ = true;
  read_only_.wait_for_round(std::move(read));
}

void Raft::answer_read(const PendingRead& read, bool ok) {
  if (read.from == id_) {
    if (ok) {
      read_states_.push_back({read.index, read.context});
    } else {
      read_failures_.push_back({read.context, lead_ == id_ ? kNoNode : lead_});
    }
    return;
  }
  Message m;
  m.type = MessageType::kReadIndexResponse;
  m.to = read.from;
  m.index = ok ? read.index : 0;
  m.reject = !ok;
  m.context = read.context;
  send(std::move(m));
}

void Raft::fail_pending_reads() {
  for (const PendingRead& r : read_only_.take_all()) answer_read(r, false);
}

void Raft::update_lease_round() {
  if (role_ != Role::kLeader) return;
#ifdef RAFTMETA_MUTATION_LEASE_WITHOUT_QUORUM
  // RAFTMETA_MUTATION_LEASE_WITHOUT_QUORUM: planted bug, a single
  // acknowledgement (of any round this term) confirms every newer round.
  std::uint64_t confirmed = conf_.voters.size() <= 1 ? round_ : 0;
  for (const auto& [pid, pr] : progress_) {
    if (pid != id_ && pr.acked_round > 0) confirmed = round_;
  }
#else
  const std::uint64_t confirmed = majority_value(conf_.voters, [&](NodeId v) -> std::uint64_t {
    if (v == id_) return round_;
    auto it = progress_.find(v);
    return it == progress_.end() ? 0 : it->second.acked_round;
  });
#endif
  if (confirmed <= lease_round_) return;
  lease_round_ = confirmed;
  for (const PendingRead& r : read_only_.release(lease_round_)) answer_read(r, true);
}

// ---- persistence and application reports -----------------------------------------

void Raft::on_persisted(Index index, Term term) {
  log_.stable_snapshot_to(index);
  log_.unstable().stable_to(index, term);
  if (!log_.match_term(index, term)) return;
  persisted_ = std::max(persisted_, std::min(index, log_.last_durable_index()));
  if (role_ != Role::kLeader) return;
  auto self = progress_.find(id_);
  if (self == progress_.end()) return;
  if (self->second.maybe_update(std::min(index, log_.last_durable_index()))) {
    if (self->second.match >= term_start_index_) term_durable_ = true;
    if (maybe_commit()) bcast_append();
  }
}

void Raft::accept_committed(const std::vector<Entry>& committed) {
#ifndef RAFTMETA_MUTATION_CONF_ON_APPEND
  for (const Entry& e : committed) {
    if (e.type != EntryType::kConfChange || e.index <= conf_applied_index_) continue;
    if (!conf_to_apply_.empty() && conf_to_apply_.back().first >= e.index) continue;
    if (auto cc = decode_conf_change(e.data)) {
      conf_to_apply_.emplace_back(e.index, *cc);
    } else {
      conf_applied_index_ = std::max(conf_applied_index_, e.index);  // malformed: a no-op
    }
  }
#else
  (void)committed;
#endif
}

void Raft::on_applied(Index index) {
  log_.applied_to(index);
  apply_conf_entries_upto(log_.applied());
}

void Raft::apply_conf_entries_upto(Index index) {
  std::size_t n = 0;
  while (n < conf_to_apply_.size() && conf_to_apply_[n].first <= index) {
    const auto [at, cc] = conf_to_apply_[n];
    ++n;
    if (at <= conf_applied_index_) continue;
    conf_applied_index_ = at;
    apply_conf(cc);
  }
  conf_to_apply_.erase(conf_to_apply_.begin(),
                       conf_to_apply_.begin() + static_cast<std::ptrdiff_t>(n));
}

void Raft::apply_conf(const ConfChange& cc) {
  const ConfState before = conf_;
  conf_ = raft::apply_conf_change(conf_, cc);
  if (conf_ == before) return;
  if (role_ != Role::kLeader) {
    if (role_ == Role::kLearner && is_voter(conf_, id_)) role_ = Role::kFollower;
    if (role_ == Role::kFollower && is_learner(conf_, id_)) role_ = Role::kLearner;
    if (!is_member(conf_, id_) && role_ != Role::kFollower) become_follower(term_, lead_);
    return;
  }
  // Bring the leader's progress in line with the new configuration.
  for (auto it = progress_.begin(); it != progress_.end();) {
    if (!is_member(conf_, it->first)) {
      it = progress_.erase(it);
    } else {
      it->second.voter = is_voter(conf_, it->first);
      ++it;
    }
  }
  std::vector<NodeId> added;
  for (const auto* ids : {&conf_.voters, &conf_.learners}) {
    for (NodeId id : *ids) {
      if (progress_.count(id)) continue;
      progress_.emplace(id, Progress(log_.last_index() + 1, config_.max_inflight_msgs,
                                     config_.max_inflight_bytes, is_voter(conf_, id)));
      added.push_back(id);
    }
  }
  if (!is_voter(conf_, id_)) {
    // We were removed: let the others learn the commit index, then step down.
    bcast_append();
    become_follower(term_, kNoNode);
    return;
  }
  if (lead_transferee_ != kNoNode && !is_voter(conf_, lead_transferee_)) abort_transfer();
  if (maybe_commit()) bcast_append();
  update_lease_round();
  for (NodeId id : added) maybe_send_append(id, true);
}

// ---- a leader's own removal ------------------------------------------------------
//
// The member being removed shuts down once it applies its removal. If it was
// the leader, the remaining voters may not yet know that the removal
// committed (in a two-voter cluster the survivor would then wait forever for
// the removed member's vote). So the leader hands out the entry that removes
// it only after a quorum of the remaining voters acknowledged a heartbeat
// whose commit index covers it, or after it heard such a commit index from
// another leader.

void Raft::hold_own_removal(Index old_commit) {
  if (log_.held_from() != 0) return;
  const Index lo = std::max(old_commit + 1, log_.first_index());
  const Index hi = log_.committed();
  if (lo > hi) return;
  std::vector<Entry> ents;
  if (log_.slice(lo, hi + 1, kNoLimit, &ents) != StorageError::kNone) return;
  for (const Entry& e : ents) {
    if (e.type != EntryType::kConfChange || e.index <= conf_applied_index_) continue;
    auto cc = decode_conf_change(e.data);
    if (!cc || cc->type != ConfChangeType::kRemove || cc->node_id != id_) continue;
    log_.hold_from(e.index);
    for (auto& [pid, pr] : progress_) {
      pr.removal_round = 0;
      pr.knows_removal = false;
    }
    round_needed_ = true;  // tell the others promptly
    return;
  }
}

void Raft::maybe_release_own_removal() {
  if (log_.held_from() == 0 || role_ != Role::kLeader) return;
  std::vector<NodeId> remaining;
  for (NodeId v : conf_.voters) {
    if (v != id_) remaining.push_back(v);
  }
  const bool known = has_quorum(remaining, [&](NodeId v) {
    auto it = progress_.find(v);
    return it != progress_.end() && it->second.knows_removal;
  });
  if (known) log_.hold_from(0);
}

// ---- status --------------------------------------------------------------------

bool Raft::has_outputs() const {
  return !msgs_.empty() || !msgs_after_persist_.empty() || !read_states_.empty() ||
         !read_failures_.empty() || ready_round_ != 0 || (role_ == Role::kLeader && round_needed_);
}

Status Raft::status() const {
  Status s;
  s.id = id_;
  s.role = role_;
  s.term = term_;
  s.vote = vote_;
  s.leader = lead_;
  s.commit = log_.committed();
  s.applied = log_.applied();
  s.persisted = persisted_;
  s.last_index = log_.last_index();
  s.first_index = log_.first_index();
  s.conf = conf_;
  s.conf_change_pending = has_unapplied_committed_conf() || !conf_to_apply_.empty();
  if (role_ != Role::kLeader) return s;
  s.lead_transferee = lead_transferee_;
  s.committed_in_term = committed_in_term_;
  s.lease_round = (config_.lease_reads && config_.check_quorum) ? lease_round_ : 0;
  s.conf_change_pending = s.conf_change_pending || pending_conf_index_ > log_.applied();
  for (const auto& [pid, pr] : progress_) {
    if (pid == id_) continue;
    PeerProgress p;
    p.id = pid;
    p.voter = pr.voter;
    p.match = pr.match;
    p.next = pr.next;
    p.state = std::string(to_string(pr.state));
    p.recent_active = pr.recent_active;
    p.inflight = pr.inflights.count();
    s.progress.push_back(std::move(p));
  }
  return s;
}

}  // namespace raftmeta::raft
