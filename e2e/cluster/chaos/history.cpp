#include "e2e/cluster/chaos/history.h"

#include <sstream>

namespace raftmeta::chaos {

bool is_write(OpKind kind) {
  return kind == OpKind::kTopicCreate || kind == OpKind::kTopicDelete ||
         kind == OpKind::kOffsetCommit || kind == OpKind::kProducerAlloc ||
         kind == OpKind::kBrokerRegister || kind == OpKind::kBrokerHeartbeat;
}

bool is_read(OpKind kind) { return !is_write(kind); }

const char* to_string(OpKind kind) {
  switch (kind) {
    case OpKind::kTopicCreate:
      return "topic-create";
    case OpKind::kTopicDelete:
      return "topic-delete";
    case OpKind::kTopicGet:
      return "topic-get";
    case OpKind::kOffsetCommit:
      return "offset-commit";
    case OpKind::kOffsetFetch:
      return "offset-fetch";
    case OpKind::kProducerAlloc:
      return "producer-alloc";
    case OpKind::kBrokerRegister:
      return "broker-register";
    case OpKind::kBrokerHeartbeat:
      return "broker-heartbeat";
    case OpKind::kBrokerGet:
      return "broker-get";
    case OpKind::kBrokerList:
      return "broker-list";
  }
  return "?";
}

const char* to_string(Outcome outcome) {
  switch (outcome) {
    case Outcome::kOk:
      return "ok";
    case Outcome::kRejected:
      return "rejected";
    case Outcome::kUnknown:
      return "unknown";
  }
  return "?";
}

const char* to_string(ReadLevel level) {
  switch (level) {
    case ReadLevel::kNone:
      return "";
    case ReadLevel::kLinearizable:
      return "linearizable";
    case ReadLevel::kLease:
      return "lease";
    case ReadLevel::kStale:
      return "stale";
  }
  return "?";
}

std::string describe(const Operation& op) {
  std::ostringstream out;
  out << "#" << op.id;
  if (op.client < 0) {
    out << " final read at member " << -op.client << ":";  // see Workload::final_reads
  } else {
    out << " client " << op.client;
  }
  out << " " << to_string(op.kind);
  if (op.level != ReadLevel::kNone) out << "(" << to_string(op.level) << ")";
  out << " " << op.key;
  if (op.kind == OpKind::kOffsetCommit) out << " offset=" << op.input;
  if (op.kind == OpKind::kBrokerHeartbeat) out << " epoch=" << op.input;
  out << " -> " << to_string(op.outcome);
  if (op.kind == OpKind::kBrokerHeartbeat && op.outcome == Outcome::kRejected) {
    out << (op.output == kHeartbeatNotRegistered ? " (not registered)" : " (stale epoch)");
  }
  if (op.outcome == Outcome::kOk) {
    switch (op.kind) {
      case OpKind::kTopicCreate:
      case OpKind::kTopicDelete:
      case OpKind::kTopicGet:
        out << " topic_id=" << op.output;
        break;
      case OpKind::kOffsetFetch:
        out << " offset=" << op.output;
        break;
      case OpKind::kProducerAlloc:
        out << " ids=[" << op.output << "," << op.output + op.output2 << ")";
        break;
      case OpKind::kBrokerRegister:
      case OpKind::kBrokerGet:
      case OpKind::kBrokerList:
        out << " epoch=" << op.output;
        break;
      case OpKind::kOffsetCommit:
      case OpKind::kBrokerHeartbeat:
        break;
    }
  }
  if (op.revision != 0) out << " rev=" << op.revision;
  out << " [" << op.invoke_ns / 1000000 << "ms..";
  if (op.complete_ns == kNeverCompleted) {
    out << "open]";
  } else {
    out << op.complete_ns / 1000000 << "ms]";
  }
  return out.str();
}

}  // namespace raftmeta::chaos
