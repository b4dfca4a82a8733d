// RaftmetaCluster: 3 raftmeta-node processes on 127.0.0.1 through the e2e
// harness (e2e/cluster/ProcessCluster), with the same Raft timers as etcd's
// defaults (heartbeat 100 ms, election 1000 ms) and failpoints enabled (the
// stall measurement blocks the apply loop). Data lives under $TMPDIR.
//
// Thread use: one owner thread.
#pragma once

#include <memory>

#include "bench/bench_cluster.h"
#include "e2e/cluster/process_cluster.h"

namespace raftmeta::bench {

struct RaftmetaClusterOptions {
  std::string cluster_id = "raftmeta-bench";
  int heartbeat_ms = 100;
  int election_ms = 1000;
  int apply_stall_ms = 10000;
  int port_base_hint = 24000;
};

class RaftmetaCluster : public BenchCluster {
 public:
  explicit RaftmetaCluster(RaftmetaClusterOptions options);

  std::string name() const override { return "raftmeta"; }
  bool start(std::string* error) override;
  std::vector<int> members() const override { return {1, 2, 3}; }
  std::string client_address(int id) const override;
  std::optional<int> leader(std::chrono::milliseconds timeout) override;
  void kill(int id) override;
  bool restart(int id, std::string* error) override;
  pid_t pid(int id) const override;
  std::string diagnostics() const override;

  // The stall measurement's controls.
  bool set_failpoint(int id, const std::string& name, const std::string& action);
  int livez(int id, std::chrono::milliseconds timeout);
  const RaftmetaClusterOptions& options() const { return options_; }

 private:
  RaftmetaClusterOptions options_;
  std::unique_ptr<e2e::ProcessCluster> cluster_;
};

}  // namespace raftmeta::bench
