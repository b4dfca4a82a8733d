// UnarySlot: a RequestSlot for one unary RPC of a generated async stub. The
// request message is kept and changed in place by `next` before every
// start (a new request id, offset, ...), the ClientContext is new each time.
//
// Thread use: the completion-queue thread that owns the slot.
#pragma once

#include <functional>
#include <memory>

#include "bench/load_types.h"

namespace raftmeta::bench {

template <class Request, class Response>
class UnarySlot : public RequestSlot {
 public:
  using Reader = grpc::ClientAsyncResponseReader<Response>;
  // `call` starts the RPC (a stub's Async<Method>); `next` prepares the
  // request before each start.
  using Call = std::function<std::unique_ptr<Reader>(grpc::ClientContext*, const Request&,
                                                     grpc::CompletionQueue*)>;
  using Next = std::function<void(Request*)>;

  UnarySlot(Request request, Call call, Next next)
      : request_(std::move(request)), call_(std::move(call)), next_(std::move(next)) {}

  void start(grpc::CompletionQueue* cq, std::chrono::system_clock::time_point deadline,
             void* tag) override {
    if (next_) next_(&request_);
    context_ = std::make_unique<grpc::ClientContext>();
    context_->set_deadline(deadline);
    response_.Clear();
    reader_ = call_(context_.get(), request_, cq);
    reader_->Finish(&response_, &status_, tag);
  }

  const grpc::Status& status() const override { return status_; }

 private:
  Request request_;
  Response response_;
  grpc::Status status_;
  Call call_;
  Next next_;
  std::unique_ptr<grpc::ClientContext> context_;
  std::unique_ptr<Reader> reader_;
};

}  // namespace raftmeta::bench
