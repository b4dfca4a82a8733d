// ClientSessions: the remembered outcomes of recent client writes, so that a
// retried write is answered with its original outcome instead of being
// applied twice (Raft thesis, section 6.3).
//
// Bounds, all deterministic (they depend only on the applied commands):
//  - per client, the `max_requests_per_client` highest request ids are kept
//    (clients number their requests in increasing order);
//  - a client whose latest write is more than `retention_revisions` older
//    than the current revision is forgotten;
//  - at most `max_clients` clients are kept; beyond that the one with the
//    oldest latest write is forgotten.
//  - a client that says which of its ids it will not send again
//    (RequestHeader.first_unacknowledged) has the outcomes below that id
//    forgotten at once, and a late copy of such an id is refused (see
//    acknowledged()).
// A request id that is no longer remembered and not below the client's
// acknowledged floor is applied like a new request.
//
// A value type with structural sharing (persistent maps): copying it is O(1),
// a remembered write costs O(log n). Part of the snapshot.
// THREAD SAFETY: like any value; the apply thread owns the working copy,
// published copies are immutable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "sidecar/node/applier.h"
#include "sidecar/node/state/persistent_map.h"

namespace raftmeta::state {

struct SessionLimits {
  std::size_t max_requests_per_client = 1000;
  std::uint64_t retention_revisions = 1'000'000;
  std::size_t max_clients = 10'000;
};

struct ClientSession {
  std::uint64_t last_revision = 0;
  // Every request id below this was acknowledged by the client.
  std::uint64_t acknowledged_below = 0;
  PersistentMap<std::uint64_t, std::shared_ptr<const node::ApplyOutcome>> outcomes;
};

class ClientSessions {
 public:
  using SessionMap = PersistentMap<std::string, std::shared_ptr<const ClientSession>>;

  // The remembered outcome of (client_id, request_id), or nullptr.
  const node::ApplyOutcome* find(const std::string& client_id, std::uint64_t request_id) const;

  // Whether the client already acknowledged (client_id, request_id): it said
  // it would not send that id again, so a copy arriving now is a late one.
  bool acknowledged(const std::string& client_id, std::uint64_t request_id) const;
  // The refusal such a late copy gets (FAILED_PRECONDITION), wherever it is
  // caught: at the API from published state, or at apply.
  static std::string late_copy_refusal(const std::string& client_id, std::uint64_t request_id);

  // Remembers an outcome of a write applied at `revision`, raises the
  // client's acknowledged floor to `first_unacknowledged` (never above
  // `request_id`; 0 leaves it) and forgets the outcomes below it, then
  // applies the bounds above.
  void remember(const std::string& client_id, std::uint64_t request_id,
                std::uint64_t first_unacknowledged, std::uint64_t revision,
                node::ApplyOutcome outcome, const SessionLimits& limits);

  // Forgets clients whose latest write is older than the retention window
  // at `revision`.
  void expire(std::uint64_t revision, const SessionLimits& limits);

  // Restores one session (snapshot restore); keeps the revision index right.
  void restore_session(const std::string& client_id, ClientSession session);

  const SessionMap& sessions() const { return by_client_; }
  std::size_t size() const { return by_client_.size(); }

 private:
  void forget(const std::string& client_id, std::uint64_t last_revision);

  SessionMap by_client_;
  // (last_revision, client_id): the oldest client first, for expiry.
  PersistentMap<std::pair<std::uint64_t, std::string>, bool> by_revision_;
};

}  // namespace raftmeta::state
