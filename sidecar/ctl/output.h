// raftmetactl's output: aligned tables for people, JSON for scripts.
//
// JSON is the response message in protobuf's canonical JSON mapping with the
// proto field names and every field printed (so scripts see zeros and empty
// lists too), on one line.
#pragma once

#include <google/protobuf/message.h>

#include <ostream>
#include <string>
#include <vector>

namespace raftmeta::ctl {

enum class OutputFormat { kTable, kJson };

class Table {
 public:
  explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  void add_row(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::size_t rows() const { return rows_.size(); }
  // Columns padded to their widest cell, separated by two spaces; no
  // trailing spaces.
  void print(std::ostream& out) const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// One line of JSON for `message`.
std::string to_json(const google::protobuf::Message& message);

// "1,2,3" for a list of ids.
template <typename Ids>
std::string join_ids(const Ids& ids) {
  std::string out;
  for (const auto& id : ids) {
    if (!out.empty()) out += ",";
    out += std::to_string(id);
  }
  return out;
}

}  // namespace raftmeta::ctl
