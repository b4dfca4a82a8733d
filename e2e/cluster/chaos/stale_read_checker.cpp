#include "e2e/cluster/chaos/stale_read_checker.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "e2e/cluster/chaos/metadata_model.h"

namespace raftmeta::chaos {
namespace {

// The state a definite write leaves (it is known to have applied at its revision).
ModelState apply_known(ModelKind model, const ModelState& s, const Operation& w) {
  if (w.outcome != Outcome::kOk) return s;
  auto next = step(model, s, w);
  if (next.empty()) {
    // The write itself was impossible at its revision; the linearizability
    // checker reports that. Apply its effect so the reads are judged against
    // what the store said it did.
    if (model == ModelKind::kTopic) {
      return w.kind == OpKind::kTopicDelete ? ModelState{0, 0} : ModelState{1, w.output};
    }
    if (model == ModelKind::kOffset) return ModelState{w.input, 0};
    if (model == ModelKind::kBroker && w.kind == OpKind::kBrokerRegister) {
      return ModelState{w.output, w.output};
    }
    return s;
  }
  return next.front();
}

}  // namespace

StaleReadResult check_stale_reads(const std::vector<Operation>& history) {
  StaleReadResult result;
  std::map<std::pair<int, std::string>, std::vector<const Operation*>> writes;
  for (const Operation& op : history) {
    if (is_write(op.kind)) writes[{static_cast<int>(model_of(op.kind)), op.key}].push_back(&op);
  }
  for (auto& [key, ws] : writes) {
    std::stable_sort(ws.begin(), ws.end(), [](const Operation* x, const Operation* y) {
      return x->revision < y->revision;
    });
  }

  std::map<std::tuple<int, int, int>, const Operation*> last_by_client_member;
  std::vector<const Operation*> reads;
  for (const Operation& op : history) {
    if (op.level == ReadLevel::kStale && op.outcome != Outcome::kUnknown) reads.push_back(&op);
  }
  std::stable_sort(reads.begin(), reads.end(), [](const Operation* x, const Operation* y) {
    return x->invoke_ns < y->invoke_ns;
  });
  for (const Operation* r : reads) {
    const ModelKind model = model_of(r->kind);
    bool anomaly = false;
    if (r->revision == 0) {  // an answer without a revision (NOT_FOUND): nothing to judge
      ++result.not_judgeable;
      continue;
    }
    // 2. Monotonic per client and member process.
    auto& last = last_by_client_member[{r->client, r->member, r->member_generation}];
    if (last != nullptr && r->revision < last->revision) {
      result.anomalies.push_back("stale read went back in time: " + describe(*last) + " then " +
                                 describe(*r) + " (member " + std::to_string(r->member) + ")");
      anomaly = true;
    }
    if (last == nullptr || r->revision >= last->revision) last = r;

    // 1. Revision truth.
    const auto it = writes.find({static_cast<int>(model), r->key});
    bool judgeable = true;
    ModelState state = initial_state(model);
    if (it != writes.end()) {
      for (const Operation* w : it->second) {
        if (w->invoke_ns > r->complete_ns) continue;
        if (w->outcome == Outcome::kUnknown) judgeable = false;
        if (w->outcome == Outcome::kOk && w->revision == 0) judgeable = false;
      }
      for (const Operation* w : it->second) {
        if (w->outcome == Outcome::kOk && w->revision != 0 && w->revision <= r->revision) {
          state = apply_known(model, state, *w);
        }
      }
    }
    if (!judgeable) {
      ++result.not_judgeable;
      continue;
    }
    ++result.judged;
    if (step(model, state, *r).empty() && !anomaly) {
      result.anomalies.push_back("stale read does not match its revision: " + describe(*r) +
                                 "; the acknowledged writes up to that revision give " +
                                 describe(model, state));
    }
  }
  return result;
}

}  // namespace raftmeta::chaos
