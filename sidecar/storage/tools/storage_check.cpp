// raftmeta-storage-check <data-dir> [--cluster-id ID --member-id N] [--quick]
//
// Checks a member's storage read-only (never writes; safe while the node
// runs): the start-up checks plus, unless --quick, PRAGMA integrity_check and
// every CRC. Without --cluster-id/--member-id it checks against the identity
// stamped in the file. Exit code 0 and "ok: ..." when healthy; 1 and the
// problem (naming the file) otherwise; 2 on bad usage.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "sidecar/storage/log_store.h"

using raftmeta::storage::LogStore;
using raftmeta::storage::OpenOptions;
using raftmeta::storage::Status;

int main(int argc, char** argv) {
  OpenOptions o;
  bool quick = false;
  bool has_identity = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--quick") {
      quick = true;
    } else if (arg == "--cluster-id" && i + 1 < argc) {
      o.cluster_id = argv[++i];
      has_identity = true;
    } else if (arg == "--member-id" && i + 1 < argc) {
      o.member_id = std::strtoull(argv[++i], nullptr, 10);
      has_identity = true;
    } else if (!arg.empty() && arg[0] != '-' && o.data_dir.empty()) {
      o.data_dir = arg;
    } else {
      std::fprintf(stderr,
                   "usage: raftmeta-storage-check <data-dir> [--cluster-id ID --member-id N] "
                   "[--quick]\n");
      return 2;
    }
  }
  if (o.data_dir.empty()) {
    std::fprintf(stderr, "raftmeta-storage-check: no data directory given\n");
    return 2;
  }
  if (!has_identity) {
    if (Status s = LogStore::read_identity(o.data_dir, &o.cluster_id, &o.member_id); !s) {
      std::fprintf(stderr, "raftmeta-storage-check: %s\n", s.to_string().c_str());
      return 1;
    }
  }
  if (Status s = LogStore::check(o, /*full=*/!quick); !s) {
    std::fprintf(stderr, "raftmeta-storage-check: %s\n", s.to_string().c_str());
    return 1;
  }
  std::printf("ok: %s/raft.db: cluster '%s', member %llu, %s check passed\n", o.data_dir.c_str(),
              o.cluster_id.c_str(), static_cast<unsigned long long>(o.member_id),
              quick ? "start-up" : "full");
  return 0;
}
