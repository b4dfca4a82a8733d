#include "sidecar/health/failpoints.h"

#include <spdlog/spdlog.h>

#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>

namespace raftmeta::health {
namespace {

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

constexpr std::string_view kAcceptedForms = "off, block, sleep(<ms>), error or panic";

}  // namespace

std::optional<FailpointAction> FailpointAction::parse(std::string_view text, std::string* error) {
  const std::string_view t = trim(text);
  FailpointAction a;
  if (t == "off") return a;
  if (t == "block") {
    a.kind = Kind::kBlock;
    return a;
  }
  if (t == "error") {
    a.kind = Kind::kError;
    return a;
  }
  if (t == "panic") {
    a.kind = Kind::kPanic;
    return a;
  }
  constexpr std::string_view kSleep = "sleep(";
  if (t.starts_with(kSleep) && t.ends_with(")")) {
    const std::string_view digits = trim(t.substr(kSleep.size(), t.size() - kSleep.size() - 1));
    std::int64_t ms = -1;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), ms);
    if (!digits.empty() && ec == std::errc() && end == digits.data() + digits.size() && ms >= 0) {
      a.kind = Kind::kSleep;
      a.sleep_ms = ms;
      return a;
    }
    if (error) {
      *error = "bad failpoint action '" + std::string(t) +
               "': sleep takes a non-negative number of milliseconds, e.g. sleep(250)";
    }
    return std::nullopt;
  }
  if (error) {
    *error =
        "bad failpoint action '" + std::string(t) + "': expected " + std::string(kAcceptedForms);
  }
  return std::nullopt;
}

std::string FailpointAction::to_string() const {
  switch (kind) {
    case Kind::kOff:
      return "off";
    case Kind::kBlock:
      return "block";
    case Kind::kSleep:
      return "sleep(" + std::to_string(sleep_ms) + ")";
    case Kind::kError:
      return "error";
    case Kind::kPanic:
      return "panic";
  }
  return "off";
}

// One point. Its mutex guards every field but `active`, and is the only lock
// a thread holds while it evaluates the point (released while blocked or
// sleeping, through the condition variable).
struct FailpointRegistry::Point {
  explicit Point(std::string n) : name(std::move(n)) {}
  const std::string name;
  std::mutex mu;
  std::condition_variable changed;
  FailpointAction action;
  std::uint64_t generation = 0;  // bumped on every set()
  std::uint64_t hits = 0;
  int blocked_threads = 0;
  // Mirrors action.kind != kOff for update_any_active(); written under mu.
  std::atomic<bool> active{false};
};

FailpointRegistry::FailpointRegistry(bool enabled) : enabled_(enabled) {
  for (std::string_view name : {kFailpointRaftLoop, kFailpointApplyLoop, kFailpointPersist,
                                kFailpointPeerSend, kFailpointReadPath}) {
    add(name);
  }
}

FailpointRegistry::~FailpointRegistry() = default;

void FailpointRegistry::add(std::string_view name) {
  std::unique_lock lock(map_mu_);
  if (points_.find(name) == points_.end()) {
    points_.emplace(std::string(name), std::make_unique<Point>(std::string(name)));
  }
}

FailpointRegistry::Point* FailpointRegistry::find(std::string_view name) const {
  std::shared_lock lock(map_mu_);
  const auto it = points_.find(name);
  return it == points_.end() ? nullptr : it->second.get();
}

std::string FailpointRegistry::set(std::string_view name, const FailpointAction& action) {
  if (!enabled_) return "failpoints are not enabled (start the node with --enable-failpoints)";
  Point* point = find(name);
  if (point == nullptr) return "unknown failpoint '" + std::string(name) + "'";
  {
    std::lock_guard lock(point->mu);
    point->action = action;
    ++point->generation;
    point->active.store(action.kind != FailpointAction::Kind::kOff, std::memory_order_relaxed);
  }
  point->changed.notify_all();
  update_any_active();
  spdlog::warn("failpoint {} set to {}", name, action.to_string());
  return {};
}

std::string FailpointRegistry::set(std::string_view name, std::string_view action_text) {
  std::string error;
  const auto action = FailpointAction::parse(action_text, &error);
  if (!action) return error;
  return set(name, *action);
}

void FailpointRegistry::update_any_active() {
  // Serialize recomputations so that a stale scan cannot overwrite a newer one.
  std::unique_lock lock(map_mu_);
  bool any = false;
  for (const auto& [name, point] : points_) {
    any = any || point->active.load(std::memory_order_relaxed);
  }
  any_active_.store(any, std::memory_order_relaxed);
}

std::string FailpointRegistry::apply_spec(std::string_view spec) {
  std::vector<std::pair<std::string, FailpointAction>> parsed;
  while (!spec.empty()) {
    const auto semi = spec.find(';');
    const std::string_view item = trim(spec.substr(0, semi));
    spec = semi == std::string_view::npos ? std::string_view{} : spec.substr(semi + 1);
    if (item.empty()) continue;
    const auto eq = item.find('=');
    if (eq == std::string_view::npos) {
      return "bad failpoint setting '" + std::string(item) + "': expected name=action";
    }
    const std::string name(trim(item.substr(0, eq)));
    if (find(name) == nullptr) return "unknown failpoint '" + name + "'";
    std::string error;
    const auto action = FailpointAction::parse(item.substr(eq + 1), &error);
    if (!action) return "failpoint " + name + ": " + error;
    parsed.emplace_back(name, *action);
  }
  if (!parsed.empty() && !enabled_) {
    return "failpoints are not enabled (start the node with --enable-failpoints)";
  }
  for (const auto& [name, action] : parsed) {
    if (std::string error = set(name, action); !error.empty()) return error;
  }
  return {};
}

std::string FailpointRegistry::load_from_environment() {
  const char* value = std::getenv(std::string(kFailpointsEnvVar).c_str());
  if (value == nullptr || *value == '\0') return {};
  if (!enabled_) {
    spdlog::warn("{} is set but failpoints are not enabled (--enable-failpoints); ignoring it",
                 kFailpointsEnvVar);
    return {};
  }
  return apply_spec(value);
}

std::vector<FailpointState> FailpointRegistry::list() const {
  std::vector<FailpointState> out;
  std::shared_lock map_lock(map_mu_);
  for (const auto& [name, point] : points_) {
    std::lock_guard lock(point->mu);
    out.push_back({name, point->action, point->hits, point->blocked_threads});
  }
  return out;
}

bool FailpointRegistry::eval_slow(std::string_view name) {
  Point* point = find(name);
  if (point == nullptr) return false;
  std::unique_lock lock(point->mu);
  for (;;) {
    const FailpointAction action = point->action;
    switch (action.kind) {
      case FailpointAction::Kind::kOff:
        return false;
      case FailpointAction::Kind::kError:
        ++point->hits;
        return true;
      case FailpointAction::Kind::kPanic:
        ++point->hits;
        spdlog::critical("failpoint {}: panic, aborting the process", point->name);
        spdlog::default_logger()->flush();
        std::abort();
      case FailpointAction::Kind::kSleep: {
        ++point->hits;
        const std::uint64_t generation = point->generation;
        point->changed.wait_for(lock, std::chrono::milliseconds(action.sleep_ms),
                                [&] { return point->generation != generation; });
        return false;
      }
      case FailpointAction::Kind::kBlock:
        ++point->hits;
        ++point->blocked_threads;
        // Log without the point's lock (the wait re-checks the action).
        lock.unlock();
        spdlog::warn("failpoint {}: blocking this thread", point->name);
        lock.lock();
        point->changed.wait(lock,
                            [&] { return point->action.kind != FailpointAction::Kind::kBlock; });
        --point->blocked_threads;
        lock.unlock();
        spdlog::warn("failpoint {}: released", point->name);
        lock.lock();
        break;  // carry out the new action (as it is now)
    }
  }
}

}  // namespace raftmeta::health
