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
  }
  return "?";
}

}  // namespace raftmeta::chaos
