// The vocabulary shared by the benchmark's drivers and runners: what a
// request does (Operation), one outstanding request (RequestSlot) and a
// system under test (SystemDriver: raftmeta's Metadata service or etcd's v3
// KV service), so that the same closed-loop client drives both.
//
// Thread use: a RequestSlot belongs to the thread that polls its completion
// queue; a SystemDriver's make_slot() may be called from any one thread at a
// time (it only reads immutable configuration and bumps an atomic).
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>

namespace raftmeta::bench {

// The request kinds the benchmark compares. Equal guarantees per row:
// raftmeta linearizable/lease reads against etcd's linearizable Range,
// raftmeta stale reads against etcd's serializable Range.
enum class Operation {
  kWrite,             // raftmeta: CommitOffsets (one offset, 256-byte metadata); etcd: Put 256 B
  kReadLinearizable,  // raftmeta: FetchOffsets at LINEARIZABLE; etcd: Range
  kReadLease,         // raftmeta: FetchOffsets at LEASE; etcd: Range (linearizable)
  kReadStale,         // raftmeta: FetchOffsets at STALE; etcd: Range serializable
};

const char* operation_name(Operation op);

// One request in flight at a time. start() issues the next request (a fresh
// ClientContext each time) whose completion arrives on `cq` tagged `tag`;
// status() is valid once that tag came out of the queue.
class RequestSlot {
 public:
  virtual ~RequestSlot() = default;
  virtual void start(grpc::CompletionQueue* cq, std::chrono::system_clock::time_point deadline,
                     void* tag) = 0;
  virtual const grpc::Status& status() const = 0;
};

class SystemDriver {
 public:
  virtual ~SystemDriver() = default;
  virtual std::string name() const = 0;
  // Creates what reads and writes need (idempotent: safe to call again on a
  // running cluster, e.g. after a failover).
  virtual grpc::Status prepare(const std::shared_ptr<grpc::Channel>& channel) = 0;
  // A slot issuing `op` over `channel`; `index` separates the keys (or
  // consumer groups) of concurrent clients.
  virtual std::unique_ptr<RequestSlot> make_slot(Operation op,
                                                 const std::shared_ptr<grpc::Channel>& channel,
                                                 int index) = 0;
};

// A channel of its own (not shared through gRPC's global subchannel pool),
// so that each system and each run has its own TCP connection.
std::shared_ptr<grpc::Channel> make_channel(const std::string& target);

// The value every write carries: 256 bytes by default.
std::string bench_value(std::size_t size);

}  // namespace raftmeta::bench
