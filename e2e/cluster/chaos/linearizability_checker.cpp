#include "e2e/cluster/chaos/linearizability_checker.h"

#include <algorithm>
#include <map>
#include <sstream>
#include <unordered_set>

#include "e2e/cluster/chaos/metadata_model.h"

namespace raftmeta::chaos {
namespace {

using SteadyClock = std::chrono::steady_clock;

struct CacheKey {
  std::vector<std::uint64_t> bits;
  ModelState state;
  bool operator==(const CacheKey&) const = default;
};

struct CacheKeyHash {
  std::size_t operator()(const CacheKey& k) const {
    std::size_t h = ModelStateHash()(k.state);
    for (std::uint64_t w : k.bits) h = (h ^ std::hash<std::uint64_t>()(w)) * 0x100000001b3ull;
    return h;
  }
};

// Doubly linked list of call and return events; index 0 is the head.
struct Event {
  bool is_call = false;
  int op = -1;     // index into the key's operations
  int match = -1;  // the call's return event and vice versa
  int prev = -1;
  int next = -1;
};

class KeySearch {
 public:
  KeySearch(std::vector<const Operation*> ops, SteadyClock::time_point deadline,
            std::uint64_t* steps_left)
      : ops_(std::move(ops)), deadline_(deadline), steps_left_(steps_left) {
    model_ = model_of(ops_.front()->kind);
    build_events();
  }

  Verdict run(std::string* report) {
    const std::size_t words = (ops_.size() + 63) / 64;
    bits_.assign(words, 0);
    state_ = initial_state(model_);
    int entry = events_[0].next;
    while (events_[0].next != -1) {
      if (*steps_left_ == 0) return Verdict::kBudgetExhausted;
      --*steps_left_;
      if ((++turns_ & 4095u) == 0 && SteadyClock::now() > deadline_) {
        return Verdict::kBudgetExhausted;
      }
      const Event& e = events_[entry];
      if (e.is_call) {
        const ModelState before = state_;
        if (try_from(entry, before, step(model_, before, *ops_[e.op]), 0)) {
          entry = events_[0].next;
        } else {
          entry = e.next;
        }
        continue;
      }
      // A return whose operation is not linearized yet: backtrack.
      note_dead_end(entry);
      bool resumed = false;
      while (!stack_.empty()) {
        Frame f = std::move(stack_.back());
        stack_.pop_back();
        unlift(f.call);
        const int op = events_[f.call].op;
        bits_[op / 64] &= ~(std::uint64_t{1} << (op % 64));
        state_ = f.before;
        if (try_from(f.call, f.before, f.candidates, f.next_candidate)) {
          entry = events_[0].next;
        } else {
          entry = events_[f.call].next;
        }
        resumed = true;
        break;
      }
      if (!resumed) {
        *report = dead_end_report_;
        return Verdict::kNotLinearizable;
      }
    }
    return Verdict::kLinearizable;
  }

 private:
  struct Frame {
    int call = -1;
    ModelState before;
    std::vector<ModelState> candidates;
    std::size_t next_candidate = 0;
  };

  void build_events() {
    struct Stamp {
      std::int64_t time;
      int order;  // calls before returns at equal times
      int op;
    };
    std::vector<Stamp> stamps;
    for (int i = 0; i < static_cast<int>(ops_.size()); ++i) {
      stamps.push_back({ops_[i]->invoke_ns, 0, i});
      const std::int64_t done =
          ops_[i]->outcome == Outcome::kUnknown ? kNeverCompleted : ops_[i]->complete_ns;
      stamps.push_back({done, 1, i});
    }
    std::stable_sort(stamps.begin(), stamps.end(), [](const Stamp& x, const Stamp& y) {
      if (x.time != y.time) return x.time < y.time;
      return x.order < y.order;
    });
    events_.resize(stamps.size() + 1);
    std::vector<int> call_of(ops_.size(), -1);
    for (std::size_t i = 0; i < stamps.size(); ++i) {
      Event& e = events_[i + 1];
      e.is_call = stamps[i].order == 0;
      e.op = stamps[i].op;
      e.prev = static_cast<int>(i);
      e.next = i + 1 < stamps.size() ? static_cast<int>(i + 2) : -1;
      if (e.is_call) {
        call_of[e.op] = static_cast<int>(i + 1);
      } else {
        e.match = call_of[e.op];
        events_[e.match].match = static_cast<int>(i + 1);
      }
    }
    events_[0].next = stamps.empty() ? -1 : 1;
  }

  bool try_from(int call, const ModelState& before, std::vector<ModelState> candidates,
                std::size_t first) {
    const int op = events_[call].op;
    for (std::size_t i = first; i < candidates.size(); ++i) {
      CacheKey key{bits_, candidates[i]};
      key.bits[op / 64] |= std::uint64_t{1} << (op % 64);
      if (!cache_.insert(key).second) continue;
      bits_ = std::move(key.bits);
      state_ = candidates[i];
      lift(call);
      stack_.push_back(Frame{call, before, std::move(candidates), i + 1});
      return true;
    }
    return false;
  }

  void unlink(int i) {
    Event& e = events_[i];
    events_[e.prev].next = e.next;
    if (e.next != -1) events_[e.next].prev = e.prev;
  }
  void relink(int i) {
    Event& e = events_[i];
    events_[e.prev].next = i;
    if (e.next != -1) events_[e.next].prev = i;
  }
  void lift(int call) {
    unlink(call);
    unlink(events_[call].match);
  }
  void unlift(int call) {
    relink(events_[call].match);
    relink(call);
  }

  // Remembers the deepest point the search reached, for the report.
  void note_dead_end(int return_event) {
    if (!dead_end_report_.empty() && stack_.size() < best_depth_) return;
    best_depth_ = stack_.size();
    std::ostringstream out;
    out << "  linearized " << stack_.size() << " of " << ops_.size()
        << " operations; the last ones:\n";
    const std::size_t from = stack_.size() > 6 ? stack_.size() - 6 : 0;
    for (std::size_t i = from; i < stack_.size(); ++i) {
      out << "    " << describe(*ops_[events_[stack_[i].call].op]) << "\n";
    }
    out << "  state then: " << describe(model_, state_) << "\n";
    out << "  cannot place: " << describe(*ops_[events_[return_event].op]) << "\n";
    int shown = 0;
    for (int i = events_[0].next; i != -1 && i != return_event && shown < 8; i = events_[i].next) {
      if (!events_[i].is_call || events_[i].op == events_[return_event].op) continue;
      out << "  pending: " << describe(*ops_[events_[i].op]) << "\n";
      ++shown;
    }
    dead_end_report_ = out.str();
  }

  std::vector<const Operation*> ops_;
  SteadyClock::time_point deadline_;
  std::uint64_t* steps_left_;
  ModelKind model_ = ModelKind::kTopic;
  std::vector<Event> events_;
  std::vector<std::uint64_t> bits_;
  ModelState state_;
  std::vector<Frame> stack_;
  std::unordered_set<CacheKey, CacheKeyHash> cache_;
  std::uint64_t turns_ = 0;
  std::size_t best_depth_ = 0;
  std::string dead_end_report_;
};

}  // namespace

const char* to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::kLinearizable:
      return "linearizable";
    case Verdict::kNotLinearizable:
      return "NOT linearizable";
    case Verdict::kBudgetExhausted:
      return "budget exhausted (undecided)";
  }
  return "?";
}

std::string CheckResult::summary() const {
  std::ostringstream out;
  out << "linearizability: " << to_string(verdict) << " (" << checked_operations
      << " operations on " << keys << " keys checked, " << skipped_stale_reads
      << " stale reads judged separately, " << skipped_write_rejections
      << " write rejections not judged, " << steps << " search steps, " << anomalies.size()
      << " anomalies)\n";
  for (const KeyVerdict& k : anomalies) {
    out << "key " << k.key << ": " << to_string(k.verdict) << " (" << k.operations
        << " operations)\n"
        << k.report;
  }
  return out.str();
}

CheckResult check_linearizability(const std::vector<Operation>& history,
                                  const CheckOptions& options) {
  CheckResult result;
  std::map<std::pair<int, std::string>, std::vector<const Operation*>> by_key;
  for (const Operation& op : history) {
    if (op.level == ReadLevel::kStale) {
      ++result.skipped_stale_reads;
      continue;
    }
    if (!options.judge_write_rejections && is_write(op.kind) && op.outcome == Outcome::kRejected) {
      ++result.skipped_write_rejections;
      continue;
    }
    by_key[{static_cast<int>(model_of(op.kind)), op.key}].push_back(&op);
  }
  const auto deadline = SteadyClock::now() + options.time_budget;
  std::uint64_t steps_left = options.step_budget;
  for (auto& [key, ops] : by_key) {
    ++result.keys;
    result.checked_operations += ops.size();
    KeyVerdict verdict;
    verdict.key = key.second;
    verdict.operations = ops.size();
    KeySearch search(ops, deadline, &steps_left);
    verdict.verdict = search.run(&verdict.report);
    if (verdict.verdict == Verdict::kBudgetExhausted) {
      verdict.report = "  the search ran out of its budget\n";
    }
    if (verdict.verdict != Verdict::kLinearizable) {
      if (result.verdict != Verdict::kNotLinearizable) result.verdict = verdict.verdict;
      result.anomalies.push_back(std::move(verdict));
    }
  }
  result.steps = options.step_budget - steps_left;
  return result;
}

}  // namespace raftmeta::chaos
