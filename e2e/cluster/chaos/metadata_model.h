// Sequential models of the metadata operations the chaos workload issues, one
// object (key) at a time. The linearizability checker asks a model which
// states an operation can lead to from a given state; an empty answer means
// the operation, with the result the client saw, is impossible there.
//
//   topic     state {exists, topic id (0 = exists with an id nobody has seen:
//             created by an operation whose result is unknown)}.
//             create ok(id): requires !exists. create ALREADY_EXISTS: requires
//             exists. delete ok(id): requires exists with that id.
//             delete NOT_FOUND / get NOT_FOUND: requires !exists. get ok(id):
//             requires exists with that id.
//   offset    a register, -1 = nothing committed. commit(v) sets it; fetch
//             must return it.
//   producer  a counter of handed-out ids: alloc ok [first, first+count)
//             requires first >= every id handed out before, so two blocks that
//             overlap can never both be linearized, and blocks only grow.
// An operation with an unknown outcome leads either to the state unchanged
// (it never happened) or to its effect; a producer allocation with an unknown
// outcome is modelled as unchanged (its block is unknown; leaving it out only
// weakens the check, it never invents an anomaly).
//
// Pure functions; safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "e2e/cluster/chaos/history.h"

namespace raftmeta::chaos {

enum class ModelKind { kTopic, kOffset, kProducer };

struct ModelState {
  std::int64_t a = 0;
  std::int64_t b = 0;
  bool operator==(const ModelState&) const = default;
};

struct ModelStateHash {
  std::size_t operator()(const ModelState& s) const {
    return std::hash<std::int64_t>()(s.a) * 1000003u ^ std::hash<std::int64_t>()(s.b);
  }
};

// The model that judges operations of `kind`.
ModelKind model_of(OpKind kind);
ModelState initial_state(ModelKind model);
// The states `op` can lead to from `state` (empty: impossible). At most two.
std::vector<ModelState> step(ModelKind model, const ModelState& state, const Operation& op);
std::string describe(ModelKind model, const ModelState& state);

}  // namespace raftmeta::chaos
