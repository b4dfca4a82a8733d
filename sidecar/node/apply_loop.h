// ApplyLoop: the "apply-loop" thread. Applies committed entries handed over
// by the Raft loop, in order, through the Applier; publishes once per batch;
// completes proposals by (index, term) and reads by applied index; takes
// state-machine snapshots every snapshot_entries and hands them to the Raft
// loop; restores InstallSnapshot data.
//
// It is the only caller of the Applier. It never calls RawNode or storage and
// never waits on another thread except for its own queue (with a timeout, so
// its progress stamp keeps moving while idle). It tracks the membership (and
// peer addresses) as of the applied index so its snapshots carry them.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <thread>

#include "sidecar/node/applier.h"
#include "sidecar/node/completion.h"
#include "sidecar/node/node_shared.h"
#include "sidecar/raft/types.h"

namespace raftmeta::node {

class ApplyLoop : public std::enable_shared_from_this<ApplyLoop> {
 public:
  // `applied`, `conf` and `peers` describe what the Applier already holds
  // (restored from the stored snapshot by Node::start).
  ApplyLoop(std::shared_ptr<NodeShared> shared, std::shared_ptr<Applier> applier,
            raft::Index applied, raft::Term applied_term, raft::ConfState conf,
            std::map<raft::NodeId, std::string> peers);
  ~ApplyLoop();

  void start();
  // The thread holds a shared_ptr to this object, so a thread that cannot be
  // joined by a deadline is detached safely.
  // Stops after the items queued so far are applied or at `deadline`.
  // Returns false if the thread did not finish by then (it is then detached
  // and keeps this object alive).
  bool stop(Deadline deadline);

 private:
  void run();
  void apply_entries(std::vector<raft::Entry>& entries);
  void restore(const raft::Snapshot& snapshot);
  void take_snapshot(AdminCallback done);
  void apply_conf_change(const raft::Entry& entry);
  // Planted bug only (raftmeta-node-planted): see apply_loop.cpp.
  void apply_first_batch_again(const std::vector<raft::Entry>& entries);
  void publish_applied(raft::Index index);

  std::shared_ptr<NodeShared> shared_;
  std::shared_ptr<Applier> applier_;
  // Owned by the apply thread.
  raft::Index applied_ = 0;
  raft::Term applied_term_ = 0;
  raft::Index last_snapshot_index_ = 0;
  raft::ConfState conf_;
  std::map<raft::NodeId, std::string> peers_;

  std::atomic<bool> stop_requested_{false};
  Completion<bool> finished_;
  std::thread thread_;
};

// Applies one membership change to a ConfState (the same rules the core
// follows), returning false if it does not apply.
bool apply_conf_change_to(raft::ConfState* conf, const raft::ConfChange& change);

}  // namespace raftmeta::node
