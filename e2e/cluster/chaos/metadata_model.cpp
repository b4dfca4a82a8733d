#include "e2e/cluster/chaos/metadata_model.h"

namespace raftmeta::chaos {
namespace {

// Topic: a = exists (0/1), b = topic id (0: unknown).
std::vector<ModelState> step_topic(const ModelState& s, const Operation& op) {
  const bool exists = s.a != 0;
  const auto id_matches = [&](std::int64_t id) { return s.b == 0 || s.b == id; };
  switch (op.kind) {
    case OpKind::kTopicCreate:
      if (op.outcome == Outcome::kOk) {
        if (exists) return {};
        return {ModelState{1, op.output}};
      }
      if (op.outcome == Outcome::kRejected) {
        if (!exists) return {};
        return {s};
      }
      if (exists) return {s};
      return {s, ModelState{1, 0}};
    case OpKind::kTopicDelete:
      if (op.outcome == Outcome::kOk) {
        if (!exists || !id_matches(op.output)) return {};
        return {ModelState{0, 0}};
      }
      if (op.outcome == Outcome::kRejected) {
        if (exists) return {};
        return {s};
      }
      if (!exists) return {s};
      return {s, ModelState{0, 0}};
    case OpKind::kTopicGet:
      if (op.outcome == Outcome::kOk) {
        if (!exists || !id_matches(op.output)) return {};
        return {ModelState{1, op.output}};
      }
      if (op.outcome == Outcome::kRejected) {
        if (exists) return {};
        return {s};
      }
      return {s};  // a read with no answer has no effect
    default:
      return {};
  }
}

// Offset: a = committed offset (-1: none).
std::vector<ModelState> step_offset(const ModelState& s, const Operation& op) {
  switch (op.kind) {
    case OpKind::kOffsetCommit:
      if (op.outcome == Outcome::kOk) return {ModelState{op.input, 0}};
      if (op.outcome == Outcome::kRejected) return {s};
      if (s.a == op.input) return {s};
      return {s, ModelState{op.input, 0}};
    case OpKind::kOffsetFetch:
      if (op.outcome != Outcome::kOk) return {s};
      if (op.output != s.a) return {};
      return {s};
    default:
      return {};
  }
}

// Producer: a = the lowest id not yet handed out.
std::vector<ModelState> step_producer(const ModelState& s, const Operation& op) {
  if (op.kind != OpKind::kProducerAlloc) return {};
  if (op.outcome != Outcome::kOk) return {s};
  if (op.output < s.a || op.output2 <= 0) return {};
  return {ModelState{op.output + op.output2, 0}};
}

// Broker: a = current epoch (0: never registered, -1: registered with an
// epoch nobody has seen), b = the largest epoch known to have been handed out.
constexpr std::int64_t kUnseenEpoch = -1;

// The state after an answer that names `epoch` as the current one, or none
// when that is impossible at s.
std::vector<ModelState> broker_epoch_seen(const ModelState& s, std::int64_t epoch) {
  if (s.a == epoch && epoch > 0) return {s};
  if (s.a == kUnseenEpoch && epoch > s.b) return {ModelState{epoch, epoch}};
  return {};
}

std::vector<ModelState> step_broker(const ModelState& s, const Operation& op) {
  switch (op.kind) {
    case OpKind::kBrokerRegister:
      if (op.outcome == Outcome::kOk) {
        if (op.output <= s.b || op.output <= 0) return {};
        return {ModelState{op.output, op.output}};
      }
      if (op.outcome == Outcome::kRejected) return {};
      if (s.a == kUnseenEpoch) return {s};
      return {s, ModelState{kUnseenEpoch, s.b}};
    case OpKind::kBrokerHeartbeat:
      if (op.outcome == Outcome::kOk) return broker_epoch_seen(s, op.input);
      if (op.outcome == Outcome::kRejected) {
        if (op.output == kHeartbeatNotRegistered) {
          if (s.a != 0) return {};
          return {s};
        }
        if (s.a == 0 || s.a == op.input) return {};
        return {s};
      }
      return {s};  // a heartbeat changes no modelled state
    case OpKind::kBrokerGet:
    case OpKind::kBrokerList:
      if (op.outcome == Outcome::kOk) return broker_epoch_seen(s, op.output);
      if (op.outcome == Outcome::kRejected) {
        if (s.a != 0) return {};
        return {s};
      }
      return {s};
    default:
      return {};
  }
}

}  // namespace

ModelKind model_of(OpKind kind) {
  switch (kind) {
    case OpKind::kTopicCreate:
    case OpKind::kTopicDelete:
    case OpKind::kTopicGet:
      return ModelKind::kTopic;
    case OpKind::kOffsetCommit:
    case OpKind::kOffsetFetch:
      return ModelKind::kOffset;
    case OpKind::kProducerAlloc:
      return ModelKind::kProducer;
    case OpKind::kBrokerRegister:
    case OpKind::kBrokerHeartbeat:
    case OpKind::kBrokerGet:
    case OpKind::kBrokerList:
      return ModelKind::kBroker;
  }
  return ModelKind::kTopic;
}

ModelState initial_state(ModelKind model) {
  if (model == ModelKind::kOffset) return ModelState{-1, 0};
  return ModelState{0, 0};
}

std::vector<ModelState> step(ModelKind model, const ModelState& state, const Operation& op) {
  if (model_of(op.kind) != model) return {};
  switch (model) {
    case ModelKind::kTopic:
      return step_topic(state, op);
    case ModelKind::kOffset:
      return step_offset(state, op);
    case ModelKind::kProducer:
      return step_producer(state, op);
    case ModelKind::kBroker:
      return step_broker(state, op);
  }
  return {};
}

std::string describe(ModelKind model, const ModelState& state) {
  switch (model) {
    case ModelKind::kTopic:
      if (state.a == 0) return "absent";
      return "exists(topic_id=" + (state.b == 0 ? std::string("?") : std::to_string(state.b)) + ")";
    case ModelKind::kOffset:
      return "offset=" + std::to_string(state.a);
    case ModelKind::kProducer:
      return "next_id>=" + std::to_string(state.a);
    case ModelKind::kBroker:
      if (state.a == 0) return "not registered";
      return "registered(epoch=" +
             (state.a == kUnseenEpoch ? std::string("?") : std::to_string(state.a)) +
             ", epochs handed out up to " + std::to_string(state.b) + ")";
  }
  return "?";
}

}  // namespace raftmeta::chaos
