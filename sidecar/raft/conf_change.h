// The configuration rules: which ConfChange may be applied to a ConfState and
// what it becomes. One voter changes at a time (add learner, promote, remove);
// a removed id is refused forever.
#pragma once

#include <string>

#include "sidecar/raft/types.h"

namespace raftmeta::raft {

bool is_voter(const ConfState& conf, NodeId id);
bool is_learner(const ConfState& conf, NodeId id);
bool is_removed(const ConfState& conf, NodeId id);
// Voter or learner.
bool is_member(const ConfState& conf, NodeId id);

// Lists sorted and unique, the three sets disjoint, no id 0.
bool is_well_formed(const ConfState& conf);

// Empty when `change` may be applied to `conf`; otherwise why not. Rules:
// id 0 is never a member; kAddLearner needs an id that was never a member;
// kPromote needs a learner; kRemove needs a member and never removes the last
// voter.
std::string check_conf_change(const ConfState& conf, const ConfChange& change);

// The configuration after `change`. If check_conf_change() refuses it, `conf`
// is returned unchanged (an entry the rules refuse is a no-op everywhere, so
// every member still computes the same configuration).
ConfState apply_conf_change(const ConfState& conf, const ConfChange& change);

}  // namespace raftmeta::raft
