// RaftmetaDriver: the benchmark's requests against raftmeta's Metadata
// service. A write is CommitOffsets of one offset whose metadata is the
// 256-byte value (Kafka's offset commit: the write a broker makes most
// often), carrying a real (client id, request id) header so the state
// machine's de-duplication costs what it costs in production. A read is
// FetchOffsets of one committed offset at the requested consistency.
//
// prepare() registers broker 1, creates topic "bench" (1 partition,
// replication factor 1) and commits the offset that reads fetch.
//
// Thread use: see SystemDriver.
#pragma once

#include <atomic>
#include <string>

#include "bench/load_types.h"

namespace raftmeta::bench {

class RaftmetaDriver : public SystemDriver {
 public:
  RaftmetaDriver(std::string cluster_id, std::size_t value_size);

  std::string name() const override { return "raftmeta"; }
  grpc::Status prepare(const std::shared_ptr<grpc::Channel>& channel) override;
  std::unique_ptr<RequestSlot> make_slot(Operation op,
                                         const std::shared_ptr<grpc::Channel>& channel,
                                         int index) override;

 private:
  const std::string cluster_id_;
  const std::string value_;
  const std::string run_nonce_;
  std::atomic<std::uint64_t> next_client_{1};
};

}  // namespace raftmeta::bench
