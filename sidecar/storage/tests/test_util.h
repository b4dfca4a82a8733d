// Helpers shared by the storage tests: a scratch directory, file access,
// deterministic entries.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "sidecar/raft/types.h"
#include "sidecar/storage/crc32c.h"
#include "sidecar/storage/log_store.h"

namespace raftmeta::storage::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with its contents.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/raftmeta-storage-XXXXXX";
    path_ = ::mkdtemp(tmpl.data()) ? tmpl : "";
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void write_file(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

inline raft::Entry make_entry(raft::Index index, raft::Term term, std::size_t size = 16) {
  raft::Entry e;
  e.index = index;
  e.term = term;
  e.data.resize(size);
  for (std::size_t i = 0; i < size; ++i) {
    e.data[i] = static_cast<char>('a' + (index * 31 + term * 7 + i) % 26);
  }
  return e;
}

inline std::vector<raft::Entry> make_entries(raft::Index lo, raft::Index hi, raft::Term term,
                                             std::size_t size = 16) {
  std::vector<raft::Entry> out;
  for (raft::Index i = lo; i < hi; ++i) out.push_back(make_entry(i, term, size));
  return out;
}

inline OpenOptions options_for(const std::string& dir) {
  OpenOptions o;
  o.data_dir = dir;
  o.cluster_id = "cluster-a";
  o.member_id = 1;
  o.create_if_missing = true;
  o.keep_tail_entries = 0;
  return o;
}

}  // namespace raftmeta::storage::testing
