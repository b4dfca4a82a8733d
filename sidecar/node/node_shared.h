// NodeShared: what the Node facade, the Raft loop and the apply thread share.
//
// Ownership of every field is stated beside it. Cross-thread state is either
// an atomic (one writer, any reader), a leaf-locked queue/registry (held only
// to move items, never while calling another component), or an immutable
// object published through an atomic shared_ptr.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <variant>
#include <vector>

#include "sidecar/health/progress.h"
#include "sidecar/node/bounded_inbox.h"
#include "sidecar/node/node.h"
#include "sidecar/node/request_registry.h"
#include "sidecar/node/transport.h"
#include "sidecar/raft/types.h"

namespace raftmeta::node {

using AdminCallback = std::function<void(AdminReply)>;
using ReadBarrierCallback = std::function<void(ReadBarrierReply)>;

// ---- Items for the Raft loop's inbox (any thread -> raft-loop) ----
struct PeerBatchItem {
  MessageBatch batch;
};
struct ProposeItem {
  std::string command;
  Deadline deadline;
  bool forwarded = false;  // came from a follower: never forwarded again
  ProposeCallback done;
};
struct ReadIndexItem {
  Deadline deadline;
  ReadBarrierCallback done;
};
struct AdminItem {
  ForwardRequest::Kind kind = ForwardRequest::Kind::kTransferLeader;
  raft::NodeId target = raft::kNoNode;
  std::string peer_address;
  Deadline deadline;
  bool forwarded = false;
  AdminCallback done;
};
// apply-loop -> raft-loop: a state-machine snapshot to store and compact to.
struct SnapshotTakenItem {
  raft::Snapshot snapshot;
  AdminCallback done;  // may be empty (automatic snapshot)
};
// Node::take_snapshot -> raft-loop -> apply-loop (ordered after the entries
// already handed over).
struct TakeSnapshotItem {
  AdminCallback done;
};
using LoopItem = std::variant<PeerBatchItem, ProposeItem, ReadIndexItem, AdminItem,
                              SnapshotTakenItem, TakeSnapshotItem>;

// ---- Items for the apply queue (raft-loop -> apply-loop) ----
struct ApplyEntriesItem {
  std::vector<raft::Entry> entries;
};
struct RestoreItem {
  raft::Snapshot snapshot;
};
using ApplyItem = std::variant<ApplyEntriesItem, RestoreItem, TakeSnapshotItem>;

struct NodeShared {
  NodeShared(NodeOptions opts, Transport* t, NodeHealth h)
      : options(std::move(opts)),
        transport(t),
        health(h),
        registry(&applied),
        inbox(options.inbox_capacity),
        // The Raft loop bounds what it hands over by entries; this capacity
        // only bounds the number of batches and is never the limiting factor.
        apply_queue(1u << 20) {
    if (health.progress == nullptr) health.progress = &own_progress;
  }

  const NodeOptions options;
  Transport* const transport;
  NodeHealth health;
  health::ProgressStamps own_progress;  // used when the caller gave none

  // apply-loop writes; anyone reads.
  std::atomic<raft::Index> applied{0};
  // raft-loop writes; anyone reads.
  std::atomic<raft::Index> commit{0};
  // raft-loop writes: monotonic ns until which a lease read may be served
  // (0: no lease: not leader, transferring, stepping aside, ...).
  std::atomic<std::int64_t> lease_until_ns{0};
  // Published status: std::atomic_load / std::atomic_store only (libstdc++'s
  // std::atomic<shared_ptr> hides its lock bit from ThreadSanitizer).
  std::shared_ptr<const NodeStatus> status;
  std::atomic<bool> stopping{false};

  RequestRegistry registry;
  BoundedInbox<LoopItem> inbox;
  BoundedInbox<ApplyItem> apply_queue;

#ifdef RAFTMETA_PLANT_INCIDENT_LOCK
  // THE PLANTED INCIDENT (test builds only, see node.cpp and apply_loop.cpp):
  // a lock around the status (the old "Raft lock") and one around the state
  // machine (its read/write lock), taken in opposite orders by the apply
  // thread and by a read handler, exactly as in the original freeze.
  std::mutex incident_status_lock;
  std::mutex incident_state_lock;
#endif
};

}  // namespace raftmeta::node
