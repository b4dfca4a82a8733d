// storage_bench: what the disk can do versus what LogStore does with it, in
// the same run.
//
//   storage_bench [--dir <data-dir-parent>] [--seconds <per slice>] [--rounds N]
//
// 1. Raw: 4 KiB pwrite + fdatasync in a loop on a new file in --dir, both
//    appending (the file grows) and in place (preallocated region, no size
//    change: what SQLite's WAL does in its steady state): the physical limit
//    of one synchronous writer.
// 2. LogStore: persisted Readys per second, each Ready being one save() of
//    N entries of 256 bytes plus the hard state, for N = 1, 16 and 256.
// The machine is shared and noisy, so the measurements are interleaved in
// rounds (raw append, raw in place, 1, 16, 256, ...) and the medians are reported, with the
// batch-1 ratio to each raw rate (target >= 70% of the faster) as the
// median of the per-round ratios.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "sidecar/storage/log_store.h"

using namespace raftmeta;
using Clock = std::chrono::steady_clock;

namespace {

struct Result {
  double per_second = 0;
  double p50_us = 0;
  double p99_us = 0;
};

Result summarize(std::vector<double> lat_us, double seconds) {
  Result r;
  r.per_second = static_cast<double>(lat_us.size()) / seconds;
  std::sort(lat_us.begin(), lat_us.end());
  if (!lat_us.empty()) {
    r.p50_us = lat_us[lat_us.size() / 2];
    r.p99_us = lat_us[std::min(lat_us.size() - 1, lat_us.size() * 99 / 100)];
  }
  return r;
}

// append: the file grows with every write (size metadata to sync too);
// otherwise: overwrite a preallocated, synced 64 MiB region in place, as
// SQLite does once its WAL has reached its steady size.
Result raw_fdatasync(const std::string& dir, double seconds, bool append) {
  const std::string path = dir + "/raw-fdatasync.bin";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) {
    std::perror(path.c_str());
    std::exit(1);
  }
  std::string block(4096, 'r');
  constexpr off_t kRegion = 64 << 20;
  if (!append) {
    std::string zeros(1 << 20, '\0');
    for (off_t o = 0; o < kRegion; o += static_cast<off_t>(zeros.size())) {
      if (::pwrite(fd, zeros.data(), zeros.size(), o) != static_cast<ssize_t>(zeros.size())) {
        std::perror("pwrite");
        std::exit(1);
      }
    }
    ::fsync(fd);
  }
  std::vector<double> lat;
  off_t off = 0;
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration<double>(seconds);
  while (Clock::now() < end) {
    const auto t0 = Clock::now();
    if (::pwrite(fd, block.data(), block.size(), off) != static_cast<ssize_t>(block.size()) ||
        ::fdatasync(fd) != 0) {
      std::perror("pwrite/fdatasync");
      std::exit(1);
    }
    off += static_cast<off_t>(block.size());
    if (!append && off >= kRegion) off = 0;
    lat.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  ::close(fd);
  ::unlink(path.c_str());
  return summarize(std::move(lat), elapsed);
}

class StoreRun {
 public:
  StoreRun(const std::string& dir, std::size_t batch)
      : data_dir_(dir + "/store-" + std::to_string(batch)), batch_(batch) {
    std::filesystem::remove_all(data_dir_);
    storage::OpenOptions o;
    o.data_dir = data_dir_;
    o.cluster_id = "bench";
    o.member_id = 1;
    o.create_if_missing = true;
    storage::Status s;
    store_ = storage::LogStore::open(o, &s);
    if (!store_) {
      std::fprintf(stderr, "open: %s\n", s.to_string().c_str());
      std::exit(1);
    }
    b_.entries.resize(batch);
    for (auto& e : b_.entries) e.data.assign(256, 'e');
  }
  ~StoreRun() {
    store_.reset();
    std::filesystem::remove_all(data_dir_);
  }

  // Persists Readys for `seconds`.
  Result run(double seconds) {
    std::vector<double> lat;
    const auto start = Clock::now();
    const auto end = start + std::chrono::duration<double>(seconds);
    while (Clock::now() < end) {
      for (auto& e : b_.entries) {
        e.index = next_++;
        e.term = 1;
      }
      // As in a Ready: the commit trails what this batch appends.
      b_.hard_state = raft::HardState{1, 1, next_ - 1 - batch_};
      const auto t0 = Clock::now();
      if (storage::Status st = store_->save(b_); !st) {
        std::fprintf(stderr, "save: %s\n", st.to_string().c_str());
        std::exit(1);
      }
      lat.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    }
    return summarize(std::move(lat), std::chrono::duration<double>(Clock::now() - start).count());
  }

 private:
  std::string data_dir_;
  std::size_t batch_;
  std::unique_ptr<storage::LogStore> store_;
  storage::WriteBatch b_;
  raft::Index next_ = 1;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

void print(const char* what, const Result& r, double entries_per_op) {
  std::printf("%-34s %9.0f /s  %10.0f entries/s  p50 %7.0f us  p99 %7.0f us\n", what, r.per_second,
              r.per_second * entries_per_op, r.p50_us, r.p99_us);
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = std::filesystem::temp_directory_path().string();
  double seconds = 1;
  int rounds = 7;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "--dir") {
      dir = argv[i + 1];
    } else if (arg == "--seconds") {
      seconds = std::atof(argv[i + 1]);
    } else if (arg == "--rounds") {
      rounds = std::atoi(argv[i + 1]);
    } else {
      std::fprintf(stderr, "usage: storage_bench [--dir DIR] [--seconds S] [--rounds N]\n");
      return 2;
    }
  }
  std::filesystem::create_directories(dir);
  std::printf("storage_bench: dir %s, %d rounds of %.1f s per measurement, interleaved\n",
              dir.c_str(), rounds, seconds);
  const std::size_t batches[] = {1, 16, 256};
  std::vector<std::unique_ptr<StoreRun>> stores;
  for (std::size_t b : batches) stores.push_back(std::make_unique<StoreRun>(dir, b));
  // Warm-up: let each store's WAL reach its steady size once.
  for (auto& s : stores) s->run(seconds / 2);

  // Series 0: raw append, 1: raw overwrite, 2..4: the stores.
  std::vector<std::vector<double>> rates(5), p50(5), p99(5);
  std::vector<double> ratio_append, ratio_overwrite;
  auto record = [&](std::size_t k, const Result& r) {
    rates[k].push_back(r.per_second);
    p50[k].push_back(r.p50_us);
    p99[k].push_back(r.p99_us);
  };
  for (int round = 0; round < rounds; ++round) {
    const Result append = raw_fdatasync(dir, seconds, /*append=*/true);
    const Result overwrite = raw_fdatasync(dir, seconds, /*append=*/false);
    record(0, append);
    record(1, overwrite);
    for (std::size_t k = 0; k < 3; ++k) {
      const Result r = stores[k]->run(seconds);
      record(2 + k, r);
      if (k == 0) {
        ratio_append.push_back(r.per_second / append.per_second);
        ratio_overwrite.push_back(r.per_second / overwrite.per_second);
      }
    }
  }
  auto med = [&](std::size_t k) {
    return Result{median(rates[k]), median(p50[k]), median(p99[k])};
  };
  std::printf("medians over %d rounds:\n", rounds);
  print("raw 4KiB pwrite+fdatasync, append", med(0), 0);
  print("raw 4KiB pwrite+fdatasync, in place", med(1), 0);
  for (std::size_t k = 0; k < 3; ++k) {
    const std::string label = "LogStore save, " + std::to_string(batches[k]) + " x 256 B";
    print(label.c_str(), med(2 + k), static_cast<double>(batches[k]));
  }
  // The stricter reference is the faster raw mode (in place, usually).
  const double vs_append = median(ratio_append);
  const double vs_overwrite = median(ratio_overwrite);
  const double ratio = std::min(vs_append, vs_overwrite);
  std::printf(
      "batch 1 / raw rate (median of per-round ratios): %.0f%% of append, %.0f%% of "
      "in place; target >= 70%% of the faster: %s\n",
      vs_append * 100, vs_overwrite * 100, ratio >= 0.7 ? "met" : "NOT met");
  return 0;
}
