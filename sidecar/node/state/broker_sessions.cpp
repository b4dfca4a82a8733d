#include "sidecar/node/state/broker_sessions.h"

#include "sidecar/node/state/deterministic_serialization.h"

namespace raftmeta::state {

bool session_expired(const v1::Broker& broker, std::int64_t now_ms) {
  if (broker.fenced()) return false;
  // 128-bit arithmetic: times come from commands and may be anything.
  const __int128 silence = static_cast<__int128>(now_ms) - broker.last_heartbeat_ms();
  return silence > broker.session_timeout_ms();
}

std::vector<v1::FenceBrokers::Target> expired_brokers(const State& state, std::int64_t now_ms) {
  std::vector<v1::FenceBrokers::Target> out;
  for (auto it = state.brokers.begin(); it != state.brokers.end(); ++it) {
    const v1::Broker& broker = *it.value();
    if (!session_expired(broker, now_ms)) continue;
    v1::FenceBrokers::Target target;
    target.set_broker_id(broker.id());
    target.set_broker_epoch(broker.broker_epoch());
    out.push_back(std::move(target));
  }
  return out;
}

std::string make_fence_command(const std::vector<v1::FenceBrokers::Target>& targets,
                               std::int64_t now_ms) {
  if (targets.empty()) return {};
  v1::Command command;
  command.set_leader_time_ms(now_ms);
  for (const auto& target : targets) *command.mutable_fence_brokers()->add_brokers() = target;
  return serialize_deterministic(command);
}

bool restamp_leader_time(std::string* command, std::int64_t now_ms) {
  v1::Command parsed;
  if (!parsed.ParseFromString(*command)) return false;
  parsed.set_leader_time_ms(now_ms);
  *command = serialize_deterministic(parsed);
  return true;
}

}  // namespace raftmeta::state
