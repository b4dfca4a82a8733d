// RawNode: the Ready contract around Raft (see raw_node.h).
#include "sidecar/raft/raw_node.h"

#include <limits>

#include "sidecar/raft/raft.h"

namespace raftmeta::raft {
namespace {

// Committed entries handed out per Ready (bytes of data, at least one entry).
constexpr std::uint64_t kMaxCommittedBytesPerReady = 64ull << 20;

}  // namespace

std::unique_ptr<RawNode> RawNode::create(const Config& config, LogStorage* storage,
                                         std::string* error) {
  if (storage == nullptr) {
    if (error) *error = "no storage";
    return nullptr;
  }
  auto raft = std::make_unique<Raft>(config, storage);
  if (!raft->restore(error)) return nullptr;
  return std::unique_ptr<RawNode>(new RawNode(std::move(raft)));
}

RawNode::RawNode(std::unique_ptr<Raft> raft) : raft_(std::move(raft)) {}
RawNode::~RawNode() = default;

void RawNode::tick() { raft_->tick(); }
bool RawNode::step(const Message& message) { return raft_->step(message); }
void RawNode::campaign() { raft_->campaign(); }
ProposeResult RawNode::propose(std::string data) { return raft_->propose(std::move(data)); }
ProposeResult RawNode::propose_conf_change(const ConfChange& change) {
  return raft_->propose_conf_change(change);
}
void RawNode::read_index(std::string context) { raft_->read_index(std::move(context)); }
bool RawNode::transfer_leader(NodeId to, std::string* reason) {
  return raft_->transfer_leader(to, reason);
}
void RawNode::report_unreachable(NodeId peer) { raft_->report_unreachable(peer); }
void RawNode::report_snapshot(NodeId peer, bool ok) { raft_->report_snapshot(peer, ok); }

bool RawNode::has_ready() const {
  const Raft& r = *raft_;
  return r.soft_state() != r.accepted_soft_state || r.hard_state() != r.accepted_hard_state ||
         r.log().unstable().has_next() || r.log().has_next_committed() || r.has_outputs();
}

Ready RawNode::ready() {
  Raft& r = *raft_;
  // A read registered since the last Ready needs a heartbeat round that starts
  // after it; starting it here batches all such reads into one round.
  r.start_round_if_needed();
  Ready rd;
  const SoftState ss = r.soft_state();
  if (ss != r.accepted_soft_state) rd.soft_state = ss;
  const HardState hs = r.hard_state();
  if (hs != r.accepted_hard_state) {
    rd.hard_state = hs;
    if (hs.term != r.accepted_hard_state.term || hs.vote != r.accepted_hard_state.vote) {
      rd.must_sync = true;
    }
  }
  if (const Snapshot* snap = r.log().unstable().next_snapshot()) {
    rd.snapshot = *snap;
    rd.must_sync = true;
  }
  rd.entries = r.log().unstable().next_entries();
  if (!rd.entries.empty()) rd.must_sync = true;
  rd.committed_entries = r.log().next_committed(kMaxCommittedBytesPerReady);
  rd.messages = r.take_messages();
  rd.persisted_messages = r.take_persisted_messages();
  rd.read_states = r.take_read_states();
  rd.read_failures = r.take_read_failures();
  rd.heartbeat_round = r.take_heartbeat_round();
  return rd;
}

void RawNode::accept(const Ready& rd) {
  Raft& r = *raft_;
  if (rd.soft_state) r.accepted_soft_state = *rd.soft_state;
  if (rd.hard_state) r.accepted_hard_state = *rd.hard_state;
  r.log().unstable().accept_in_progress(rd.entries.empty() ? 0 : rd.entries.back().index,
                                        rd.snapshot.has_value());
  if (!rd.committed_entries.empty()) {
    r.log().accept_applying(rd.committed_entries.back().index);
    r.accept_committed(rd.committed_entries);
  }
}

void RawNode::on_persisted(Index index, Term term) { raft_->on_persisted(index, term); }

void RawNode::on_applied(Index index) { raft_->on_applied(index); }

void RawNode::advance(const Ready& rd) {
  accept(rd);
  if (!rd.entries.empty()) {
    on_persisted(rd.entries.back().index, rd.entries.back().term);
  } else if (rd.snapshot) {
    on_persisted(rd.snapshot->meta.index, rd.snapshot->meta.term);
  }
  if (!rd.committed_entries.empty()) on_applied(rd.committed_entries.back().index);
}

Status RawNode::status() const { return raft_->status(); }

}  // namespace raftmeta::raft
