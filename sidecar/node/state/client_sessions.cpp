#include "sidecar/node/state/client_sessions.h"

#include <algorithm>

namespace raftmeta::state {

const node::ApplyOutcome* ClientSessions::find(const std::string& client_id,
                                               std::uint64_t request_id) const {
  const auto* session = by_client_.find(client_id);
  if (session == nullptr) return nullptr;
  const auto* outcome = (*session)->outcomes.find(request_id);
  return outcome == nullptr ? nullptr : outcome->get();
}

bool ClientSessions::acknowledged(const std::string& client_id, std::uint64_t request_id) const {
  const auto* session = by_client_.find(client_id);
  return session != nullptr && request_id < (*session)->acknowledged_below;
}

std::string ClientSessions::late_copy_refusal(const std::string& client_id,
                                              std::uint64_t request_id) {
  return "request " + std::to_string(request_id) + " of client '" + client_id +
         "' was already answered and acknowledged by the client; a late copy is not applied "
         "again";
}

void ClientSessions::remember(const std::string& client_id, std::uint64_t request_id,
                              std::uint64_t first_unacknowledged, std::uint64_t revision,
                              node::ApplyOutcome outcome, const SessionLimits& limits) {
  auto next = std::make_shared<ClientSession>();
  if (const auto* existing = by_client_.find(client_id)) {
    *next = **existing;
    by_revision_.erase({next->last_revision, client_id});
  }
  next->last_revision = revision;
  next->acknowledged_below =
      std::max(next->acknowledged_below, std::min(first_unacknowledged, request_id));
  next->outcomes.set(request_id, std::make_shared<const node::ApplyOutcome>(std::move(outcome)));
  while (!next->outcomes.empty() && (next->outcomes.size() > limits.max_requests_per_client ||
                                     next->outcomes.begin().key() < next->acknowledged_below)) {
    next->outcomes.erase(next->outcomes.begin().key());
  }
  by_revision_.set({revision, client_id}, true);
  by_client_.set(client_id, std::move(next));
  while (by_client_.size() > limits.max_clients) {
    const auto oldest = by_revision_.begin().key();
    forget(oldest.second, oldest.first);
  }
  expire(revision, limits);
}

void ClientSessions::expire(std::uint64_t revision, const SessionLimits& limits) {
  while (!by_revision_.empty()) {
    const auto oldest = by_revision_.begin().key();
    if (oldest.first + limits.retention_revisions >= revision) break;
    forget(oldest.second, oldest.first);
  }
}

void ClientSessions::restore_session(const std::string& client_id, ClientSession session) {
  by_revision_.set({session.last_revision, client_id}, true);
  by_client_.set(client_id, std::make_shared<const ClientSession>(std::move(session)));
}

void ClientSessions::forget(const std::string& client_id, std::uint64_t last_revision) {
  by_revision_.erase({last_revision, client_id});
  by_client_.erase(client_id);
}

}  // namespace raftmeta::state
