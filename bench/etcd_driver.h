// EtcdDriver: the benchmark's requests against etcd's v3 KV service (the
// generated stubs of etcd's own rpc.proto). A write is Put of a 256-byte
// value under a key per client; a read is Range of one 256-byte key,
// linearizable (etcd's default) or serializable (for the stale row). etcd
// has no lease read: the lease row compares against its linearizable read.
//
// Thread use: see SystemDriver.
#pragma once

#include <string>

#include "bench/load_types.h"

namespace raftmeta::bench {

class EtcdDriver : public SystemDriver {
 public:
  explicit EtcdDriver(std::size_t value_size);

  std::string name() const override { return "etcd"; }
  grpc::Status prepare(const std::shared_ptr<grpc::Channel>& channel) override;
  std::unique_ptr<RequestSlot> make_slot(Operation op,
                                         const std::shared_ptr<grpc::Channel>& channel,
                                         int index) override;

 private:
  const std::string value_;
};

}  // namespace raftmeta::bench
