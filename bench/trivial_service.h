// The gRPC ceiling: a unary service that does no work (256-byte request, an
// 8-byte answer), served by an async completion-queue server with one queue
// thread in this process, and its driver for the same closed-loop client
// the systems get. No request served over gRPC on this machine can be
// faster than this; the benchmark reports it beside the systems' figures.
//
// Thread use: TrivialServer owns its thread "trivial-cq"; the driver is
// used like any SystemDriver.
#pragma once

#include <grpcpp/generic/async_generic_service.h>

#include <memory>
#include <string>
#include <thread>

#include "bench/load_types.h"

namespace raftmeta::bench {

class TrivialServer {
 public:
  // Listens on 127.0.0.1 on a port the kernel picks.
  TrivialServer();
  ~TrivialServer();  // shuts down and joins
  std::string address() const { return address_; }

 private:
  void serve();

  grpc::AsyncGenericService service_;
  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  std::thread thread_;
};

class TrivialDriver : public SystemDriver {
 public:
  explicit TrivialDriver(std::size_t request_size);
  std::string name() const override { return "grpc-ceiling"; }
  grpc::Status prepare(const std::shared_ptr<grpc::Channel>&) override { return grpc::Status::OK; }
  std::unique_ptr<RequestSlot> make_slot(Operation op,
                                         const std::shared_ptr<grpc::Channel>& channel,
                                         int index) override;

 private:
  const std::string payload_;
};

}  // namespace raftmeta::bench
