// Planted bugs: hook points that a separate `raftmeta-node-planted` build of
// the node uses to misbehave on purpose, so the chaos tests can prove end to
// end that the checker catches real violations.
//
// Off unless the translation unit is compiled with RAFTMETA_PLANTED_BUGS
// defined (only the planted binary target does that): then every function
// below is a constant `false` and the optimizer removes the planted code, so
// the production `raftmeta-node` can never run it. In the planted build the
// bug is chosen at start-up with the environment variable
// RAFTMETA_PLANTED_BUG:
//   lease-without-clock     lease reads are served while the member believes
//                           it leads, without checking the lease against the
//                           monotonic clock (a deposed leader answers from old
//                           state).
//   ack-before-commit       a proposal is answered as successful once the
//                           leader has persisted it locally, before a quorum
//                           has (a leader that dies then loses an acknowledged
//                           write).
//   double-apply-after-restart
//                           the first batch applied after a restart is
//                           applied again, even where a restored snapshot
//                           already covered it.
//
// Thread use: active() reads an environment variable once (a function-local
// static: thread-safe initialization) and is safe from any thread.
#pragma once

#include <cstdlib>
#include <string_view>

namespace raftmeta::chaos::planted {

enum class Bug { kNone, kLeaseWithoutClock, kAckBeforeCommit, kDoubleApplyAfterRestart };

inline constexpr const char* kEnvVar = "RAFTMETA_PLANTED_BUG";

inline Bug parse(std::string_view name) {
  if (name == "lease-without-clock") return Bug::kLeaseWithoutClock;
  if (name == "ack-before-commit") return Bug::kAckBeforeCommit;
  if (name == "double-apply-after-restart") return Bug::kDoubleApplyAfterRestart;
  return Bug::kNone;
}

#if defined(RAFTMETA_PLANTED_BUGS)
inline Bug active() {
  static const Bug bug = [] {
    const char* value = std::getenv(kEnvVar);
    return value == nullptr ? Bug::kNone : parse(value);
  }();
  return bug;
}
#else
constexpr Bug active() { return Bug::kNone; }
#endif

// True only in the planted build, when `bug` is the one chosen.
inline bool enabled(Bug bug) { return bug != Bug::kNone && active() == bug; }

}  // namespace raftmeta::chaos::planted
