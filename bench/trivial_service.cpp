#include "bench/trivial_service.h"

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>
#include <pthread.h>

#include "bench/unary_slot.h"

namespace raftmeta::bench {
namespace {

constexpr char kMethod[] = "/raftmeta.bench.Trivial/Call";

grpc::ByteBuffer buffer_of(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

// One call through its states: accepted → request read → answered.
class TrivialCall {
 public:
  TrivialCall(grpc::AsyncGenericService* service, grpc::ServerCompletionQueue* cq)
      : service_(service), cq_(cq), stream_(&context_) {
    service_->RequestCall(&context_, &stream_, cq_, cq_, this);
  }
  // Advances on a completion; returns false when the call object is done.
  bool proceed(bool ok) {
    switch (state_) {
      case State::kAccepting:
        if (!ok) return false;  // shutting down
        new TrivialCall(service_, cq_);
        state_ = State::kReading;
        stream_.Read(&request_, this);
        return true;
      case State::kReading:
        state_ = State::kFinishing;
        if (!ok) {
          stream_.Finish(grpc::Status(grpc::StatusCode::INTERNAL, "no request"), this);
        } else {
          stream_.WriteAndFinish(buffer_of("answered"), grpc::WriteOptions(), grpc::Status::OK,
                                 this);
        }
        return true;
      case State::kFinishing:
        return false;
    }
    return false;
  }

 private:
  enum class State { kAccepting, kReading, kFinishing };
  grpc::AsyncGenericService* service_;
  grpc::ServerCompletionQueue* cq_;
  grpc::GenericServerContext context_;
  grpc::GenericServerAsyncReaderWriter stream_;
  grpc::ByteBuffer request_;
  State state_ = State::kAccepting;
};

}  // namespace

TrivialServer::TrivialServer() {
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterAsyncGenericService(&service_);
  cq_ = builder.AddCompletionQueue();
  server_ = builder.BuildAndStart();
  address_ = "127.0.0.1:" + std::to_string(port);
  thread_ = std::thread([this] { serve(); });
}

TrivialServer::~TrivialServer() {
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  cq_->Shutdown();
  thread_.join();
}

void TrivialServer::serve() {
  ::pthread_setname_np(::pthread_self(), "trivial-cq");
  new TrivialCall(&service_, cq_.get());
  void* tag = nullptr;
  bool ok = false;
  while (cq_->Next(&tag, &ok)) {
    auto* call = static_cast<TrivialCall*>(tag);
    if (!call->proceed(ok)) delete call;
  }
}

TrivialDriver::TrivialDriver(std::size_t request_size) : payload_(bench_value(request_size)) {}

std::unique_ptr<RequestSlot> TrivialDriver::make_slot(Operation,
                                                      const std::shared_ptr<grpc::Channel>& channel,
                                                      int) {
  auto stub = std::make_shared<grpc::GenericStub>(channel);
  using Slot = UnarySlot<grpc::ByteBuffer, grpc::ByteBuffer>;
  return std::make_unique<Slot>(
      buffer_of(payload_),
      [stub](grpc::ClientContext* c, const grpc::ByteBuffer& r, grpc::CompletionQueue* cq) {
        auto reader = stub->PrepareUnaryCall(c, kMethod, r, cq);
        reader->StartCall();
        return reader;
      },
      nullptr);
}

}  // namespace raftmeta::bench
