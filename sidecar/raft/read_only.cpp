// ReadIndex bookkeeping (see read_only.h).
#include "sidecar/raft/read_only.h"

namespace raftmeta::raft {

std::string encode_round(std::uint64_t round) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((round >> (8 * i)) & 0xff);
  return out;
}

std::optional<std::uint64_t> decode_round(std::string_view context) {
  if (context.size() != 8) return std::nullopt;
  std::uint64_t round = 0;
  for (int i = 0; i < 8; ++i) {
    round |= static_cast<std::uint64_t>(static_cast<unsigned char>(context[i])) << (8 * i);
  }
  return round;
}

std::vector<PendingRead> ReadOnly::take_waiting_for_commit() {
  std::vector<PendingRead> out(std::make_move_iterator(waiting_commit_.begin()),
                               std::make_move_iterator(waiting_commit_.end()));
  waiting_commit_.clear();
  return out;
}

std::vector<PendingRead> ReadOnly::release(std::uint64_t confirmed_round) {
  std::vector<PendingRead> out;
  while (!waiting_round_.empty() && waiting_round_.front().round <= confirmed_round) {
    out.push_back(std::move(waiting_round_.front()));
    waiting_round_.pop_front();
  }
  return out;
}

std::vector<PendingRead> ReadOnly::take_all() {
  std::vector<PendingRead> out = take_waiting_for_commit();
  for (auto& r : waiting_round_) out.push_back(std::move(r));
  waiting_round_.clear();
  return out;
}

}  // namespace raftmeta::raft
