// Configuration rules (see conf_change.h).
#include "sidecar/raft/conf_change.h"

#include <algorithm>

namespace raftmeta::raft {
namespace {

bool contains(const std::vector<NodeId>& ids, NodeId id) {
  return std::binary_search(ids.begin(), ids.end(), id);
}

void insert_sorted(std::vector<NodeId>* ids, NodeId id) {
  ids->insert(std::lower_bound(ids->begin(), ids->end(), id), id);
}

void erase_sorted(std::vector<NodeId>* ids, NodeId id) {
  auto it = std::lower_bound(ids->begin(), ids->end(), id);
  if (it != ids->end() && *it == id) ids->erase(it);
}

bool sorted_unique_nonzero(const std::vector<NodeId>& ids) {
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] == kNoNode) return false;
    if (i > 0 && ids[i - 1] >= ids[i]) return false;
  }
  return true;
}

}  // namespace

bool is_voter(const ConfState& conf, NodeId id) { return contains(conf.voters, id); }
bool is_learner(const ConfState& conf, NodeId id) { return contains(conf.learners, id); }
bool is_removed(const ConfState& conf, NodeId id) { return contains(conf.removed, id); }
bool is_member(const ConfState& conf, NodeId id) {
  return is_voter(conf, id) || is_learner(conf, id);
}

bool is_well_formed(const ConfState& conf) {
  if (!sorted_unique_nonzero(conf.voters) || !sorted_unique_nonzero(conf.learners) ||
      !sorted_unique_nonzero(conf.removed)) {
    return false;
  }
  for (NodeId id : conf.voters) {
    if (is_learner(conf, id) || is_removed(conf, id)) return false;
  }
  for (NodeId id : conf.learners) {
    if (is_removed(conf, id)) return false;
  }
  return true;
}

std::string check_conf_change(const ConfState& conf, const ConfChange& change) {
  const NodeId id = change.node_id;
  if (id == kNoNode) return "node id 0 is never a member";
  if (is_removed(conf, id))
    return "node " + std::to_string(id) + " was removed; ids are never reused";
  switch (change.type) {
    case ConfChangeType::kAddLearner:
      if (is_member(conf, id)) return "node " + std::to_string(id) + " is already a member";
      return {};
    case ConfChangeType::kPromote:
      if (is_voter(conf, id)) return "node " + std::to_string(id) + " is already a voter";
      if (!is_learner(conf, id)) return "node " + std::to_string(id) + " is not a learner";
      return {};
    case ConfChangeType::kRemove:
      if (!is_member(conf, id)) return "node " + std::to_string(id) + " is not a member";
      if (is_voter(conf, id) && conf.voters.size() == 1) return "cannot remove the last voter";
      return {};
  }
  return "unknown change type";
}

ConfState apply_conf_change(const ConfState& conf, const ConfChange& change) {
  if (!check_conf_change(conf, change).empty()) return conf;
  ConfState next = conf;
  const NodeId id = change.node_id;
  switch (change.type) {
    case ConfChangeType::kAddLearner:
      insert_sorted(&next.learners, id);
      break;
    case ConfChangeType::kPromote:
      erase_sorted(&next.learners, id);
      insert_sorted(&next.voters, id);
      break;
    case ConfChangeType::kRemove:
      erase_sorted(&next.voters, id);
      erase_sorted(&next.learners, id);
      insert_sorted(&next.removed, id);
      break;
  }
  return next;
}

}  // namespace raftmeta::raft
