#include "sidecar/storage/status.h"

namespace raftmeta::storage {

const char* code_name(Status::Code code) {
  switch (code) {
    case Status::Code::kOk:
      return "ok";
    case Status::Code::kInvalidArgument:
      return "invalid argument";
    case Status::Code::kNotFound:
      return "not found";
    case Status::Code::kCompacted:
      return "compacted";
    case Status::Code::kUnavailable:
      return "unavailable";
    case Status::Code::kCorruption:
      return "corruption";
    case Status::Code::kIdentityMismatch:
      return "identity mismatch";
    case Status::Code::kUnsupportedVersion:
      return "unsupported schema version";
    case Status::Code::kIOError:
      return "I/O error";
    case Status::Code::kBusy:
      return "busy";
  }
  return "unknown";
}

std::string Status::to_string() const {
  if (is_ok()) return "ok";
  return std::string(code_name(code_)) + ": " + message_;
}

}  // namespace raftmeta::storage
