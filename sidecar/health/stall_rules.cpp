#include "sidecar/health/stall_rules.h"

#include <algorithm>

namespace raftmeta::health {
namespace {

constexpr std::int64_t kNsPerMs = 1'000'000;

// Milliseconds of silence since `since_ns`, or -1 when there is no stamp.
std::int64_t silent_ms(std::int64_t since_ns, std::int64_t now_ns) {
  if (since_ns <= 0) return -1;
  return std::max<std::int64_t>(0, (now_ns - since_ns) / kNsPerMs);
}

PartVerdict judge_part(std::int64_t since_ns, std::int64_t now_ns, std::int64_t limit_ms) {
  PartVerdict v;
  v.limit_ms = limit_ms;
  v.silent_ms = silent_ms(since_ns, now_ns);
  // Compare in nanoseconds so that "limit - 1 ns" is still not stalled.
  v.stalled = since_ns > 0 && now_ns - since_ns >= limit_ms * kNsPerMs;
  return v;
}

}  // namespace

std::string_view part_name(Part part) {
  switch (part) {
    case Part::kRaftLoop:
      return "raft_loop";
    case Part::kApplyLoop:
      return "apply_loop";
    case Part::kStorage:
      return "storage";
  }
  return "unknown";
}

ProgressSnapshot snapshot(const ProgressStamps& s) {
  ProgressSnapshot p;
  p.startup_done = s.startup_done.load(std::memory_order_acquire);
  p.startup_done_ns = s.startup_done_ns.load(std::memory_order_relaxed);
  p.raft_loop_turns = s.raft_loop_turns.load(std::memory_order_acquire);
  p.raft_loop_turn_ns = s.raft_loop_turn_ns.load(std::memory_order_relaxed);
  // Index before its wait stamp: see ProgressStamps::note_apply_queued.
  p.applied_index = s.applied_index.load(std::memory_order_acquire);
  p.apply_progress_ns = s.apply_progress_ns.load(std::memory_order_relaxed);
  p.apply_queued_index = s.apply_queued_index.load(std::memory_order_acquire);
  p.apply_wait_started_ns = s.apply_wait_started_ns.load(std::memory_order_relaxed);
  p.storage_write_started_ns = s.storage_write_started_ns.load(std::memory_order_acquire);
  p.storage_writes = s.storage_writes.load(std::memory_order_relaxed);
  return p;
}

HealthVerdict judge(const ProgressSnapshot& p, std::int64_t now_ns, const StallLimits& limits) {
  HealthVerdict v;
  v.judged_at_ns = now_ns;
  v.startup_done = p.startup_done;
  const bool writing = p.storage_write_started_ns > 0;
  const std::int64_t loop_limit =
      writing ? std::max(limits.loop_stall_ms, limits.storage_stall_ms) : limits.loop_stall_ms;

  auto& loop = v.parts[static_cast<int>(Part::kRaftLoop)];
  auto& apply = v.parts[static_cast<int>(Part::kApplyLoop)];
  auto& storage = v.parts[static_cast<int>(Part::kStorage)];

  loop = judge_part(std::max(p.raft_loop_turn_ns, p.startup_done_ns), now_ns, loop_limit);
  if (p.apply_queued_index > p.applied_index) {
    apply = judge_part(std::max({p.apply_progress_ns, p.apply_wait_started_ns, p.startup_done_ns}),
                       now_ns, limits.apply_stall_ms);
  } else {
    apply.limit_ms = limits.apply_stall_ms;
  }
  if (writing) {
    storage = judge_part(p.storage_write_started_ns, now_ns, limits.storage_stall_ms);
  } else {
    storage.limit_ms = limits.storage_stall_ms;
  }

  if (!p.startup_done) {
    for (auto& part : v.parts) part.stalled = false;
  }
  return v;
}

bool HealthVerdict::live() const {
  return std::none_of(parts.begin(), parts.end(), [](const PartVerdict& p) { return p.stalled; });
}

std::string HealthVerdict::summary() const {
  if (!startup_done) return "starting";
  std::string out;
  for (Part p : kAllParts) {
    const PartVerdict& pv = part(p);
    if (!pv.stalled) continue;
    if (!out.empty()) out += "; ";
    out += std::string(part_name(p)) + " stalled for " + std::to_string(pv.silent_ms) +
           " ms (limit " + std::to_string(pv.limit_ms) + " ms)";
  }
  return out.empty() ? "ok" : out;
}

nlohmann::json HealthVerdict::to_json() const {
  nlohmann::json stalled = nlohmann::json::array();
  nlohmann::json parts_json = nlohmann::json::object();
  for (Part p : kAllParts) {
    const PartVerdict& pv = part(p);
    const std::string name(part_name(p));
    if (pv.stalled) {
      stalled.push_back(
          {{"part", name}, {"stalled_for_ms", pv.silent_ms}, {"limit_ms", pv.limit_ms}});
    }
    parts_json[name] = {
        {"stalled", pv.stalled},
        {"silent_ms", pv.silent_ms >= 0 ? nlohmann::json(pv.silent_ms) : nlohmann::json(nullptr)},
        {"limit_ms", pv.limit_ms}};
  }
  return {{"live", live()},
          {"startup_done", startup_done},
          {"summary", summary()},
          {"stalled", stalled},
          {"parts", parts_json}};
}

}  // namespace raftmeta::health
