// EtcdCluster: 3 etcd members (the etcd 3.4 binary, /usr/bin/etcd by
// default) on 127.0.0.1 with etcd's defaults: fsync of the WAL on every
// commit, heartbeat 100 ms, election timeout 1000 ms. Data and logs live in
// a directory of their own under `root`. The leader is found with the
// Maintenance service's Status call.
//
// Thread use: one owner thread.
#pragma once

#include <map>
#include <memory>

#include "bench/bench_cluster.h"
#include "e2e/cluster/child_process.h"

namespace raftmeta::bench {

struct EtcdClusterOptions {
  std::string binary = "/usr/bin/etcd";
  std::string root;  // parent directory of the data directories
  int heartbeat_ms = 100;
  int election_ms = 1000;
  int port_base_hint = 23400;
};

class EtcdCluster : public BenchCluster {
 public:
  explicit EtcdCluster(EtcdClusterOptions options);
  ~EtcdCluster() override;

  std::string name() const override { return "etcd"; }
  bool start(std::string* error) override;
  std::vector<int> members() const override { return {1, 2, 3}; }
  std::string client_address(int id) const override;
  std::optional<int> leader(std::chrono::milliseconds timeout) override;
  void kill(int id) override;
  bool restart(int id, std::string* error) override;
  pid_t pid(int id) const override;
  std::string diagnostics() const override;

 private:
  std::string peer_address(int id) const;
  bool spawn(int id, std::string* error);
  // The member id etcd reports and whom it sees as leader; nullopt when it
  // does not answer.
  struct StatusView {
    std::uint64_t member_id = 0;
    std::uint64_t leader = 0;
  };
  std::optional<StatusView> status(int id) const;

  EtcdClusterOptions options_;
  std::string dir_;
  int port_base_ = 0;
  std::map<int, std::unique_ptr<e2e::ChildProcess>> processes_;
};

}  // namespace raftmeta::bench
