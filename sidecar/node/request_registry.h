// Requests waiting for the apply thread: proposals by (index, term) and reads
// by applied index.
//
// The Raft loop registers a proposal right after RawNode::propose() gave it
// (index, term), before the entry can possibly commit (the same thread takes
// the next Ready). The apply thread resolves it when it applies the entry at
// that index: same term -> the state machine's outcome; another term -> the
// entry was replaced by a new leader, ABORTED (never a false success).
//
// Reads wait for applied >= index. register_read() answers at once when the
// index is already applied; the check and the insertion happen under the same
// lock the apply thread takes after it published a new applied index, so no
// read is ever missed.
//
// The mutex is a leaf: callbacks are collected under it and run after it is
// released.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

#include "sidecar/node/node.h"

namespace raftmeta::node {

using ProposeCallback = std::function<void(ProposeReply)>;
// served == false: the node is shutting down and the read was not served.
using ReadCallback = std::function<void(bool served, raft::Index applied)>;

class RequestRegistry {
 public:
  explicit RequestRegistry(const std::atomic<raft::Index>* applied) : applied_(applied) {}

  void register_proposal(raft::Index index, raft::Term term, ProposeCallback done) {
    std::lock_guard<std::mutex> lock(mu_);
    proposals_.emplace(index, Pending{term, std::move(done)});
  }

  // Apply thread: the entry at `index` with `term` was applied with
  // `outcome`. Returns the callbacks to run (outside any lock).
  std::vector<std::function<void()>> resolve_applied(raft::Index index, raft::Term term,
                                                     const ApplyOutcome& outcome) {
    std::vector<std::function<void()>> out;
    std::lock_guard<std::mutex> lock(mu_);
    auto range = proposals_.equal_range(index);
    for (auto it = range.first; it != range.second; ++it) {
      ProposeReply reply;
      reply.index = index;
      if (it->second.term == term) {
        reply.outcome = outcome;
      } else {
        reply.status.code = kAborted;
        reply.status.message =
            "the proposal was replaced by another leader's entry and was not applied; retry";
      }
      out.push_back([cb = std::move(it->second.done), reply = std::move(reply)]() mutable {
        cb(std::move(reply));
      });
    }
    proposals_.erase(range.first, range.second);
    return out;
  }

  // Every proposal at or below `index` whose outcome is now unknown (a
  // snapshot replaced the log): answered with `status`.
  std::vector<std::function<void()>> fail_through(raft::Index index, RequestStatus status) {
    std::vector<std::function<void()>> out;
    std::lock_guard<std::mutex> lock(mu_);
    auto end = proposals_.upper_bound(index);
    for (auto it = proposals_.begin(); it != end; ++it) {
      ProposeReply reply;
      reply.status = status;
      reply.index = it->first;
      out.push_back([cb = std::move(it->second.done), reply = std::move(reply)]() mutable {
        cb(std::move(reply));
      });
    }
    proposals_.erase(proposals_.begin(), end);
    return out;
  }

  // Reads. `done` runs at once (on this thread) if applied >= index.
  void register_read(raft::Index index, ReadCallback done) {
    raft::Index applied;
    {
      std::lock_guard<std::mutex> lock(mu_);
      applied = applied_->load(std::memory_order_acquire);
      if (applied < index) {
        reads_.emplace(index, std::move(done));
        return;
      }
    }
    done(true, applied);
  }

  // Apply thread, after storing a new applied index.
  std::vector<std::function<void()>> resolve_reads() {
    std::vector<std::function<void()>> out;
    std::lock_guard<std::mutex> lock(mu_);
    const raft::Index applied = applied_->load(std::memory_order_acquire);
    auto end = reads_.upper_bound(applied);
    for (auto it = reads_.begin(); it != end; ++it) {
      out.push_back([cb = std::move(it->second), applied]() mutable { cb(true, applied); });
    }
    reads_.erase(reads_.begin(), end);
    return out;
  }

  // Shutdown: everything still waiting is answered with `status`.
  void fail_all(const RequestStatus& status) {
    std::multimap<raft::Index, Pending> proposals;
    std::multimap<raft::Index, ReadCallback> reads;
    {
      std::lock_guard<std::mutex> lock(mu_);
      proposals.swap(proposals_);
      reads.swap(reads_);
    }
    for (auto& [index, pending] : proposals) {
      ProposeReply reply;
      reply.status = status;
      reply.index = index;
      pending.done(std::move(reply));
    }
    for (auto& [index, done] : reads) done(false, 0);
  }

 private:
  struct Pending {
    raft::Term term;
    ProposeCallback done;
  };
  const std::atomic<raft::Index>* applied_;
  std::mutex mu_;
  std::multimap<raft::Index, Pending> proposals_;
  std::multimap<raft::Index, ReadCallback> reads_;
};

inline void run_all(std::vector<std::function<void()>>& callbacks) {
  for (auto& cb : callbacks) cb();
  callbacks.clear();
}

}  // namespace raftmeta::node
