#include "sidecar/node/member_incarnation.h"

#include <charconv>
#include <cstdio>
#include <filesystem>
#include <random>
#include <vector>

namespace raftmeta::node {
namespace {

constexpr const char* kHeader = "raftmeta-incarnation v1";

}  // namespace

std::uint64_t new_incarnation() {
  std::random_device device;
  std::uint64_t value = 0;
  while (value == 0) {
    value = (static_cast<std::uint64_t>(device()) << 32) ^ static_cast<std::uint64_t>(device());
  }
  return value;
}

std::string incarnation_path(const std::string& data_dir) {
  return (std::filesystem::path(data_dir) / "incarnation").string();
}

std::string incarnation_text(std::uint64_t incarnation) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(incarnation));
  return buf;
}

bool stamp_incarnation(const std::string& data_dir, raft::NodeId id, std::uint64_t incarnation,
                       std::string* error) {
  return write_durable_file(incarnation_path(data_dir), kHeader,
                            {std::to_string(id) + " " + incarnation_text(incarnation)}, error);
}

DurableReadResult read_incarnation(const std::string& data_dir, raft::NodeId id,
                                   std::uint64_t* incarnation, std::string* error) {
  const std::string path = incarnation_path(data_dir);
  std::vector<std::string> lines;
  const DurableReadResult r = read_durable_file(path, kHeader, &lines, error);
  if (r != DurableReadResult::kOk) return r;
  raft::NodeId stored_id = 0;
  std::uint64_t value = 0;
  bool parsed = lines.size() == 1;
  if (parsed) {
    const std::string& line = lines[0];
    const std::size_t space = line.find(' ');
    parsed = space != std::string::npos &&
             std::from_chars(line.data(), line.data() + space, stored_id).ec == std::errc() &&
             std::from_chars(line.data() + space + 1, line.data() + line.size(), value, 16).ec ==
                 std::errc() &&
             value != 0;
  }
  if (!parsed) {
    *error = path + " does not hold '<member id> <incarnation>'";
    return DurableReadResult::kError;
  }
  if (stored_id != id) {
    *error = path + " belongs to member " + std::to_string(stored_id) + ", not member " +
             std::to_string(id);
    return DurableReadResult::kError;
  }
  *incarnation = value;
  return DurableReadResult::kOk;
}

}  // namespace raftmeta::node
