// storage_crash_child <data-dir> <seed>: the crash test's victim. Opens the
// store (creating it if missing) and runs the CrashWriter workload forever.
// After each save() that returned ok it writes "<first> <last> <term>
// <commit>\n" to stdout with one write(2) (atomic on a pipe): everything
// reported is claimed durable. The parent SIGKILLs it at a random moment.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "sidecar/storage/log_store.h"
#include "sidecar/storage/tests/crash_workload.h"

using namespace raftmeta::storage;

namespace {

[[noreturn]] void die(const char* what, const Status& s) {
  std::fprintf(stderr, "storage_crash_child: %s: %s\n", what, s.to_string().c_str());
  std::exit(3);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: storage_crash_child <data-dir> <seed>\n");
    return 2;
  }
  OpenOptions o = testing::crash_options(argv[1]);
  o.create_if_missing = true;
  Status s;
  auto store = LogStore::open(o, &s);
  if (!store) die("open", s);
  testing::CrashWriter writer(*store, std::strtoull(argv[2], nullptr, 10));
  for (;;) {
    testing::Report r;
    bool reported = false;
    if (Status st = writer.append_batch(*store, &r, &reported); !st) die("save", st);
    const std::string line = std::to_string(r.first) + " " + std::to_string(r.last) + " " +
                             std::to_string(r.term) + " " + std::to_string(r.commit) + "\n";
    if (::write(STDOUT_FILENO, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
      return 4;
    }
    if (Status st = writer.after_batch(*store); !st) die("after_batch", st);
  }
}
