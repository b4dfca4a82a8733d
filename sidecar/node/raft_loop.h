// RaftLoop: the "raft-loop" thread, the only thread that touches RawNode and
// its MemoryStorage cache (the core's view of what is durable).
//
// Each turn: stamp progress (and evaluate the raft-loop failpoint); drain the
// inbox (peer batches, proposals, read requests, admin ops, snapshots the
// apply thread took), waiting at most until the next tick; take the writes
// the storage writer finished (record them in the cache, report them to the
// core with on_persisted, send the messages that waited for them); tick;
// report the applied index; take each Ready, accept it and submit its
// snapshot/entries/hard state to the StorageWriter ("storage-writer" thread,
// which writes everything queued in one transaction), send its messages, hand
// committed entries to the apply queue (bounded by apply_queue_entries: the
// rest is kept for later turns, never dropped, and the loop keeps turning),
// register read states; publish the lease bound and a NodeStatus.
//
// It never applies entries, never writes the disk and never waits on another
// thread: the only wait is the inbox's (bounded by the next tick, cut short by
// a finished write). A leader whose apply loop or storage is stalled transfers
// leadership to a caught-up follower and stops serving lease reads; its Raft
// loop keeps turning to do so.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "sidecar/node/completion.h"
#include "sidecar/node/node_shared.h"
#include "sidecar/node/storage_writer.h"
#include "sidecar/raft/log_storage.h"
#include "sidecar/raft/raw_node.h"
#include "sidecar/storage/log_store.h"

namespace raftmeta::node {

class RaftLoop : public std::enable_shared_from_this<RaftLoop> {
 public:
  // Takes over an opened store, the cache filled from it and a core created
  // over that cache. `peers` are the known members' peer addresses.
  RaftLoop(std::shared_ptr<NodeShared> shared, std::unique_ptr<storage::LogStore> store,
           std::unique_ptr<raft::MemoryStorage> cache, std::unique_ptr<raft::RawNode> raw,
           std::map<raft::NodeId, std::string> peers, raft::Index applied_at_start);
  ~RaftLoop();

  void start();
  // Stops the thread (after its current turn) by `deadline`; false if it did
  // not (then it is detached and keeps this object alive).
  bool stop(Deadline deadline);

 private:
  void run();
  void turn();
  void handle(LoopItem& item);
  void handle_batch(MessageBatch& batch);
  void handle_propose(ProposeItem& item);
  void handle_admin(AdminItem& item);
  void handle_snapshot_taken(SnapshotTakenItem& item);
  void start_read_index();
  void handle_ready();
  void complete_writes();
  void finish_local_snapshot(const raft::Snapshot& snapshot, const AdminCallback& done);
  void restore_from(const raft::Snapshot& snapshot);
  void send(std::vector<raft::Message>& messages);
  void hand_over_committed();
  void learn_peer(raft::NodeId id, const std::string& address);
  void forget_peer(raft::NodeId id);
  void note_committed_conf_change(const raft::Entry& entry);
  void update_lease(const raft::Status& status);
  void check_step_aside(const raft::Status& status);
  void check_snapshot_answers(const raft::Status& status);
  void publish_status(const raft::Status& status);
  void forward(ForwardRequest request, Deadline deadline,
               std::function<void(ForwardResponse)> done);
  RequestStatus unavailable(std::string message, raft::NodeId leader_hint) const;

  std::shared_ptr<NodeShared> shared_;
  // Everything below is owned by the raft-loop thread.
  std::unique_ptr<StorageWriter> writer_;  // owns the LogStore
  // Submitted writes in submission order, with what happens once each is
  // durable.
  struct InFlightWrite {
    std::uint64_t seq = 0;
    std::shared_ptr<const raft::Snapshot> snapshot;  // received, or local
    std::shared_ptr<const std::vector<raft::Entry>> entries;
    std::optional<raft::HardState> hard_state;
    std::vector<raft::Message> persisted_messages;
    bool local_snapshot = false;
    AdminCallback done;  // local snapshot only; may be empty
  };
  std::deque<InFlightWrite> in_flight_;
  raft::Index local_snapshot_submitted_ = 0;
  std::unique_ptr<raft::MemoryStorage> cache_;
  std::unique_ptr<raft::RawNode> raw_;
  std::map<raft::NodeId, std::string> peers_;             // peer addresses
  std::map<raft::NodeId, std::string> client_addresses_;  // learned from traffic
  std::map<raft::NodeId, std::int64_t> last_contact_ns_;
  // Leader: since when each follower in snapshot state has waited (monotonic
  // ns; moved on by chunks going out), see check_snapshot_answers.
  std::map<raft::NodeId, std::int64_t> snapshot_wait_since_ns_;
  raft::SoftState soft_;
  raft::Term lease_term_ = 0;
  // Heartbeat rounds started in this term and when their Ready was taken.
  std::deque<std::pair<std::uint64_t, std::int64_t>> rounds_;
  // Committed entries not yet handed to the apply loop (backpressure).
  std::deque<raft::Entry> committed_backlog_;
  raft::Index handed_over_ = 0;  // highest index given to the apply loop
  raft::Index reported_applied_ = 0;
  // Linearizable reads gathered this turn, and those sent with a context.
  std::vector<ReadIndexItem> reads_this_turn_;
  struct PendingReads {
    std::vector<ReadIndexItem> reads;
    std::int64_t started_ns = 0;
  };
  std::map<std::string, PendingReads> pending_reads_;
  std::uint64_t read_seq_ = 0;
  bool stepping_aside_ = false;
  raft::Term stepped_aside_term_ = 0;
  bool fatal_ = false;
  std::int64_t next_tick_ns_ = 0;

  std::atomic<bool> stop_requested_{false};
  Completion<bool> finished_;
  std::thread thread_;
};

}  // namespace raftmeta::node
