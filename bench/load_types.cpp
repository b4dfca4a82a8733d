#include "bench/load_types.h"

#include <atomic>

namespace raftmeta::bench {

const char* operation_name(Operation op) {
  switch (op) {
    case Operation::kWrite:
      return "write";
    case Operation::kReadLinearizable:
      return "read-linearizable";
    case Operation::kReadLease:
      return "read-lease";
    case Operation::kReadStale:
      return "read-stale";
  }
  return "?";
}

std::shared_ptr<grpc::Channel> make_channel(const std::string& target) {
  static std::atomic<int> counter{0};
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  // Distinct arguments as well: belt and braces against connection sharing.
  args.SetInt("raftmeta.bench.channel", counter.fetch_add(1));
  args.SetMaxReceiveMessageSize(16 << 20);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

std::string bench_value(std::size_t size) {
  std::string value(size, 'v');
  for (std::size_t i = 0; i < size; ++i) value[i] = static_cast<char>('a' + i % 26);
  return value;
}

}  // namespace raftmeta::bench
