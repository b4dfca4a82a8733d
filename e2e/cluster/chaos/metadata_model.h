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
//   broker    state {current epoch (0 = never registered, -1 = registered
//             by an operation whose result is unknown: an epoch nobody has
//             seen), floor = the largest epoch known to have been handed out}.
//             Every registration carries a new incarnation id, so it gets a
//             new epoch (its revision), greater than any before:
//             register ok(e): requires e > floor; leads to {e, e}. (No
//             definite refusal exists for a valid registration: a rejected
//             register is impossible.)
//             heartbeat(h) ok: requires current == h (or current unseen and
//             h > floor, which reveals it); no change (the session and the
//             fenced flag are not modelled: sessions are an hour long, so the
//             leader's wall-clock fencing never happens in a run).
//             heartbeat(h) refused with a stale epoch: requires a registered
//             broker whose epoch is not h; refused "not registered":
//             requires current == 0.
//             get / list ok(e): as heartbeat ok; NOT_FOUND (absent from the
//             list): requires current == 0.
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

enum class ModelKind { kTopic, kOffset, kProducer, kBroker };

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
