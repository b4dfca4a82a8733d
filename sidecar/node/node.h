// raftmeta-node's runtime facade: what the gRPC services and main() use.
//
// A Node runs three kinds of threads and nothing else touches the Raft core:
//   * "raft-loop" (RaftLoop): the only thread that calls RawNode. Each turn it
//     drains its bounded inbox (peer batches, proposals, read requests, admin
//     ops, snapshots from the apply thread), ticks, takes the Ready, persists
//     entries + hard state in one LogStore transaction, sends messages, hands
//     committed entries to the apply queue and publishes a NodeStatus.
//   * "apply-loop" (ApplyLoop): applies committed entries through the Applier,
//     publishes once per batch, completes proposals by (index, term) and reads
//     by applied index, takes state-machine snapshots.
//   * request handler threads (gRPC's): call the methods below. They enqueue a
//     request and either wait for its answer on a per-request completion,
//     always with a deadline, or (the *_async forms) return at once and get
//     the answer through a callback; they never take a lock that a loop
//     holds while calling into another component, and status() is one
//     std::atomic_load of a published immutable NodeStatus (it never waits
//     on a loop).
//   * "deadline-timer" (DeadlineTimer): answers asynchronous requests whose
//     deadline passed before a loop answered them.
//   * "leader-duty" (only with NodeOptions::leader_command): while leading,
//     proposes the periodic command it returns (broker fencing).
//
// IDENTITY AND START-UP: the LogStore checks cluster id and member id on every
// start. With an empty data dir, initial_members bootstraps a new cluster
// (every member writes the same snapshot at index 1, term 1 with the initial
// voters and the empty state, so revision 1 is the empty state); join starts
// empty and waits to be added; with neither, an empty data dir is refused.
// A directory that already holds data restarts from it and initial_members is
// ignored: a member never bootstraps a second cluster.
//
// THREAD SAFETY: every public method of Node is safe for concurrent use from
// any number of threads, except that shutdown() must be called once, and the
// Node must outlive every call in flight.
//
// WRITES ON FOLLOWERS are forwarded internally: a follower sends the command to
// the leader over the peer transport (Transport::forward) and returns the
// leader's answer. A client only sees UNAVAILABLE (with the leader's client
// address when known) when no leader is reachable before the deadline.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sidecar/health/progress.h"
#include "sidecar/node/applier.h"
#include "sidecar/node/transport.h"
#include "sidecar/raft/raw_node.h"
#include "sidecar/raft/types.h"

namespace raftmeta::health {
class FailpointRegistry;
struct NodeMetrics;
}  // namespace raftmeta::health

namespace raftmeta::node {

using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;

struct NodeOptions {
  raft::NodeId id = raft::kNoNode;
  std::string cluster_id;  // stamped in storage on first start, checked after
  std::string data_dir;    // the LogStore lives here
  // This member's advertised addresses: peers reach its Raft service at
  // peer_address; clients are told client_address when it is the leader.
  std::string peer_address;
  std::string client_address;
  // First start of a new cluster: every voter's id -> peer address (this
  // member included). Only honoured with an empty data dir.
  std::map<raft::NodeId, std::string> initial_members;
  // Start empty and wait to be added by a member (never adds itself).
  bool join = false;

  int heartbeat_ms = 100;
  int election_ms = 1000;
  // Lease reads end this much before the lease nominally would (clock drift).
  int lease_drift_ms = 100;
  int loop_stall_ms = 5000;
  int apply_stall_ms = 10000;
  int storage_stall_ms = 10000;
  // Take a state-machine snapshot (and compact the log) every this many
  // applied entries; 0 = never automatically.
  std::uint64_t snapshot_entries = 10000;
  // Entries kept behind a snapshot for slow followers before compaction.
  std::uint64_t compaction_margin = 1000;
  int shutdown_timeout_ms = 10000;
  std::size_t max_request_bytes = 4u << 20;
  bool enable_failpoints = false;

  // Bounds. Inbox: items the raft loop accepts before refusing (UNAVAILABLE)
  // new requests; apply queue: committed entries handed over but not yet
  // applied; the leader refuses proposals with a retryable error while
  // commit - applied exceeds max_apply_lag.
  std::size_t inbox_capacity = 16384;
  std::size_t apply_queue_entries = 4096;
  std::uint64_t max_apply_lag = 8192;
  // Leader duties (broker fencing): while this member leads, every
  // fence_interval_ms a "leader-duty" thread calls leader_command(now_ms, wall
  // clock) and proposes what it returns (nothing when empty). main() wires it
  // to the state machine: make_fence_command(expired_brokers(*current(), now),
  // now). It runs on that thread only, must not block and may only read
  // published state. 0 or an empty function: never.
  int fence_interval_ms = 1000;
  std::function<std::string(std::int64_t now_ms)> leader_command;
  // A write forwarded by a follower is stamped with the follower's wall
  // clock; the member that receives it calls this (on a transport thread,
  // before the command enters its Raft loop) to stamp it with its own clock,
  // so session decisions (broker heartbeats and fencing) use the leader's
  // clock only. Returns false to leave a command it cannot parse unchanged.
  // Must not block. Empty: commands are proposed as forwarded.
  std::function<bool(std::string* command, std::int64_t now_ms)> restamp_forwarded;
  // Seed for the core's randomized election timeout (0: a random seed on
  // every start; set it only for reproducible tests).
  std::uint64_t seed = 0;
};

// Answers use gRPC status code numbers so services return them directly.
enum StatusCode : int {
  kOk = 0,
  kCancelled = 1,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kFailedPrecondition = 9,
  kAborted = 10,  // the entry was replaced by a new leader: not applied
  kResourceExhausted = 8,
  kUnavailable = 14,  // no leader / not leader / shutting down: retry elsewhere
  kInternal = 13,
};

struct RequestStatus {
  int code = kOk;
  std::string message;
  // Set on UNAVAILABLE when the leader is known.
  raft::NodeId leader_id = raft::kNoNode;
  std::string leader_client_address;
  bool ok() const { return code == kOk; }
};

struct ProposeReply {
  RequestStatus status;   // transport-level outcome (OK means applied)
  ApplyOutcome outcome;   // the state machine's answer when status.ok()
  raft::Index index = 0;  // where the command was applied
};

enum class Consistency { kLinearizable, kLease, kStale };

struct ReadBarrierReply {
  RequestStatus status;
  // On OK: the state machine's published state is at least this revision
  // (applied index); serve the read from it.
  raft::Index revision = 0;
};

struct MemberStatus {
  raft::NodeId id = raft::kNoNode;
  std::string peer_address;
  std::string client_address;  // learned from its peer traffic; may be empty
  bool voter = true;
  // Leader's view (0 / empty elsewhere).
  raft::Index match = 0;
  raft::Index next = 0;
  std::string progress_state;        // "probe", "replicate", "snapshot"
  std::int64_t last_contact_ns = 0;  // monotonic ns of its last message, 0 = never
  bool recent_active = false;
};

// Published by the raft loop after every turn that changed something (and at
// least every heartbeat); never mutated after publication.
struct NodeStatus {
  raft::NodeId id = raft::kNoNode;
  std::string cluster_id;
  raft::Role role = raft::Role::kFollower;
  raft::Term term = 0;
  raft::NodeId leader_id = raft::kNoNode;
  std::string leader_client_address;
  raft::Index commit = 0;
  raft::Index applied = 0;
  raft::Index last_index = 0;
  raft::Index snapshot_index = 0;
  raft::NodeId transferring_to = raft::kNoNode;
  bool lease_valid = false;           // at publication time
  bool stepping_aside = false;        // leader saw its apply loop or storage stall
  bool started = false;               // storage open and log replayed
  std::vector<MemberStatus> members;  // voters and learners
  std::int64_t published_ns = 0;
};

struct AdminReply {
  RequestStatus status;
  std::string detail;  // e.g. the snapshot index taken
};

// Health hooks; every pointer may be null except progress.
struct NodeHealth {
  health::ProgressStamps* progress = nullptr;
  health::FailpointRegistry* failpoints = nullptr;
  health::NodeMetrics* metrics = nullptr;
};

class RaftLoop;
class ApplyLoop;
class DeadlineTimer;
struct NodeShared;

class Node {
 public:
  // Opens storage in options.data_dir (checking cluster id and member id),
  // bootstraps from initial_members when the directory is empty and join is
  // false, replays, and starts the threads. The applier must be fresh (empty)
  // and is owned by the Node's apply thread from now on (services may still
  // read its published state). The transport must outlive the Node.
  // Returns nullptr with *error on any failure.
  static std::unique_ptr<Node> start(NodeOptions options, std::shared_ptr<Applier> applier,
                                     Transport* transport, NodeHealth health, std::string* error);
  ~Node();  // shutdown() with the configured timeout if not done yet
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Replicates and applies `command` (an encoded state-machine command).
  // Blocks the caller until applied, refused, or `deadline` (then
  // DEADLINE_EXCEEDED, or UNAVAILABLE with the leader hint when no leader
  // took it). Oversized commands: INVALID_ARGUMENT; overload:
  // RESOURCE_EXHAUSTED (retryable). An entry replaced by a new leader answers
  // ABORTED, never OK.
  ProposeReply propose(std::string command, Deadline deadline);

  // Returns when this member may serve a read at `level`:
  //  linearizable: ReadIndex through the leader, then applied >= read index;
  //  lease: leader only, lease valid on the monotonic clock, no transfer in
  //         flight, and applied >= commit; else UNAVAILABLE with leader hint;
  //  stale: immediately, with the current applied revision.
  ReadBarrierReply read_barrier(Consistency level, Deadline deadline);

  // ASYNCHRONOUS FORMS: the same contracts as propose() and read_barrier(),
  // but no thread waits: `done` runs exactly once with the answer, at the
  // latest shortly after `deadline` (then DEADLINE_EXCEEDED), or at once
  // with UNAVAILABLE after shutdown().
  //
  // Which thread runs `done`: the caller's own thread (refused at once:
  // oversized, inbox full, stale reads, lease reads already applied),
  // "apply-loop" (the proposal was applied, or the read's index was reached),
  // "raft-loop" (refused there: not leader, overloaded, deadline passed in the
  // queue; linearizable reads whose index was already applied, or failed),
  // a transport thread (a follower's forwarded write came back),
  // "deadline-timer" (the deadline won), or the thread calling shutdown().
  // So `done` must be cheap, must not block, and must not take a lock that
  // any thread holds while it calls into this Node (that cycle was the
  // original freeze). It may call back into the Node (e.g. propose_async
  // after a read barrier).
  using ProposeDone = std::function<void(ProposeReply)>;
  using ReadBarrierDone = std::function<void(ReadBarrierReply)>;
  void propose_async(std::string command, Deadline deadline, ProposeDone done);
  void read_barrier_async(Consistency level, Deadline deadline, ReadBarrierDone done);

  // The latest published status (one atomic pointer load; never waits on a
  // loop). Never null.
  std::shared_ptr<const NodeStatus> status() const;

  // InstallSnapshot transfers the transport reports (sent and received
  // bytes per peer); takes only the transport's leaf locks.
  std::vector<SnapshotTransfer> snapshot_transfers() const;

  // Membership and leadership. On a follower they are forwarded to the
  // leader. Each answers by `deadline`.
  AdminReply add_learner(raft::NodeId id, std::string peer_address, Deadline deadline);
  // Refused (FAILED_PRECONDITION with a reason) until the learner's match is
  // within a small lag of the leader's last index.
  AdminReply promote(raft::NodeId id, Deadline deadline);
  AdminReply remove(raft::NodeId id, Deadline deadline);
  // to == kNoNode: the most caught-up voter.
  AdminReply transfer_leader(raft::NodeId to, Deadline deadline);
  AdminReply take_snapshot(Deadline deadline);

  // Graceful stop: a leader transfers leadership first (bounded), in-flight
  // applies finish, threads stop, storage closes. Returns false (with the
  // reason logged) if the deadline passed and it stopped anyway.
  bool shutdown(Deadline deadline);

 private:
  Node();
  std::shared_ptr<NodeShared> shared_;
  void run_leader_duties();

  std::shared_ptr<ApplyLoop> apply_loop_;
  std::shared_ptr<RaftLoop> raft_loop_;
  std::thread leader_duties_;
  std::mutex duties_mu_;  // leaf: guards duties_stop_ for duties_cv_
  std::condition_variable duties_cv_;
  bool duties_stop_ = false;
  class Handler;
  std::unique_ptr<Handler> handler_;
  bool stopped_ = false;
  // Answers asynchronous requests whose deadline passed (its own thread).
  // Declared last: destroyed first, while shared_ still exists.
  std::unique_ptr<DeadlineTimer> deadlines_;
};

}  // namespace raftmeta::node
