// SafetyChecker (see safety_checker.h).
#include "sidecar/raft/sim/safety_checker.h"

#include <algorithm>

#include "sidecar/raft/sim/kv_state_machine.h"

namespace raftmeta::raft::sim {

namespace {

std::string ids(const std::vector<NodeId>& v) {
  std::string out = "{";
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + std::to_string(v[i]);
  return out + "}";
}

std::string conf_string(const ConfState& c) {
  return "voters=" + ids(c.voters) + " learners=" + ids(c.learners);
}

bool contains(const std::vector<NodeId>& v, NodeId id) {
  return std::binary_search(v.begin(), v.end(), id);
}

void insert_sorted(std::vector<NodeId>& v, NodeId id) {
  v.insert(std::upper_bound(v.begin(), v.end(), id), id);
}

void erase_id(std::vector<NodeId>& v, NodeId id) {
  v.erase(std::remove(v.begin(), v.end(), id), v.end());
}

// The configuration rules of raw_node.h: add a fresh id as learner, promote a
// learner, remove a member; ids once removed are refused forever. A change
// the rules refuse leaves the configuration unchanged.
ConfState apply_change(ConfState c, const ConfChange& cc) {
  const NodeId id = cc.node_id;
  const bool voter = contains(c.voters, id);
  const bool learner = contains(c.learners, id);
  switch (cc.type) {
    case ConfChangeType::kAddLearner:
      if (id != kNoNode && !voter && !learner && !contains(c.removed, id))
        insert_sorted(c.learners, id);
      break;
    case ConfChangeType::kPromote:
      if (learner) {
        erase_id(c.learners, id);
        insert_sorted(c.voters, id);
      }
      break;
    case ConfChangeType::kRemove:
      if ((voter && c.voters.size() > 1) || learner) {
        erase_id(c.voters, id);
        erase_id(c.learners, id);
        insert_sorted(c.removed, id);
      }
      break;
  }
  return c;
}

}  // namespace

SafetyChecker::SafetyChecker(ConfState initial) {
  conf_history_.push_back({0, std::move(initial)});
}

void SafetyChecker::fail(const std::string& what) {
  if (violation_.empty()) violation_ = what;
}

void SafetyChecker::on_leader(NodeId id, Term term, const ShadowLog& log) {
  const auto [it, inserted] = leaders_.emplace(term, id);
  if (!inserted && it->second != id) {
    fail("election safety: nodes " + std::to_string(it->second) + " and " + std::to_string(id) +
         " are both leader of term " + std::to_string(term));
    return;
  }
  if (!inserted) return;
  // Leader completeness: every entry committed so far is in the new leader's log.
  for (Index i = log.offset() + 1; i <= committed_.size(); ++i) {
    const Committed& c = committed_[i - 1];
    if (!c.known) continue;
    const ShadowLog::Slot* s = log.slot(i);
    if (s == nullptr || s->term != c.term || s->fingerprint != c.fingerprint) {
      fail("leader completeness: node " + std::to_string(id) + " became leader of term " +
           std::to_string(term) + " without committed entry " + std::to_string(i) + " (term " +
           std::to_string(c.term) + "); its log ends at " + std::to_string(log.last_index()) +
           (s ? " and holds term " + std::to_string(s->term) + " there" : ""));
      return;
    }
  }
}

void SafetyChecker::on_log_append(NodeId id, const std::vector<Entry>& entries,
                                  const ShadowLog& log) {
  std::vector<Entry> above;
  for (const Entry& e : entries) {
    if (e.index > log.offset()) above.push_back(e);
  }
  if (above.empty()) return;
  std::optional<Term> prev;
  Term t = 0;
  if (log.term_at(above.front().index - 1, &t)) prev = t;
  on_entries_visible(id, above, prev);
}

void SafetyChecker::on_entries_visible(NodeId id, const std::vector<Entry>& entries,
                                       std::optional<Term> prev_term) {
  std::optional<Term> prev = prev_term;
  for (const Entry& e : entries) {
    if (e.type == EntryType::kConfChange)
      conf_entries_.emplace(std::make_pair(e.index, e.term), e.data);
    if (prev) {
      const auto key = std::make_pair(e.index, e.term);
      const auto value = std::make_pair(entry_fingerprint(e), *prev);
      const auto [it, inserted] = entries_.emplace(key, value);
      if (!inserted && it->second != value) {
        fail("log matching: node " + std::to_string(id) + " holds a different entry at index " +
             std::to_string(e.index) + " term " + std::to_string(e.term) +
             (it->second.second != *prev ? " (previous term " + std::to_string(*prev) + " vs " +
                                               std::to_string(it->second.second) + ")"
                                         : " (different content)"));
        return;
      }
    }
    prev = e.term;
  }
}

void SafetyChecker::record_committed(NodeId id, Index i, Term term, std::uint64_t fp) {
  if (committed_.size() < i) committed_.resize(i);
  Committed& c = committed_[i - 1];
  if (!c.known) {
    c = Committed{true, term, fp};
    advance_conf_model();
    return;
  }
  if (c.term != term || c.fingerprint != fp) {
    fail("commit safety: node " + std::to_string(id) + " committed entry " + std::to_string(i) +
         " of term " + std::to_string(term) + " but entry of term " + std::to_string(c.term) +
         " was committed there before");
  }
}

void SafetyChecker::on_commit(NodeId id, Index previous, Index commit, const ShadowLog& log) {
  if (commit < previous) {
    fail("commit monotonicity: node " + std::to_string(id) + " commit went from " +
         std::to_string(previous) + " back to " + std::to_string(commit));
    return;
  }
  if (commit > log.last_index()) {
    fail("commit beyond log: node " + std::to_string(id) + " commit " + std::to_string(commit) +
         " > last index " + std::to_string(log.last_index()));
    return;
  }
  for (Index i = std::max(previous, log.offset()) + 1; i <= commit; ++i) {
    const ShadowLog::Slot* s = log.slot(i);
    if (s != nullptr) record_committed(id, i, s->term, s->fingerprint);
  }
}

void SafetyChecker::on_apply(NodeId id, const Entry& e, Index commit, std::uint64_t digest) {
  if (e.index > commit) {
    fail("applied uncommitted: node " + std::to_string(id) + " applied index " +
         std::to_string(e.index) + " with commit " + std::to_string(commit));
    return;
  }
  if (e.index > committed_.size() || !committed_[e.index - 1].known) {
    fail("applied unknown: node " + std::to_string(id) + " applied index " +
         std::to_string(e.index) + " that no member reported committed");
    return;
  }
  const Committed& c = committed_[e.index - 1];
  if (c.term != e.term || c.fingerprint != entry_fingerprint(e)) {
    fail("state-machine safety: node " + std::to_string(id) + " applied entry " +
         std::to_string(e.index) + " of term " + std::to_string(e.term) +
         " but the committed entry there has term " + std::to_string(c.term));
    return;
  }
  if (e.type == EntryType::kNormal && !e.data.empty()) {
    const auto w = decode_write(e.data);
    if (!w || w->write_id >= proposed_writes_.size() || !proposed_writes_[w->write_id]) {
      fail("applied a write never proposed: node " + std::to_string(id) + " index " +
           std::to_string(e.index));
      return;
    }
  }
  on_restore(id, e.index, digest);
}

void SafetyChecker::on_restore(NodeId id, Index index, std::uint64_t digest) {
  const auto [it, inserted] = digests_.emplace(index, digest);
  if (!inserted && it->second != digest) {
    fail("state-machine safety: node " + std::to_string(id) +
         " has a different state at applied index " + std::to_string(index));
  }
}

void SafetyChecker::advance_conf_model() {
  while (conf_cursor_ < committed_.size() && committed_[conf_cursor_].known) {
    const Committed& c = committed_[conf_cursor_];
    ++conf_cursor_;
    const auto it = conf_entries_.find({conf_cursor_, c.term});
    if (it == conf_entries_.end()) continue;
    const auto cc = decode_conf_change(it->second);
    if (!cc) continue;
    ConfState next = apply_change(conf_history_.back().second, *cc);
    if (next != conf_history_.back().second)
      conf_history_.push_back({conf_cursor_, std::move(next)});
  }
}

const ConfState* SafetyChecker::conf_at(Index i) const {
  if (i > conf_cursor_) return nullptr;
  const ConfState* out = &conf_history_.front().second;
  for (const auto& [index, conf] : conf_history_) {
    if (index > i) break;
    out = &conf;
  }
  return out;
}

void SafetyChecker::on_conf(NodeId id, Index applied, const ConfState& conf, bool continuous) {
  advance_conf_model();
  // A member that joined empty knows no configuration until it has applied
  // something (a snapshot or the log).
  const bool joining = applied == 0 && conf.voters.empty() && conf.learners.empty();
  if (const ConfState* want = joining ? nullptr : conf_at(applied)) {
    if (want->voters != conf.voters || want->learners != conf.learners) {
      fail("configuration: node " + std::to_string(id) + " at applied index " +
           std::to_string(applied) + " has " + conf_string(conf) +
           " but the committed log up to there gives " + conf_string(*want));
      return;
    }
  }
  for (const NodeId r : conf_history_.back().second.removed) {
    if (contains(conf.voters, r) || contains(conf.learners, r)) {
      // Only a member that has not applied the removal may still list it.
      const ConfState* at = conf_at(applied);
      if (at == nullptr || contains(at->removed, r)) {
        fail("removed id returned: node " + std::to_string(id) + " lists removed id " +
             std::to_string(r));
        return;
      }
    }
  }
  (void)continuous;
}

void SafetyChecker::on_conf_proposed(NodeId id, Index applied, const ShadowLog& log, Index index) {
  // One change at a time: when a leader appends a conf change, every earlier
  // one in its log has been applied (so consecutive configurations in use
  // differ by at most one voter and their majorities intersect).
  for (Index i = std::max(applied, log.offset()) + 1; i < index && i <= log.last_index(); ++i) {
    const ShadowLog::Slot* s = log.slot(i);
    if (s != nullptr && conf_entries_.count({i, s->term}) != 0) {
      fail("configuration: leader " + std::to_string(id) + " appended a conf change at " +
           std::to_string(index) + " while the one at " + std::to_string(i) +
           " was not applied (applied " + std::to_string(applied) + ")");
      return;
    }
  }
}

bool SafetyChecker::removed(NodeId id) const {
  return contains(conf_history_.back().second.removed, id);
}

void SafetyChecker::on_write_proposed(std::uint64_t write_id) {
  if (proposed_writes_.size() <= write_id) proposed_writes_.resize(write_id + 1);
  proposed_writes_[write_id] = true;
}

void SafetyChecker::on_write_acked(Index index) {
  acked_watermark_ = std::max(acked_watermark_, index);
}

void SafetyChecker::on_read_served(const char* kind, NodeId id, Index begin_watermark,
                                   Index state_index) {
  if (state_index < begin_watermark) {
    fail(std::string("linearizability: ") + kind + " read on node " + std::to_string(id) +
         " served the state at index " + std::to_string(state_index) + " but a write at index " +
         std::to_string(begin_watermark) + " was acknowledged before the read began (stale read)");
  }
}

}  // namespace raftmeta::raft::sim
