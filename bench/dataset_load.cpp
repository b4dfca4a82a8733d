#include "bench/dataset_load.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <functional>
#include <random>
#include <thread>

#include "raftmeta/v1/metadata.grpc.pb.h"

namespace raftmeta::bench {
namespace {

namespace v1 = ::raftmeta::v1;
using Clock = std::chrono::steady_clock;

constexpr int kOutstanding = 64;
constexpr int kOffsetsPerRequest = 1000;
constexpr int kAttempts = 20;

// One request in flight with its retry count; `make` builds the request into
// the call and starts it.
struct Call {
  int item = 0;
  int attempts = 0;
  grpc::ClientContext context;
  grpc::Status status;
  v1::CreateTopicResponse topic_response;
  v1::CommitOffsetsResponse commit_response;
  std::unique_ptr<grpc::ClientAsyncResponseReader<v1::CreateTopicResponse>> topic_reader;
  std::unique_ptr<grpc::ClientAsyncResponseReader<v1::CommitOffsetsResponse>> commit_reader;
};

bool retryable(const grpc::Status& s) {
  return s.error_code() == grpc::StatusCode::UNAVAILABLE ||
         s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED ||
         s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
}

// Runs items 0..count-1 with kOutstanding in flight; `start(call, cq)`
// issues item call->item. ALREADY_EXISTS counts as done (a retried create).
bool run_items(int count, const std::function<void(Call*, grpc::CompletionQueue*)>& start,
               std::string* error) {
  grpc::CompletionQueue cq;
  int next = 0;
  int in_flight = 0;
  auto launch = [&](int item, int attempts) {
    auto* call = new Call();
    call->item = item;
    call->attempts = attempts;
    call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    start(call, &cq);
    ++in_flight;
  };
  while (next < count && in_flight < kOutstanding) launch(next++, 0);
  bool ok_all = true;
  while (in_flight > 0) {
    void* tag = nullptr;
    bool ok = false;
    if (!cq.Next(&tag, &ok)) break;
    std::unique_ptr<Call> call(static_cast<Call*>(tag));
    --in_flight;
    const grpc::Status& s = call->status;
    if (!s.ok() && s.error_code() != grpc::StatusCode::ALREADY_EXISTS) {
      if (retryable(s) && call->attempts + 1 < kAttempts) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        launch(call->item, call->attempts + 1);
        continue;
      }
      if (ok_all) *error = "item " + std::to_string(call->item) + ": " + s.error_message();
      ok_all = false;
    }
    if (ok_all && next < count) launch(next++, 0);
  }
  cq.Shutdown();
  void* tag = nullptr;
  bool ok = false;
  while (cq.Next(&tag, &ok)) {
  }
  return ok_all;
}

}  // namespace

bool load_dataset(const std::shared_ptr<grpc::Channel>& channel, const std::string& cluster_id,
                  const DatasetSize& size, std::string* error) {
  v1::Metadata::Stub stub(channel);
  std::random_device rd;
  const std::string client = "bench-dataset-" + std::to_string(rd());
  // Request ids: item + 1 for topics, topics + item + 1 for commits, so a
  // retry reuses its id and the state machine answers it once.
  auto header = [&](v1::RequestHeader* h, std::uint64_t request_id) {
    h->set_cluster_id(cluster_id);
    h->set_client_id(client);
    h->set_request_id(request_id);
  };
  const bool topics_ok = run_items(
      size.topics,
      [&](Call* call, grpc::CompletionQueue* cq) {
        v1::CreateTopicRequest req;
        header(req.mutable_header(), static_cast<std::uint64_t>(call->item) + 1);
        req.set_name("ds-" + std::to_string(call->item));
        req.set_partitions(size.partitions);
        req.set_replication_factor(1);
        call->topic_reader = stub.AsyncCreateTopic(&call->context, req, cq);
        call->topic_reader->Finish(&call->topic_response, &call->status, call);
      },
      error);
  if (!topics_ok) return false;
  const int total_partitions = size.topics * size.partitions;
  // A request's partitions must be distinct: at most one offset per partition.
  const int per_request = std::max(1, std::min(kOffsetsPerRequest, total_partitions));
  const int requests = (size.offsets + per_request - 1) / per_request;
  return run_items(
      requests,
      [&](Call* call, grpc::CompletionQueue* cq) {
        v1::CommitOffsetsRequest req;
        header(req.mutable_header(), static_cast<std::uint64_t>(size.topics) +
                                         static_cast<std::uint64_t>(call->item) + 1);
        req.set_group_id("ds-group-" + std::to_string(call->item));
        req.set_generation(-1);
        const int first = call->item * per_request;
        const int last = std::min(size.offsets, first + per_request);
        for (int i = first; i < last; ++i) {
          // Offset i goes to partition i of the whole set (wrapping); a
          // request's run of at most total_partitions is distinct.
          const int p = i % std::max(1, total_partitions);
          auto* o = req.add_offsets();
          o->set_topic("ds-" + std::to_string(p / size.partitions));
          o->set_partition(p % size.partitions);
          o->set_offset(i);
          o->set_leader_epoch(-1);
        }
        call->commit_reader = stub.AsyncCommitOffsets(&call->context, req, cq);
        call->commit_reader->Finish(&call->commit_response, &call->status, call);
      },
      error);
}

}  // namespace raftmeta::bench
