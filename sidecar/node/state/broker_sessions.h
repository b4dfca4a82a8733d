// Broker sessions: which brokers the leader should fence.
//
// The state records, for each broker, the leader's wall-clock time (from the
// command, never read at apply) and the revision of its last registration or
// heartbeat. The leader's raft-side timer calls expired_brokers() with its
// own clock against the latest published State and proposes the result as a
// FenceBrokers command (make_fence_command). Applying that command fences
// only brokers that are still expired at the command's time with the same
// epoch, so a heartbeat that was applied in between wins, deterministically.
//
// THREAD SAFETY: pure functions; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "raftmeta/v1/state.pb.h"
#include "sidecar/node/state/state.h"

namespace raftmeta::state {

// True when the broker is unfenced and its last heartbeat is more than its
// session timeout before now_ms.
bool session_expired(const v1::Broker& broker, std::int64_t now_ms);

// Unfenced brokers whose session expired at now_ms, by id.
std::vector<v1::FenceBrokers::Target> expired_brokers(const State& state, std::int64_t now_ms);

// The encoded Command that fences `targets`, stamped with now_ms. Empty
// string when there is nothing to fence.
std::string make_fence_command(const std::vector<v1::FenceBrokers::Target>& targets,
                               std::int64_t now_ms);

// Stamps an encoded Command with the receiving leader's clock (a forwarded
// write carries the forwarding member's clock). False, and *command left
// unchanged, when it does not parse.
bool restamp_leader_time(std::string* command, std::int64_t now_ms);

}  // namespace raftmeta::state
