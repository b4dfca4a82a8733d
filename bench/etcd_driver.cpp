#include "bench/etcd_driver.h"

#include <chrono>
#include <thread>

#include "bench/unary_slot.h"
#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"

namespace raftmeta::bench {
namespace {

constexpr char kReadKey[] = "bench-read";

}  // namespace

EtcdDriver::EtcdDriver(std::size_t value_size) : value_(bench_value(value_size)) {}

grpc::Status EtcdDriver::prepare(const std::shared_ptr<grpc::Channel>& channel) {
  etcdserverpb::KV::Stub stub(channel);
  etcdserverpb::PutRequest put;
  put.set_key(kReadKey);
  put.set_value(value_);
  grpc::Status status;
  for (int attempt = 0; attempt < 50; ++attempt) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    etcdserverpb::PutResponse response;
    status = stub.Put(&context, put, &response);
    if (status.ok()) return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return status;
}

std::unique_ptr<RequestSlot> EtcdDriver::make_slot(Operation op,
                                                   const std::shared_ptr<grpc::Channel>& channel,
                                                   int index) {
  auto stub = std::make_shared<etcdserverpb::KV::Stub>(channel);
  if (op == Operation::kWrite) {
    etcdserverpb::PutRequest request;
    request.set_key("bench/" + std::to_string(index));
    request.set_value(value_);
    using Slot = UnarySlot<etcdserverpb::PutRequest, etcdserverpb::PutResponse>;
    return std::make_unique<Slot>(
        std::move(request),
        [stub](grpc::ClientContext* c, const etcdserverpb::PutRequest& r,
               grpc::CompletionQueue* cq) { return stub->AsyncPut(c, r, cq); },
        nullptr);
  }
  etcdserverpb::RangeRequest request;
  request.set_key(kReadKey);
  request.set_serializable(op == Operation::kReadStale);
  using Slot = UnarySlot<etcdserverpb::RangeRequest, etcdserverpb::RangeResponse>;
  return std::make_unique<Slot>(
      std::move(request),
      [stub](grpc::ClientContext* c, const etcdserverpb::RangeRequest& r,
             grpc::CompletionQueue* cq) { return stub->AsyncRange(c, r, cq); },
      nullptr);
}

}  // namespace raftmeta::bench
