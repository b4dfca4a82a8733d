// KvApplier: a small Applier for the runtime's tests (the metadata state
// machine has its own tests). Commands are text: "set <key> <value>" sets a
// key; "fail <why>" is a command that fails at apply time (FAILED_PRECONDITION)
// and still advances the revision. Readers load the published state with one
// atomic load.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>

#include "sidecar/node/applier.h"

namespace raftmeta::node::testing {

struct KvState {
  raft::Index revision = 0;
  std::map<std::string, std::string> data;
};

class KvApplier final : public Applier {
 public:
  KvApplier() : published_(std::make_shared<const KvState>()) {}

  ApplyOutcome apply(raft::Index index, raft::Term, std::string_view data) override {
    working_.revision = index;
    ApplyOutcome outcome;
    if (data.empty()) return outcome;
    std::istringstream in{std::string(data)};
    std::string verb, key, value;
    in >> verb >> key;
    std::getline(in, value);
    if (!value.empty() && value.front() == ' ') value.erase(0, 1);
    if (verb == "set" && !key.empty()) {
      working_.data[key] = value;
      outcome.response = "ok " + std::to_string(index);
    } else {
      outcome.code = 9;
      outcome.message = "command failed at apply time: " + std::string(data);
    }
    return outcome;
  }

  void publish() override {
    std::atomic_store(&published_,
                      std::shared_ptr<const KvState>(std::make_shared<KvState>(working_)));
  }

  raft::Index applied_index() const override { return working_.revision; }

  std::string snapshot() const override {
    std::string out = std::to_string(working_.revision) + "\n";
    for (const auto& [k, v] : working_.data) out += k + "\t" + v + "\n";
    return out;
  }

  bool restore(raft::Index index, std::string_view data, std::string* error) override {
    KvState state;
    std::istringstream in{std::string(data)};
    std::string line;
    if (!std::getline(in, line)) {
      *error = "empty kv snapshot";
      return false;
    }
    while (std::getline(in, line)) {
      auto tab = line.find('\t');
      if (tab == std::string::npos) {
        *error = "malformed kv snapshot line";
        return false;
      }
      state.data[line.substr(0, tab)] = line.substr(tab + 1);
    }
    state.revision = index;
    working_ = state;
    publish();
    return true;
  }

  // Any thread.
  std::shared_ptr<const KvState> current() const { return std::atomic_load(&published_); }

 private:
  KvState working_;                           // apply thread only
  std::shared_ptr<const KvState> published_;  // std::atomic_load/atomic_store only
};

}  // namespace raftmeta::node::testing
