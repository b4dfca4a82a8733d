// Raft: the protocol state machine behind RawNode (roles, terms, votes,
// replication, commit, ReadIndex, leader transfer, membership, snapshots).
//
// RawNode (raw_node.h) is the public face and holds the Ready contract; this
// class does the protocol and queues its outputs (messages, read states,
// read failures) for RawNode to hand out. Pure and deterministic: all
// randomness comes from a PRNG seeded by Config::seed and the node id.
//
// Decisions worth knowing (see raft.cpp for the details):
//  - Bootstrap: a new cluster starts from a storage snapshot at index 0 that
//    holds the initial ConfState. A member added later is sent that
//    configuration (a kSnapshot at index 0) before entry 1, so it replays the
//    log under the right configuration.
//  - Ids that are not members of our (possibly lagging) configuration: their
//    leader messages (append, heartbeat, snapshot, TimeoutNow) and vote
//    requests are still heard, since a newer member may already lead;
//    responses and requests meant for a leader are ignored. Removed ids are
//    refused, except heartbeats of the current term's leader that was just
//    removed (see the next point).
//  - A leader that commits its own removal hands the entry out for applying
//    (after which the node shuts down) only once a quorum of the remaining
//    voters acknowledged a heartbeat whose commit index covers it, or once it
//    heard such a commit index from another leader; otherwise a survivor of a
//    two-voter cluster could wait forever for the removed member's vote.
//  - Messages that promise something durable (votes, append responses) and
//    vote requests leave only after persistence (Ready::persisted_messages);
//    a leader elected alone holds its messages until its no-op is durable.
//
// Thread safety: none (owned by one RawNode).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sidecar/raft/log_storage.h"
#include "sidecar/raft/message.h"
#include "sidecar/raft/progress.h"
#include "sidecar/raft/raft_log.h"
#include "sidecar/raft/raw_node.h"
#include "sidecar/raft/read_only.h"
#include "sidecar/raft/types.h"

namespace raftmeta::raft {

// A deterministic PRNG (splitmix64).
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next();

 private:
  std::uint64_t state_;
};

class Raft {
 public:
  // REQUIRES storage outlives the Raft. Sets *error and returns false from
  // restore() when the stored state is inconsistent.
  Raft(const Config& config, LogStorage* storage);
  bool restore(std::string* error);

  void tick();
  bool step(const Message& m);
  void campaign();  // as RawNode::campaign (no pre-vote, honours the #456 rule)

  ProposeResult propose(std::string data);
  ProposeResult propose_conf_change(const ConfChange& change);
  void read_index(std::string context);
  bool transfer_leader(NodeId to, std::string* reason);
  void report_unreachable(NodeId peer);
  void report_snapshot(NodeId peer, bool ok);

  // Persistence and application reports (see RawNode).
  void on_persisted(Index index, Term term);
  void on_applied(Index index);
  // Committed entries [.., last] were handed out; conf changes among them are
  // applied when on_applied passes their index.
  void accept_committed(const std::vector<Entry>& committed);

  // Starts a heartbeat round if a read is waiting for one (called when a
  // Ready is assembled, so the round starts after the reads it confirms).
  void start_round_if_needed();

  // Outputs, taken by RawNode when it assembles a Ready.
  std::vector<Message> take_messages() { return std::move(msgs_); }
  std::vector<Message> take_persisted_messages() { return std::move(msgs_after_persist_); }
  std::vector<ReadState> take_read_states() { return std::move(read_states_); }
  std::vector<ReadFailure> take_read_failures() { return std::move(read_failures_); }
  std::uint64_t take_heartbeat_round();
  bool has_outputs() const;

  HardState hard_state() const { return {term_, vote_, log_.committed()}; }
  SoftState soft_state() const { return {role_, lead_}; }
  RaftLog& log() { return log_; }
  const RaftLog& log() const { return log_; }
  Status status() const;
  NodeId id() const { return id_; }

  // What the last accepted Ready reported; RawNode compares against these to
  // decide whether hard and soft state must be handed out again.
  HardState accepted_hard_state;
  SoftState accepted_soft_state;

 private:
  // Roles.
  void become_follower(Term term, NodeId lead);
  void become_pre_candidate();
  void become_candidate();
  void become_leader();
  void reset(Term term);
  Role follower_role() const;

  // Elections.
  void hup(bool transfer);
  void start_campaign(bool pre_vote, bool transfer);
  bool promotable() const;
  bool has_unapplied_committed_conf() const;
  void reset_randomized_election_timeout();
  void handle_vote_request(const Message& m);
  void handle_vote_response(const Message& m);
  // Acts on the tally of votes_: campaigns for real after a won pre-vote,
  // becomes leader after a won vote, steps down after a lost one. Returns
  // false while the tally is still open.
  bool conclude_election(bool pre, bool transfer);

  // Steps by role.
  void step_leader(const Message& m);
  void step_candidate(const Message& m);
  void step_follower(const Message& m);
  bool accept_from(const Message& m) const;
  bool well_formed(const Message& m) const;

  // Follower side of replication.
  void handle_append(const Message& m);
  void handle_heartbeat(const Message& m);
  void handle_snapshot(const Message& m);
  bool restore_snapshot(const Snapshot& s);

  // Leader side of replication.
  void handle_append_response(const Message& m);
  void handle_heartbeat_response(const Message& m);
  bool maybe_send_append(NodeId to, bool send_if_empty);
  bool send_snapshot(NodeId to, Progress& pr);
  bool needs_bootstrap_conf(NodeId to) const;
  void send_heartbeat(NodeId to, std::uint64_t round);
  void bcast_append();
  void bcast_heartbeat_round();
  bool maybe_commit();
  void append_entries(std::vector<Entry> ents);
  void on_committed_in_term();
  void abort_transfer();
  void send_timeout_now(NodeId to);
  void reset_progress();
  std::vector<NodeId> voters() const { return conf_.voters; }

  // Reads.
  void register_read(PendingRead read);
  void handle_read_request(std::string context, NodeId from);
  void answer_read(const PendingRead& read, bool ok);
  void fail_pending_reads();
  void update_lease_round();

  // Membership.
  void apply_conf(const ConfChange& cc);
  void apply_conf_entries_upto(Index index);
  void hold_own_removal(Index old_commit);
  void maybe_release_own_removal();

  void send(Message m);

  // Configuration.
  const Config config_;
  const NodeId id_;
  SplitMix64 rng_;

  // Persistent state (HardState) and log.
  Term term_ = 0;
  NodeId vote_ = kNoNode;
  RaftLog log_;

  // Volatile state.
  Role role_ = Role::kFollower;
  NodeId lead_ = kNoNode;
  ConfState conf_;
  std::map<NodeId, Progress> progress_;  // leader: every member incl. itself
  std::map<NodeId, bool> votes_;
  int election_elapsed_ = 0;
  int heartbeat_elapsed_ = 0;
  int randomized_election_timeout_ = 0;
  NodeId lead_transferee_ = kNoNode;
  Index pending_conf_index_ = 0;  // leader: last conf change in the log
  // Conf change entries handed out as committed, applied once on_applied passes them.
  std::vector<std::pair<Index, ConfChange>> conf_to_apply_;
  Index conf_applied_index_ = 0;  // highest conf change entry already applied
  Index term_start_index_ = 0;    // leader: index of its no-op
  bool term_durable_ = true;      // leader: its own no-op is durable
  bool committed_in_term_ = false;
  std::uint64_t uncommitted_bytes_ = 0;
  std::vector<std::pair<Index, std::uint64_t>> uncommitted_;  // leader: (index, bytes)
  Index persisted_ = 0;

  // ReadIndex and lease rounds.
  ReadOnly read_only_;
  std::uint64_t round_ = 0;  // newest heartbeat round started (never reset)
  std::uint64_t lease_round_ = 0;
  std::uint64_t ready_round_ = 0;  // round to report in the next Ready
  std::uint64_t tick_round_ = 0;   // newest round started by a heartbeat tick
  bool round_needed_ = false;

  // Outputs.
  std::vector<Message> msgs_;
  std::vector<Message> msgs_after_persist_;
  std::vector<ReadState> read_states_;
  std::vector<ReadFailure> read_failures_;
};

}  // namespace raftmeta::raft
