// The incident's lock-order inversion in miniature: the "Raft loop" takes the
// Raft lock and then the state lock (to apply entries); a "metadata query"
// takes the state lock and then the Raft lock (to ask for leader status).
// The threads run one after the other, so the run never deadlocks; TSan must
// still report the inversion. If this program exits cleanly under TSan, the
// TSan stage would miss the original bug, and the canary test fails.
#include <cstdio>
#include <mutex>
#include <thread>

namespace {

std::mutex raft_mutex;
std::mutex state_mutex;
int applied_index = 0;
int leader_id = 1;

void raft_loop_applies_entries() {
  std::lock_guard raft(raft_mutex);
  std::lock_guard state(state_mutex);
  ++applied_index;
}

int metadata_query_asks_for_leader() {
  std::lock_guard state(state_mutex);
  std::lock_guard raft(raft_mutex);
  return leader_id + applied_index;
}

}  // namespace

int main() {
  std::thread loop(raft_loop_applies_entries);
  loop.join();
  int answer = 0;
  std::thread query([&] { answer = metadata_query_asks_for_leader(); });
  query.join();
  std::printf("no deadlock in this run (answer %d); TSan must still report the inversion\n", answer);
  return 0;
}
