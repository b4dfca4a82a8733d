#include "sidecar/node/server/leadership_log.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include "sidecar/node/server/node_health_view.h"

namespace raftmeta::node::server {
namespace {

std::string members_of(const NodeStatus& s) {
  std::string out;
  for (const MemberStatus& m : s.members) {
    if (!out.empty()) out += ", ";
    out += std::to_string(m.id) + (m.voter ? "" : " (learner)");
  }
  return out;
}

}  // namespace

std::string describe_change(const NodeStatus* before, const NodeStatus& after) {
  std::string line;
  const bool role_changed = before == nullptr || before->role != after.role;
  const bool leader_changed = before == nullptr || before->leader_id != after.leader_id;
  const bool term_changed = before == nullptr || before->term != after.term;
  if (role_changed || leader_changed || term_changed) {
    if (after.role == raft::Role::kLeader) {
      line = "became leader of term " + std::to_string(after.term);
    } else if (after.leader_id != raft::kNoNode) {
      line = "following leader " + std::to_string(after.leader_id) + " (term " +
             std::to_string(after.term) + ")";
      if (!after.leader_client_address.empty()) {
        line += ", clients go to " + after.leader_client_address;
      }
    } else if (after.role == raft::Role::kCandidate || after.role == raft::Role::kPreCandidate) {
      line = "no leader known: campaigning as " + std::string(role_name(after.role)) + " (term " +
             std::to_string(after.term) + ")";
    } else if (before == nullptr || before->leader_id != raft::kNoNode || role_changed) {
      line = "no leader known (term " + std::to_string(after.term) + ", " +
             std::string(role_name(after.role)) + ")";
    }
  }
  if (before != nullptr && members_of(*before) != members_of(after)) {
    if (!line.empty()) line += "; ";
    line += "members are now " + members_of(after);
  }
  if (before != nullptr && !before->stepping_aside && after.stepping_aside) {
    if (!line.empty()) line += "; ";
    line += "stepping aside as leader: the apply loop or storage is stalled";
  }
  return line;
}

LeadershipLog::LeadershipLog(const Node* node, std::chrono::milliseconds period)
    : node_(node), period_(period) {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "leadership-log");
    run();
  });
}

LeadershipLog::~LeadershipLog() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void LeadershipLog::run() {
  std::shared_ptr<const NodeStatus> last;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      if (cv_.wait_for(lock, period_, [&] { return stopping_; })) return;
    }
    std::shared_ptr<const NodeStatus> now = node_->status();
    if (!now || now == last) continue;
    const std::string line = describe_change(last.get(), *now);
    if (!line.empty()) spdlog::info("{}", line);
    last = std::move(now);
  }
}

}  // namespace raftmeta::node::server
