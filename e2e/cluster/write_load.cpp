#include "e2e/cluster/write_load.h"

#include <pthread.h>

#include "e2e/cluster/cluster_client.h"

namespace raftmeta::e2e {

WriteLoad::WriteLoad(std::vector<std::string> endpoints, std::string cluster_id, std::string prefix)
    : endpoints_(std::move(endpoints)),
      cluster_id_(std::move(cluster_id)),
      prefix_(std::move(prefix)) {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "write-load");
    run();
  });
}

WriteLoad::~WriteLoad() { stop(); }

void WriteLoad::stop() {
  stopping_.store(true);
  if (thread_.joinable()) thread_.join();
}

std::vector<std::string> WriteLoad::acknowledged_names() const {
  std::lock_guard lock(error_mu_);
  return names_;
}

std::string WriteLoad::last_error() const {
  std::lock_guard lock(error_mu_);
  return last_error_;
}

bool WriteLoad::wait_for_more(std::uint64_t more, std::chrono::milliseconds timeout) const {
  const std::uint64_t target = acknowledged_.load() + more;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (acknowledged_.load() >= target) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return acknowledged_.load() >= target;
}

void WriteLoad::run() {
  // Each write may take up to the client's timeout while the cluster elects;
  // a write that fails even so is counted and the next one tried.
  ClusterClient client(endpoints_, cluster_id_, std::chrono::milliseconds(20000));
  for (std::uint64_t i = 0; !stopping_.load(); ++i) {
    const std::string name = prefix_ + std::to_string(i);
    const grpc::Status s = client.create_topic(name, 1);
    if (s.ok()) {
      {
        std::lock_guard lock(error_mu_);
        names_.push_back(name);
      }
      acknowledged_.fetch_add(1);
    } else {
      failed_.fetch_add(1);
      std::lock_guard lock(error_mu_);
      last_error_ = s.error_message();
    }
  }
}

}  // namespace raftmeta::e2e
