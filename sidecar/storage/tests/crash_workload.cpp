#include "sidecar/storage/tests/crash_workload.h"

#include <algorithm>

namespace raftmeta::storage::testing {

OpenOptions crash_options(const std::string& dir) {
  OpenOptions o;
  o.data_dir = dir;
  o.cluster_id = kCrashClusterId;
  o.member_id = kCrashMemberId;
  o.keep_tail_entries = kCrashKeepTail;
  return o;
}

std::string crash_payload(raft::Index index, raft::Term term) {
  std::uint64_t x = index * 0x9E3779B97F4A7C15ull ^ term * 0xC2B2AE3D27D4EB4Full;
  x |= 1;
  const std::size_t size = 8 + static_cast<std::size_t>(x % 300);
  std::string out(size, '\0');
  for (std::size_t i = 0; i < size; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    out[i] = static_cast<char>(x);
  }
  return out;
}

CrashWriter::CrashWriter(const LogStore& store, std::uint64_t seed)
    : rng_(seed), hs_(store.hard_state()), term_(hs_.term + 1) {}

Status CrashWriter::append_batch(LogStore& store, Report* reported, bool* was_reported) {
  *was_reported = false;
  ++round_;
  const raft::Index last = store.last_index();
  raft::Index first = last + 1;
  // A new leader overwrites the uncommitted tail (never committed entries).
  if (rng_() % 8 == 0 && last >= 2 && last - 1 > hs_.commit && last - 1 >= store.first_index() &&
      last - 1 > store.snapshot_meta().index) {
    first = last - 1;
    ++term_;
  }
  const raft::Index count = 1 + rng_() % 8;
  WriteBatch b;
  for (raft::Index i = first; i < first + count; ++i) {
    raft::Entry e;
    e.index = i;
    e.term = term_;
    e.type = (i % 17 == 0) ? raft::EntryType::kConfChange : raft::EntryType::kNormal;
    e.data = crash_payload(i, term_);
    b.entries.push_back(std::move(e));
  }
  raft::HardState hs = hs_;
  hs.term = term_;
  hs.vote = kCrashMemberId;
  // Commit trails the tail, so a rewrite never touches committed entries.
  if (first > 3) hs.commit = std::max(hs.commit, first - 3);
  b.hard_state = hs;
  if (Status s = store.save(b); !s) return s;
  hs_ = hs;
  *reported = Report{first, first + count - 1, term_, hs.commit};
  *was_reported = true;
  return Status::ok();
}

Status CrashWriter::after_batch(LogStore& store) {
  if (rng_() % 4 == 0) {
    const raft::Index c = store.last_index() > 3 ? store.last_index() - 3 : 0;
    if (Status s = store.save_commit(c); !s) return s;
    hs_.commit = std::max(hs_.commit, c);
  }
  if (rng_() % 16 == 0 && hs_.commit > store.snapshot_meta().index &&
      hs_.commit >= store.first_index()) {
    raft::Term t = 0;
    if (Status s = store.term(hs_.commit, &t); !s) return s;
    raft::Snapshot snap;
    snap.meta = {hs_.commit, t, {{kCrashMemberId}, {}, {}}};
    snap.data = "state-at-" + std::to_string(hs_.commit);
    if (Status s = store.save_local_snapshot(snap); !s) return s;
    if (Status s = store.compact(hs_.commit); !s) return s;
  }
  return Status::ok();
}

void Expected::apply(const Report& r) {
  log.erase(log.lower_bound(r.first), log.end());
  for (raft::Index i = r.first; i <= r.last; ++i) log[i] = r.term;
  min_term = std::max(min_term, r.term);
  min_commit = std::max(min_commit, r.commit);
}

std::string verify_store(LogStore& store, Expected* expected) {
  auto u = [](std::uint64_t v) { return std::to_string(v); };
  if (Status s = store.integrity_check(); !s) return "integrity_check: " + s.to_string();
  StartupState st;
  if (Status s = store.load_all(&st); !s) return "load_all: " + s.to_string();

  std::map<raft::Index, raft::Term> actual;
  for (std::size_t k = 0; k < st.entries.size(); ++k) {
    const raft::Entry& e = st.entries[k];
    if (e.index != st.entries.front().index + k) return "log not contiguous at " + u(e.index);
    if (e.data != crash_payload(e.index, e.term)) return "entry " + u(e.index) + " damaged";
    if (k > 0 && e.term < st.entries[k - 1].term) return "term decreases at " + u(e.index);
    actual[e.index] = e.term;
  }
  const raft::Index first = store.first_index();
  const raft::Index last = store.last_index();

  if (!expected->log.empty()) {
    const raft::Index exp_last = expected->log.rbegin()->first;
    const auto rewritten = actual.find(exp_last - 1);
    for (const auto& [idx, term] : expected->log) {
      if (idx < first) continue;  // compacted: covered by the snapshot
      const auto it = actual.find(idx);
      if (idx + 2 > exp_last) {
        // May have been rewritten by the batch in flight at the failure.
        const bool overwritten = rewritten != actual.end() && rewritten->second > term;
        if (it == actual.end() && !overwritten) return "reported entry " + u(idx) + " lost";
        if (it != actual.end() && it->second < term) {
          return "reported entry " + u(idx) + " has term " + u(it->second) + " < " + u(term);
        }
        if (it != actual.end() && it->second > term && !overwritten) {
          return "entry " + u(idx) + " changed term without a rewrite";
        }
      } else {
        if (it == actual.end()) return "reported entry " + u(idx) + " lost";
        if (it->second != term) {
          return "reported entry " + u(idx) + " has term " + u(it->second) + ", expected " +
                 u(term);
        }
      }
    }
    if (last + 1 < exp_last) return "reported entries after " + u(last) + " lost";
  }
  const raft::HardState hs = store.hard_state();
  if (hs.term < expected->min_term) {
    return "hard state term " + u(hs.term) + " older than reported " + u(expected->min_term);
  }
  if (hs.commit < expected->min_commit) {
    return "hard state commit " + u(hs.commit) + " older than reported " + u(expected->min_commit);
  }
  if (hs.commit > last) return "commit " + u(hs.commit) + " beyond last " + u(last);
  if (hs.commit < st.snapshot.index) return "commit below the snapshot";
  if (!st.entries.empty() && hs.term < st.entries.back().term) return "hard state term too low";
  if (expected->min_term > 0 && hs.vote != kCrashMemberId) return "vote lost";

  expected->log = std::move(actual);
  expected->min_term = hs.term;
  expected->min_commit = std::max(expected->min_commit, st.snapshot.index);
  return "";
}

}  // namespace raftmeta::storage::testing
