// raftmeta's Raft core: a pure, deterministic state machine in the style of
// etcd's raft library (RawNode).
//
// No threads, no I/O, no clock, no unseeded randomness: time is tick(), input
// is step()/propose()/read_index()/transfer_leader(), output is a Ready. Given
// the same Config (seed included) and the same calls, it does the same thing.
//
// THE READY CONTRACT. When has_ready(), the caller takes ready() and must:
//   1. persist ready.snapshot (if any), ready.entries (appending at index i
//      discards stored entries at i and above) and ready.hard_state (if set),
//      then record them in the LogStorage the core reads;
//   2. send ready.messages (these may go out before step 1 finishes: they are
//      the leader's appends and heartbeats, which a leader may send while it
//      persists the same entries in parallel, Raft thesis §10.2.1);
//   3. only after step 1 is durable, send ready.persisted_messages (votes and
//      append responses: they promise something about this member's disk);
//   4. apply ready.committed_entries in order (they are already durable
//      locally), answer ready.read_states once applied >= their index;
//   5. report progress.
// Synchronous callers do all of that and then call advance(ready).
// Asynchronous callers (a separate storage writer, a separate apply thread)
// call accept(ready) as soon as they have taken it, then on_persisted() when
// the writer has made it durable and on_applied() as the apply thread
// advances. advance(r) == accept(r); on_persisted(last of r); on_applied(last
// committed of r). A new Ready may be taken after accept() even while earlier
// ones are still being persisted or applied; entries are never handed out
// twice and committed entries never run ahead of what on_persisted() reported.
//
// Membership changes take effect when applied (as in etcd): the core applies a
// ConfChange entry itself when on_applied()/advance() passes its index. At most
// one change is pending, one voter at a time; removed ids are refused forever.
//
// Lease reads: the core has no clock. Each heartbeat round the leader starts
// has a number (Ready::heartbeat_round when a round started in that Ready);
// Status::lease_round is the newest round acknowledged by a quorum in the
// current term. A caller that noted its monotonic time when it took the Ready
// of round r may serve a lease read until that time + election timeout − the
// configured clock-drift bound, provided Status::lease_round >= r, the leader
// has committed an entry of its term, no transfer is in flight, and it waits
// until applied >= commit at the moment of the read. Followers refuse votes
// for an election timeout after hearing from a leader (CheckQuorum), which is
// what makes that safe.
//
// Thread safety: none. REQUIRES external synchronization; in the node only the
// Raft loop thread calls it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sidecar/raft/log_storage.h"
#include "sidecar/raft/message.h"
#include "sidecar/raft/types.h"

namespace raftmeta::raft {

struct Config {
  NodeId id = kNoNode;
  int election_tick = 10;  // ticks without a leader's word before campaigning
  // Ticks between a leader's heartbeats. Also the pace of resending an append
  // a live member did not answer: once per heartbeat tick, although reads
  // start heartbeat rounds more often.
  int heartbeat_tick = 1;
  std::uint64_t seed = 1;  // randomized election timeout in [election, 2*election)
  bool pre_vote = true;
  bool check_quorum = true;
  // Lease reads are offered only with check_quorum and a drift bound below the
  // election timeout; the bound itself is the caller's business (see above).
  bool lease_reads = true;
  std::uint64_t max_size_per_msg = 1 << 20;           // bytes of entries per append
  std::size_t max_inflight_msgs = 256;                // appends in flight per peer
  std::uint64_t max_inflight_bytes = 32ull << 20;     // bytes in flight per peer
  std::uint64_t max_uncommitted_bytes = 64ull << 20;  // leader: refuse beyond
  // Highest index the application has already applied (on restart).
  Index applied = 0;
};

enum class Role : std::uint8_t { kFollower, kPreCandidate, kCandidate, kLeader, kLearner };
std::string_view to_string(Role role);

enum class ProposeStatus : std::uint8_t {
  kOk = 0,
  kNotLeader,     // leader_hint says who is (kNoNode if unknown)
  kDropped,       // flow control: uncommitted bytes over the limit; retry later
  kTransferring,  // a leader transfer is in flight
  kConfPending,   // propose_conf_change: another change is not yet applied
  kInvalid,       // propose_conf_change: refused by the configuration rules
};
std::string_view to_string(ProposeStatus status);

struct ProposeResult {
  ProposeStatus status = ProposeStatus::kOk;
  NodeId leader_hint = kNoNode;
  Index index = 0;     // kOk: the index the entry got
  Term term = 0;       // kOk: the term it got; it commits as (index, term) or not at all
  std::string reason;  // human-readable, for kInvalid/kConfPending
};

struct ReadState {
  Index index = 0;      // linearizable once applied >= index
  std::string context;  // as given to read_index()
  bool operator==(const ReadState&) const = default;
};

// A read_index() request that could not be served (no leader, leader has not
// committed in its term yet and cannot, transfer in flight, etc.).
struct ReadFailure {
  std::string context;
  NodeId leader_hint = kNoNode;
};

struct SoftState {
  Role role = Role::kFollower;
  NodeId leader = kNoNode;
  bool operator==(const SoftState&) const = default;
};

struct Ready {
  std::optional<SoftState> soft_state;      // set when role or leader changed
  std::optional<HardState> hard_state;      // set when it must be persisted
  std::vector<Entry> entries;               // to persist (append)
  std::optional<Snapshot> snapshot;         // to persist and restore
  std::vector<Message> messages;            // may go before persistence
  std::vector<Message> persisted_messages;  // only after persistence
  std::vector<Entry> committed_entries;     // to apply, in order
  std::vector<ReadState> read_states;
  std::vector<ReadFailure> read_failures;
  std::uint64_t heartbeat_round = 0;  // nonzero: a heartbeat round started
  bool must_sync = false;  // entries, vote or term changed (commit-only changes need no fsync)
};

struct PeerProgress {
  NodeId id = kNoNode;
  bool voter = true;
  Index match = 0;
  Index next = 0;
  std::string state;  // "probe", "replicate", "snapshot"
  bool recent_active = false;
  std::size_t inflight = 0;
};

struct Status {
  NodeId id = kNoNode;
  Role role = Role::kFollower;
  Term term = 0;
  NodeId vote = kNoNode;
  NodeId leader = kNoNode;
  Index commit = 0;
  Index applied = 0;
  Index persisted = 0;  // highest index the caller reported durable
  Index last_index = 0;
  Index first_index = 0;
  NodeId lead_transferee = kNoNode;
  bool committed_in_term = false;  // leader: an entry of its term is committed
  std::uint64_t lease_round = 0;   // leader: newest heartbeat round a quorum acked
  ConfState conf;
  bool conf_change_pending = false;
  std::vector<PeerProgress> progress;  // leader only, excluding itself
};

class Raft;  // the implementation (raft.h)

class RawNode {
 public:
  // Restores from storage (hard state, snapshot, log). Returns nullptr and sets
  // *error when the stored state is inconsistent or the config is invalid.
  static std::unique_ptr<RawNode> create(const Config& config, LogStorage* storage,
                                         std::string* error);
  ~RawNode();
  RawNode(const RawNode&) = delete;
  RawNode& operator=(const RawNode&) = delete;

  void tick();
  // Feeds a message from a peer. Messages that are malformed, from unknown or
  // removed ids, or from the past are ignored (never a crash, never a broken
  // invariant). Returns false if ignored.
  bool step(const Message& message);
  // Starts an election now (tests and leader transfer use it).
  void campaign();

  ProposeResult propose(std::string data);
  ProposeResult propose_conf_change(const ConfChange& change);
  // The answer comes back in a later Ready: read_states or read_failures.
  void read_index(std::string context);
  // Transfers leadership to `to` (kNoNode: the most caught-up voter). Only on
  // the leader; refused (returns false with *reason) while one is in flight.
  bool transfer_leader(NodeId to, std::string* reason);

  void report_unreachable(NodeId peer);
  void report_snapshot(NodeId peer, bool ok);

  bool has_ready() const;
  Ready ready();
  void accept(const Ready& ready);
  void on_persisted(Index index, Term term);
  void on_applied(Index index);
  void advance(const Ready& ready);

  Status status() const;

 private:
  explicit RawNode(std::unique_ptr<Raft> raft);
  std::unique_ptr<Raft> raft_;
};

}  // namespace raftmeta::raft
