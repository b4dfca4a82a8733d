// Status: the result of a storage operation. No exceptions cross the storage
// boundary; every fallible call returns one of these.
//
// A Status is a small value (a code and a message written for the operator:
// it names the file and the problem). Thread-compatible.
#pragma once

#include <string>
#include <utility>

namespace raftmeta::storage {

class Status {
 public:
  enum class Code {
    kOk = 0,
    kInvalidArgument,     // the caller broke a documented precondition
    kNotFound,            // no database where one was expected
    kCompacted,           // the requested index was compacted away
    kUnavailable,         // the requested index is above the last index
    kCorruption,          // a checksum, an invariant or SQLite found damage
    kIdentityMismatch,    // the file belongs to another cluster or member
    kUnsupportedVersion,  // the file's schema is newer than this binary knows
    kIOError,             // the operating system or SQLite failed a read/write
    kBusy,                // another process holds the data directory
  };

  Status() = default;
  static Status ok() { return Status(); }
  static Status invalid_argument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
  static Status not_found(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status compacted(std::string m) { return {Code::kCompacted, std::move(m)}; }
  static Status unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
  static Status corruption(std::string m) { return {Code::kCorruption, std::move(m)}; }
  static Status identity_mismatch(std::string m) { return {Code::kIdentityMismatch, std::move(m)}; }
  static Status unsupported_version(std::string m) {
    return {Code::kUnsupportedVersion, std::move(m)};
  }
  static Status io_error(std::string m) { return {Code::kIOError, std::move(m)}; }
  static Status busy(std::string m) { return {Code::kBusy, std::move(m)}; }

  bool is_ok() const { return code_ == Code::kOk; }
  explicit operator bool() const { return is_ok(); }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "<code name>: <message>", or "ok".
  std::string to_string() const;

 private:
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  Code code_ = Code::kOk;
  std::string message_;
};

const char* code_name(Status::Code code);

}  // namespace raftmeta::storage
