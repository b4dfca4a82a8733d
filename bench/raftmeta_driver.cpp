#include "bench/raftmeta_driver.h"

#include <chrono>
#include <random>
#include <thread>

#include "bench/unary_slot.h"
#include "raftmeta/v1/metadata.grpc.pb.h"

namespace raftmeta::bench {
namespace {

namespace v1 = ::raftmeta::v1;

constexpr char kTopic[] = "bench";
constexpr char kReadGroup[] = "bench-read";

std::string nonce() {
  std::random_device rd;
  return std::to_string(rd()) + "-" + std::to_string(rd());
}

v1::Consistency consistency_of(Operation op) {
  switch (op) {
    case Operation::kReadLease:
      return v1::CONSISTENCY_LEASE;
    case Operation::kReadStale:
      return v1::CONSISTENCY_STALE;
    default:
      return v1::CONSISTENCY_LINEARIZABLE;
  }
}

grpc::Status blocking_call(const std::function<grpc::Status(grpc::ClientContext*)>& call) {
  grpc::Status status;
  for (int attempt = 0; attempt < 50; ++attempt) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    status = call(&context);
    if (status.ok() || status.error_code() == grpc::StatusCode::ALREADY_EXISTS) {
      return grpc::Status::OK;
    }
    if (status.error_code() != grpc::StatusCode::UNAVAILABLE &&
        status.error_code() != grpc::StatusCode::RESOURCE_EXHAUSTED &&
        status.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) {
      return status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return status;
}

}  // namespace

RaftmetaDriver::RaftmetaDriver(std::string cluster_id, std::size_t value_size)
    : cluster_id_(std::move(cluster_id)), value_(bench_value(value_size)), run_nonce_(nonce()) {}

grpc::Status RaftmetaDriver::prepare(const std::shared_ptr<grpc::Channel>& channel) {
  v1::Metadata::Stub stub(channel);
  const std::string client = "bench-prepare-" + run_nonce_;
  std::uint64_t request_id = 1;
  auto header = [&](v1::RequestHeader* h) {
    h->set_cluster_id(cluster_id_);
    h->set_client_id(client);
    h->set_request_id(request_id++);
  };
  v1::RegisterBrokerRequest broker;
  header(broker.mutable_header());
  broker.set_broker_id(1);
  broker.set_host("bench-broker-1");
  broker.set_port(9092);
  broker.set_incarnation_id("bench-" + run_nonce_);
  // Long enough that the broker is not fenced during a run (fencing does not
  // matter to offset commits, but keeps the state quiet).
  broker.set_session_timeout_ms(3'600'000);
  grpc::Status s = blocking_call([&](grpc::ClientContext* c) {
    v1::RegisterBrokerResponse r;
    return stub.RegisterBroker(c, broker, &r);
  });
  if (!s.ok()) return s;

  v1::CreateTopicRequest topic;
  header(topic.mutable_header());
  topic.set_name(kTopic);
  topic.set_partitions(1);
  topic.set_replication_factor(1);
  s = blocking_call([&](grpc::ClientContext* c) {
    v1::CreateTopicResponse r;
    return stub.CreateTopic(c, topic, &r);
  });
  if (!s.ok()) return s;

  v1::CommitOffsetsRequest commit;
  header(commit.mutable_header());
  commit.set_group_id(kReadGroup);
  commit.set_generation(-1);
  auto* o = commit.add_offsets();
  o->set_topic(kTopic);
  o->set_partition(0);
  o->set_offset(1);
  o->set_leader_epoch(-1);
  o->set_metadata(value_);
  return blocking_call([&](grpc::ClientContext* c) {
    v1::CommitOffsetsResponse r;
    return stub.CommitOffsets(c, commit, &r);
  });
}

std::unique_ptr<RequestSlot> RaftmetaDriver::make_slot(
    Operation op, const std::shared_ptr<grpc::Channel>& channel, int index) {
  auto stub = std::make_shared<v1::Metadata::Stub>(channel);
  if (op == Operation::kWrite) {
    v1::CommitOffsetsRequest request;
    request.mutable_header()->set_cluster_id(cluster_id_);
    request.mutable_header()->set_client_id("bench-" + run_nonce_ + "-" +
                                            std::to_string(next_client_.fetch_add(1)));
    request.set_group_id("bench-" + std::to_string(index));
    request.set_generation(-1);
    auto* o = request.add_offsets();
    o->set_topic(kTopic);
    o->set_partition(0);
    o->set_leader_epoch(-1);
    o->set_metadata(value_);
    using Slot = UnarySlot<v1::CommitOffsetsRequest, v1::CommitOffsetsResponse>;
    return std::make_unique<Slot>(
        std::move(request),
        [stub](grpc::ClientContext* c, const v1::CommitOffsetsRequest& r,
               grpc::CompletionQueue* cq) { return stub->AsyncCommitOffsets(c, r, cq); },
        [](v1::CommitOffsetsRequest* r) {
          auto* h = r->mutable_header();
          h->set_request_id(h->request_id() + 1);
          // One request in flight per client id: each acknowledges every
          // earlier one, so the cluster keeps one outcome per client (what a
          // broker that sets first_unacknowledged costs it).
          h->set_first_unacknowledged(h->request_id());
          r->mutable_offsets(0)->set_offset(static_cast<std::int64_t>(h->request_id()));
        });
  }
  v1::FetchOffsetsRequest request;
  request.mutable_read()->set_cluster_id(cluster_id_);
  request.mutable_read()->set_consistency(consistency_of(op));
  request.set_group_id(kReadGroup);
  auto* tp = request.add_partitions();
  tp->set_topic(kTopic);
  tp->set_partition(0);
  using Slot = UnarySlot<v1::FetchOffsetsRequest, v1::FetchOffsetsResponse>;
  return std::make_unique<Slot>(
      std::move(request),
      [stub](grpc::ClientContext* c, const v1::FetchOffsetsRequest& r, grpc::CompletionQueue* cq) {
        return stub->AsyncFetchOffsets(c, r, cq);
      },
      nullptr);
}

}  // namespace raftmeta::bench
