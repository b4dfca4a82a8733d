// Failpoints: named places in the node's loops where tests inject faults to
// reproduce freezes, slow disks and crashes on real processes.
//
// A FailpointRegistry is created disabled (the default, and what production
// runs): then eval() is one relaxed atomic load and returns false, set() is
// refused, and RAFTMETA_FAILPOINTS is ignored with a warning. Created enabled
// (--enable-failpoints), each point holds an action:
//   off        eval() returns false at once.
//   block      the thread that calls eval() waits until the point is set to
//              something else, exactly as a deadlock would hold it; only that
//              thread waits (each point has its own mutex and condition, and no
//              lock another point or set() needs is held while blocked). When
//              released, the thread carries out the point's new action.
//   sleep(ms)  the caller waits ms milliseconds (cut short if the point is
//              changed meanwhile), then eval() returns false.
//   error      eval() returns true: the call site fails the operation as it
//              would on a real error.
//   panic      logs a critical line naming the point and aborts the process.
//
// Points are registered once (the names below at construction, others with
// add()) and never removed, so references stay valid for the registry's life.
// All methods are safe for concurrent use from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace raftmeta::health {

// The points DESIGN.md requires.
inline constexpr std::string_view kFailpointRaftLoop = "raft-loop";    // each Raft loop turn
inline constexpr std::string_view kFailpointApplyLoop = "apply-loop";  // before an entry is applied
inline constexpr std::string_view kFailpointPersist = "persist";       // before the log write
inline constexpr std::string_view kFailpointPeerSend = "peer-send";    // before a peer send
inline constexpr std::string_view kFailpointReadPath = "read-path";    // serving a read

inline constexpr std::string_view kFailpointsEnvVar = "RAFTMETA_FAILPOINTS";

struct FailpointAction {
  enum class Kind { kOff, kBlock, kSleep, kError, kPanic };
  Kind kind = Kind::kOff;
  std::int64_t sleep_ms = 0;  // only for kSleep

  // Parses "off", "block", "sleep(<ms>)", "error" or "panic" (surrounding
  // whitespace allowed). On failure returns nullopt and sets *error to a
  // message naming the bad text and the accepted forms.
  static std::optional<FailpointAction> parse(std::string_view text, std::string* error);
  // The same form parse() accepts.
  std::string to_string() const;
  bool operator==(const FailpointAction&) const = default;
};

struct FailpointState {
  std::string name;
  FailpointAction action;
  std::uint64_t hits = 0;   // evaluations that found an action other than off
  int blocked_threads = 0;  // threads waiting in a block right now
};

class FailpointRegistry {
 public:
  explicit FailpointRegistry(bool enabled = false);
  ~FailpointRegistry();
  FailpointRegistry(const FailpointRegistry&) = delete;
  FailpointRegistry& operator=(const FailpointRegistry&) = delete;

  bool enabled() const { return enabled_; }

  // Called by the code at the point. Returns true when the caller must inject
  // an error. May block or sleep (see the actions above) or abort.
  bool eval(std::string_view name) {
    if (!any_active_.load(std::memory_order_relaxed)) return false;
    return eval_slow(name);
  }

  // Registers another point (idempotent). Allowed when disabled too, so the
  // code that owns a point can register it unconditionally.
  void add(std::string_view name);

  // Sets a point's action. Returns an empty string on success, else why not:
  // registry disabled, or unknown point.
  std::string set(std::string_view name, const FailpointAction& action);
  // Parses then sets; errors as parse() and set().
  std::string set(std::string_view name, std::string_view action_text);

  // Applies "name=action;name2=action2" (empty items ignored). All or
  // nothing: on any error nothing is set and the error is returned.
  std::string apply_spec(std::string_view spec);
  // Applies RAFTMETA_FAILPOINTS when enabled. When disabled and the variable
  // is set, logs a warning and ignores it. Returns apply_spec()'s error.
  std::string load_from_environment();

  // Every point, sorted by name.
  std::vector<FailpointState> list() const;

 private:
  struct Point;
  bool eval_slow(std::string_view name);
  Point* find(std::string_view name) const;
  void update_any_active();

  const bool enabled_;
  // True while some point has an action other than off; only ever true when
  // enabled_. Lets eval() return after one relaxed load in the common case.
  std::atomic<bool> any_active_{false};
  // Guards the map only (never held while a point blocks or sleeps).
  mutable std::shared_mutex map_mu_;
  std::map<std::string, std::unique_ptr<Point>, std::less<>> points_;
};

}  // namespace raftmeta::health
