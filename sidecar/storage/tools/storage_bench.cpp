// storage_bench: what the disk can do versus what LogStore does with it, in
// the same run.
//
//   storage_bench [--dir <data-dir-parent>] [--seconds <per slice>] [--rounds N]
//
// 1. Raw: 4 KiB pwrite + fdatasync in a loop on a new file in --dir,
//    appending (the file grows, as a log does): the physical limit of one
//    synchronous writer.
// 2. LogStore: persisted Readys per second, each Ready being one save() of
//    N entries of 256 bytes plus the hard state, for N = 1, 16 and 256.
// The machine is shared and noisy, so the measurements are interleaved in
// rounds (raw, 1, 16, 256, raw, ...) and the medians are reported, with the
// batch-1 ratio to the raw rate (target >= 70%) as the median of the
// per-round ratios.
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

Result raw_fdatasync(const std::string& dir, double seconds) {
  const std::string path = dir + "/raw-fdatasync.bin";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) {
    std::perror(path.c_str());
    std::exit(1);
  }
  std::string block(4096, 'r');
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

  std::vector<double> raw_rates, ratios;
  std::vector<std::vector<double>> rates(3), p50(3), p99(3);
  std::vector<double> raw_p50, raw_p99;
  for (int round = 0; round < rounds; ++round) {
    const Result raw = raw_fdatasync(dir, seconds);
    raw_rates.push_back(raw.per_second);
    raw_p50.push_back(raw.p50_us);
    raw_p99.push_back(raw.p99_us);
    for (std::size_t k = 0; k < 3; ++k) {
      const Result r = stores[k]->run(seconds);
      rates[k].push_back(r.per_second);
      p50[k].push_back(r.p50_us);
      p99[k].push_back(r.p99_us);
      if (k == 0) ratios.push_back(r.per_second / raw.per_second);
    }
  }
  std::printf("medians over %d rounds:\n", rounds);
  print("raw 4KiB pwrite+fdatasync", {median(raw_rates), median(raw_p50), median(raw_p99)}, 0);
  for (std::size_t k = 0; k < 3; ++k) {
    const std::string label = "LogStore save, " + std::to_string(batches[k]) + " x 256 B";
    print(label.c_str(), {median(rates[k]), median(p50[k]), median(p99[k])},
          static_cast<double>(batches[k]));
  }
  const double ratio = median(ratios);
  std::printf(
      "batch 1 / raw fdatasync rate (median of per-round ratios): %.0f%% "
      "(target >= 70%%): %s\n",
      ratio * 100, ratio >= 0.7 ? "met" : "NOT met");
  return 0;
}
