// Validation of state-machine commands: a pure function of (command, state).
//
// The Metadata service calls validate() against its latest published State
// before proposing, so that almost every bad request is refused without
// touching the log. The state machine calls the same function again at apply
// time against the exact state the command applies to: a command that was
// valid when proposed but is not any more (a concurrent create, a newer
// epoch) then yields the same deterministic error on every member and the
// state moves on.
//
// THREAD SAFETY: pure; safe from any thread on any State.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "raftmeta/v1/state.pb.h"
#include "sidecar/node/state/state.h"

namespace raftmeta::state {

// gRPC status code numbers used by the state machine.
inline constexpr int kOk = 0;
inline constexpr int kInvalidArgument = 3;
inline constexpr int kNotFound = 5;
inline constexpr int kAlreadyExists = 6;
inline constexpr int kFailedPrecondition = 9;
inline constexpr int kOutOfRange = 11;

// Limits (Kafka's where Kafka has one).
inline constexpr std::size_t kMaxTopicNameLength = 249;
inline constexpr std::size_t kMaxGroupIdLength = 249;
inline constexpr std::int32_t kMaxPartitions = 10'000;
inline constexpr std::int32_t kMaxReplicationFactor = 128;
inline constexpr std::size_t kMaxConfigEntries = 1000;
inline constexpr std::size_t kMaxConfigKeyLength = 255;
inline constexpr std::size_t kMaxConfigValueLength = 4096;
inline constexpr std::size_t kMaxHostLength = 255;
inline constexpr std::size_t kMaxLabelLength = 255;  // rack, incarnation, protocol names
inline constexpr std::int64_t kDefaultSessionTimeoutMs = 18'000;
inline constexpr std::int64_t kMinSessionTimeoutMs = 1'000;
inline constexpr std::int64_t kMaxSessionTimeoutMs = 3'600'000;
inline constexpr std::size_t kMaxOffsetsPerCommit = 10'000;
inline constexpr std::size_t kMaxOffsetMetadataLength = 4096;
inline constexpr std::size_t kMaxGroupMembers = 10'000;
inline constexpr std::int32_t kProducerIdBlockSize = 1000;

struct CommandStatus {
  int code = kOk;
  std::string message;  // for people; empty when ok
  bool ok() const { return code == kOk; }
};

// Kafka's topic naming rules: 1..249 characters of [a-zA-Z0-9._-], and not
// "." or "..". On failure *why says which rule was broken.
bool valid_topic_name(std::string_view name, std::string* why);

// Group ids: 1..249 characters, no control characters.
bool valid_group_id(std::string_view group_id, std::string* why);

// Whether `command` may be applied to `state`. Checks everything apply relies
// on; the error code and message are a deterministic function of the inputs.
CommandStatus validate(const v1::Command& command, const State& state);

}  // namespace raftmeta::state
