// Propose-to-commit throughput of a 3-node in-memory cluster with 256-byte
// entries: the core's CPU cost per committed entry (no disk, no network).
// Each iteration proposes a batch on the leader and delivers messages until
// the batch is committed on the leader.
#include <benchmark/benchmark.h>

#include "sidecar/raft/tests/scenario_net.h"

namespace raftmeta::raft::test {
namespace {

void BM_ProposeToCommit(benchmark::State& state) {
  const int batch = static_cast<int>(state.range(0));
  Net net(3);
  net.campaign(1);
  net.deliver_all();
  const std::string payload(256, 'p');
  std::int64_t committed = 0;
  for (auto _ : state) {
    Index last = 0;
    for (int i = 0; i < batch; ++i) last = net.node(1).propose(payload).index;
    net.process(1);
    net.deliver_all();
    if (net.status(1).commit < last) state.SkipWithError("batch did not commit");
    committed += batch;
    // Keep memory bounded: compact every node once in a while.
    if (net.status(1).applied % 8192 < static_cast<Index>(batch)) {
      for (NodeId id : {1u, 2u, 3u}) {
        auto& applied_entries = net.app(id).applied;  // keep the last: the app's position
        if (applied_entries.size() > 1)
          applied_entries.erase(applied_entries.begin(), applied_entries.end() - 1);
        net.delivered().clear();
        const Index applied = net.status(id).applied;
        if (applied > net.storage(id).first_index()) {
          net.storage(id).create_snapshot(applied, net.status(id).conf, "");
          net.storage(id).compact(applied);
        }
      }
    }
  }
  state.SetItemsProcessed(committed);
  state.SetBytesProcessed(committed * 256);
}
BENCHMARK(BM_ProposeToCommit)->Arg(1)->Arg(16)->Arg(128);

}  // namespace
}  // namespace raftmeta::raft::test

BENCHMARK_MAIN();
