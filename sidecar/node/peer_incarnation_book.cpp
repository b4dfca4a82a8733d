#include "sidecar/node/peer_incarnation_book.h"

#include <charconv>
#include <filesystem>
#include <vector>

#include "sidecar/node/durable_file.h"
#include "sidecar/node/member_incarnation.h"

namespace raftmeta::node {
namespace {

constexpr const char* kHeader = "raftmeta-peer-incarnations v1";

bool parse_line(const std::string& line, raft::NodeId* id, std::uint64_t* incarnation) {
  const std::size_t space = line.find(' ');
  if (space == std::string::npos) return false;
  const char* end = line.data() + line.size();
  return std::from_chars(line.data(), line.data() + space, *id).ec == std::errc() && *id != 0 &&
         std::from_chars(line.data() + space + 1, end, *incarnation, 16).ec == std::errc() &&
         *incarnation != 0;
}

}  // namespace

PeerIncarnationBook::PeerIncarnationBook(std::string path,
                                         std::map<raft::NodeId, std::uint64_t> entries)
    : path_(std::move(path)), entries_(std::move(entries)) {}

std::unique_ptr<PeerIncarnationBook> PeerIncarnationBook::open(const std::string& data_dir,
                                                               std::string* error) {
  const std::string path = (std::filesystem::path(data_dir) / "peer-incarnations").string();
  std::vector<std::string> lines;
  std::map<raft::NodeId, std::uint64_t> entries;
  switch (read_durable_file(path, kHeader, &lines, error)) {
    case DurableReadResult::kMissing:
      break;
    case DurableReadResult::kError:
      *error +=
          " (it records which data directory each peer runs on; restore it or, if it is "
          "lost, replace this member: remove it and add it back under a new id)";
      return nullptr;
    case DurableReadResult::kOk:
      for (const std::string& line : lines) {
        raft::NodeId id = 0;
        std::uint64_t incarnation = 0;
        if (!parse_line(line, &id, &incarnation) || !entries.emplace(id, incarnation).second) {
          *error = path + ": bad line '" + line + "'";
          return nullptr;
        }
      }
      break;
  }
  return std::unique_ptr<PeerIncarnationBook>(new PeerIncarnationBook(path, std::move(entries)));
}

PeerIncarnationBook::Admission PeerIncarnationBook::admit(raft::NodeId id,
                                                          std::uint64_t incarnation) {
  Admission a;
  if (incarnation == 0) return a;
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = entries_.find(id); it != entries_.end()) {
    if (it->second != incarnation) {
      a.verdict = Verdict::kReplaced;
      a.recorded = it->second;
    }
    return a;
  }
  std::map<raft::NodeId, std::uint64_t> next = entries_;
  next[id] = incarnation;
  std::vector<std::string> lines;
  for (const auto& [peer, value] : next) {
    lines.push_back(std::to_string(peer) + " " + incarnation_text(value));
  }
  if (!write_durable_file(path_, kHeader, lines, &a.error)) {
    a.verdict = Verdict::kFailed;
    return a;
  }
  entries_ = std::move(next);
  ++version_;
  a.verdict = Verdict::kRecorded;
  return a;
}

std::optional<std::uint64_t> PeerIncarnationBook::known(raft::NodeId id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

std::uint64_t PeerIncarnationBook::version() const {
  std::lock_guard<std::mutex> lock(mu_);
  return version_;
}

std::map<raft::NodeId, std::uint64_t> PeerIncarnationBook::entries() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_;
}

}  // namespace raftmeta::node
