// SafetyChecker: the invariants a simulated run must never break, fed by the
// Simulation after every event that could break one. The first violation is
// kept (later ones are usually consequences) as a one-line description.
//
// Checked:
//   election safety     at most one leader per term, across configurations;
//   log matching        an (index, term) pair names one entry content and one
//                       predecessor term, in every member's log, ever --
//                       counting entries a member persisted or sent (ones
//                       handed out in a Ready and lost in a crash before
//                       either were seen by no one);
//   leader completeness a new leader's log holds every entry committed so far;
//   commit safety       all members agree on the entry committed at an index;
//   commit monotonicity a member's commit index never goes back (also not
//                       below its durable commit after a restart);
//   applied committed   a member applies only entries it has committed, equal
//                       to the committed ones;
//   state-machine safety two members at one applied index have equal states
//                       (digests), including states restored from snapshots;
//   configuration       a member's configuration at applied index i equals the
//                       one computed from the committed log up to i (changes
//                       take effect when applied); a leader appends a change
//                       only when every earlier one is applied (one voter at a
//                       time); a removed id never returns;
//   reads               every served read reflects every write acknowledged
//                       before the read began (linearizability of reads
//                       against the real-time order of completed writes), and
//                       every applied write was proposed.
//
// Thread safety: none; owned by one Simulation.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sidecar/raft/sim/shadow_log.h"
#include "sidecar/raft/types.h"

namespace raftmeta::raft::sim {

class SafetyChecker {
 public:
  explicit SafetyChecker(ConfState initial);

  bool failed() const { return !violation_.empty(); }
  const std::string& violation() const { return violation_; }
  // Records a violation found by the simulation itself (e.g. liveness).
  void fail(const std::string& what);

  // A member reports itself leader of `term` with this log.
  void on_leader(NodeId id, Term term, const ShadowLog& log);
  // A member's log durably holds `entries` (log already updated).
  void on_log_append(NodeId id, const std::vector<Entry>& entries, const ShadowLog& log);
  // Contiguous `entries` became visible beyond one incarnation of member `id`:
  // persisted, or sent in an append. `prev_term` is the term of the entry
  // before the first one, if known.
  void on_entries_visible(NodeId id, const std::vector<Entry>& entries,
                          std::optional<Term> prev_term);
  // A member's commit index is now `commit` (was `previous`).
  void on_commit(NodeId id, Index previous, Index commit, const ShadowLog& log);
  // A member applied `e`; its state digest is now `digest`; `commit` is its commit index.
  void on_apply(NodeId id, const Entry& e, Index commit, std::uint64_t digest);
  // A member restored a state at `index` with `digest` (snapshot or checkpoint).
  void on_restore(NodeId id, Index index, std::uint64_t digest);
  // A member's configuration with `applied` entries applied.
  void on_conf(NodeId id, Index applied, const ConfState& conf, bool continuous);
  // A leader with `applied` entries applied appended a conf change at `index`
  // (its log already holds the entry).
  void on_conf_proposed(NodeId id, Index applied, const ShadowLog& log, Index index);

  // Writes: proposed (data carries the id) and acknowledged to the client.
  void on_write_proposed(std::uint64_t write_id);
  void on_write_acked(Index index);
  Index acked_watermark() const { return acked_watermark_; }
  // A read that began when the watermark was `begin_watermark` was served
  // from a state at `state_index`.
  void on_read_served(const char* kind, NodeId id, Index begin_watermark, Index state_index);

  std::uint64_t leaders_elected() const { return leaders_.size(); }
  Index max_committed() const { return committed_.size(); }
  // True once `id` is removed in the committed configuration.
  bool removed(NodeId id) const;
  // The committed configuration as far as the committed log is known.
  const ConfState& latest_committed_conf() const { return conf_history_.back().second; }

 private:
  struct Committed {
    bool known = false;
    Term term = 0;
    std::uint64_t fingerprint = 0;
  };
  void advance_conf_model();
  const ConfState* conf_at(Index i) const;
  void record_committed(NodeId id, Index i, Term term, std::uint64_t fp);

  std::string violation_;
  std::map<Term, NodeId> leaders_;
  // Log matching: (index, term) -> (fingerprint, previous term).
  std::map<std::pair<Index, Term>, std::pair<std::uint64_t, Term>> entries_;
  std::vector<Committed> committed_;        // [i-1] = the entry committed at index i
  std::map<Index, std::uint64_t> digests_;  // applied index -> state digest
  // Conf-change entries seen in any log: (index, term) -> data.
  std::map<std::pair<Index, Term>, std::string> conf_entries_;
  std::vector<std::pair<Index, ConfState>> conf_history_;  // (index, conf from then on)
  Index conf_cursor_ = 0;  // conf_history_ covers the committed log up to here
  std::vector<bool> proposed_writes_;
  Index acked_watermark_ = 0;
};

}  // namespace raftmeta::raft::sim
