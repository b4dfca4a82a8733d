// The operations a chaos run records and the checkers judge.
//
// An Operation is one client call as the client saw it: what it asked, when it
// asked (invoke) and when it got its final answer (complete), and that answer
// reduced to what the sequential models need. Times are nanoseconds on one
// monotonic clock shared by every client thread of the run.
//
// Outcomes:
//   kOk       the call succeeded; `output` holds what it returned.
//   kRejected the call failed with an answer that is part of the model
//             (ALREADY_EXISTS for a create, NOT_FOUND for a delete or a get,
//             FAILED_PRECONDITION "stale broker epoch" for a heartbeat):
//             it is definite and did not change the state.
//   kUnknown  a write whose fate the client does not know (it timed out, the
//             member went away, it was retried until its budget ran out). It
//             may or may not have taken effect, at any time after its invoke:
//             the checker keeps it open to the end of the history.
// Reads that failed are not recorded (they had no effect and returned nothing).
//
// Value types only; no thread rules (a History is filled by one thread after
// the client threads joined, or per thread and merged).
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace raftmeta::chaos {

enum class OpKind {
  kTopicCreate,    // output: topic id
  kTopicDelete,    // output: topic id of the deleted topic
  kTopicGet,       // output: topic id (kRejected = NOT_FOUND)
  kOffsetCommit,   // input: the offset committed
  kOffsetFetch,    // output: the committed offset, -1 when none
  kProducerAlloc,  // output: first producer id, output2: count
  // Brokers (key: one broker id; see metadata_model.h):
  kBrokerRegister,   // output: the broker epoch it got (a new incarnation id every time)
  kBrokerHeartbeat,  // input: the epoch sent. kRejected: output 0 = FAILED_PRECONDITION
                     // (stale epoch), output kHeartbeatNotRegistered = NOT_FOUND
  kBrokerGet,        // output: the broker's epoch (kRejected = NOT_FOUND)
  kBrokerList,       // one ListBrokers answer projected on one broker: as kBrokerGet,
                     // kRejected = the broker was not in the list
};

// Operation::output of a heartbeat refused with NOT_FOUND (no such broker).
inline constexpr std::int64_t kHeartbeatNotRegistered = 1;

enum class Outcome { kOk, kRejected, kUnknown };

enum class ReadLevel { kNone, kLinearizable, kLease, kStale };

inline constexpr std::int64_t kNeverCompleted = std::numeric_limits<std::int64_t>::max();

struct Operation {
  std::int64_t id = 0;  // unique in a history (the checker reports it)
  int client = 0;       // < 0: a final read at member -client after recovery
  std::string key;      // the object the operation is about (checked separately)
  OpKind kind = OpKind::kTopicGet;
  ReadLevel level = ReadLevel::kNone;  // reads only
  Outcome outcome = Outcome::kOk;
  std::int64_t input = 0;
  std::int64_t output = 0;
  std::int64_t output2 = 0;
  std::uint64_t revision = 0;  // the revision the answer reported (0: none)
  std::int64_t invoke_ns = 0;
  std::int64_t complete_ns = kNeverCompleted;  // kNeverCompleted for kUnknown
  // Stale reads: which member answered and that member's process generation
  // (incremented by every restart), for the per-client monotonic judgement.
  int member = 0;
  int member_generation = 0;
};

bool is_write(OpKind kind);
bool is_read(OpKind kind);
const char* to_string(OpKind kind);
const char* to_string(Outcome outcome);
const char* to_string(ReadLevel level);
// One line naming the operation, for anomaly reports.
std::string describe(const Operation& op);

}  // namespace raftmeta::chaos
