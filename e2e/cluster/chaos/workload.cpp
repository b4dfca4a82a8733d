#include "e2e/cluster/chaos/workload.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <random>
#include <sstream>

#include "e2e/cluster/chaos/metadata_model.h"
#include "raftmeta/v1/metadata.grpc.pb.h"
#include "sidecar/ctl/endpoint_client.h"

namespace raftmeta::chaos {

namespace v1 = ::raftmeta::v1;
using std::chrono::milliseconds;

namespace {

constexpr std::int32_t kBrokerIdBase = 1000;       // one per client, for producer ids
constexpr std::int32_t kChaosBrokerIdBase = 2000;  // the broker keys the workload registers
// Never fenced during a run: fencing is judged on the leader's wall clock,
// which the broker model does not know.
constexpr std::int64_t kSessionTimeoutMs = 3'600'000;

std::vector<std::string> rotated(const std::map<int, std::string>& endpoints, int by) {
  std::vector<std::string> all;
  for (const auto& [id, address] : endpoints) all.push_back(address);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < all.size(); ++i) out.push_back(all[(i + by) % all.size()]);
  return out;
}

v1::Consistency consistency_of(ReadLevel level) {
  switch (level) {
    case ReadLevel::kLease:
      return v1::CONSISTENCY_LEASE;
    case ReadLevel::kStale:
      return v1::CONSISTENCY_STALE;
    default:
      return v1::CONSISTENCY_LINEARIZABLE;
  }
}

// Definite "no" answers the models know; anything else from a write is unknown.
bool is_model_rejection(OpKind kind, grpc::StatusCode code) {
  if (kind == OpKind::kTopicCreate) return code == grpc::StatusCode::ALREADY_EXISTS;
  if (kind == OpKind::kTopicDelete) return code == grpc::StatusCode::NOT_FOUND;
  return false;
}

// A heartbeat refused because its epoch is not the broker's current one
// (validation.cpp: check_broker_epoch). Other FAILED_PRECONDITIONs (a wrong
// cluster id) are not this answer.
bool is_stale_epoch_refusal(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::FAILED_PRECONDITION &&
         status.error_message().rfind("stale broker epoch", 0) == 0;
}

}  // namespace

struct Workload::ClientState {
  int index = 0;
  std::string client_id;
  std::unique_ptr<ctl::EndpointClient> writes;
  std::unique_ptr<ctl::EndpointClient> reads;
  int stale_member = 0;
  std::shared_ptr<grpc::Channel> stale_channel;
  std::uint64_t next_request_id = 1;
  std::uint64_t broker_epoch = 0;  // 0: not registered
  // Per broker key: the last epoch this client saw (0: none yet).
  std::vector<std::uint64_t> known_epochs;
  std::uint64_t sequence = 0;
  std::vector<Operation> ops;
  std::uint64_t failed_reads = 0;
};

std::string Workload::topic_name(int key) { return "chaos-t" + std::to_string(key); }
std::string Workload::group_name(int key) { return "chaos-g" + std::to_string(key); }
std::string Workload::broker_name(int key) { return "chaos-b" + std::to_string(key); }
std::int32_t Workload::broker_id_of(int key) { return kChaosBrokerIdBase + key; }

Workload::Workload(WorkloadOptions options, std::chrono::steady_clock::time_point origin,
                   const MemberGenerations* generations)
    : options_(std::move(options)), origin_(origin), generations_(generations) {
  std::vector<int> members;
  for (const auto& [id, address] : options_.endpoints) members.push_back(id);
  for (int i = 0; i < options_.clients; ++i) {
    auto c = std::make_unique<ClientState>();
    c->index = i;
    c->client_id = options_.run_name + "-client-" + std::to_string(i);
    c->known_epochs.assign(static_cast<std::size_t>(std::max(options_.broker_keys, 0)), 0);
    c->writes = std::make_unique<ctl::EndpointClient>(
        rotated(options_.endpoints, i),
        ctl::EndpointClientOptions{.total_timeout = options_.write_budget,
                                   .attempt_timeout = options_.attempt_timeout,
                                   .retry_backoff = milliseconds(50)});
    c->reads = std::make_unique<ctl::EndpointClient>(
        rotated(options_.endpoints, i),
        ctl::EndpointClientOptions{.total_timeout = options_.read_budget,
                                   .attempt_timeout = options_.attempt_timeout,
                                   .retry_backoff = milliseconds(50)});
    c->stale_member = members[i % members.size()];
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
    c->stale_channel = grpc::CreateCustomChannel(options_.endpoints.at(c->stale_member),
                                                 grpc::InsecureChannelCredentials(), args);
    clients_.push_back(std::move(c));
  }
}

Workload::~Workload() { stop(); }

std::int64_t Workload::now_ns() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() -
                                                              origin_)
      .count();
}

bool Workload::setup(milliseconds budget, std::string* error) {
  const auto deadline = std::chrono::steady_clock::now() + budget;
  ctl::EndpointClient client(rotated(options_.endpoints, 0),
                             ctl::EndpointClientOptions{.total_timeout = budget,
                                                        .attempt_timeout = milliseconds(2000),
                                                        .retry_backoff = milliseconds(100)});
  std::uint64_t request_id = 1;
  const std::string setup_client = options_.run_name + "-setup";
  auto header = [&](v1::RequestHeader* h) {
    h->set_cluster_id(options_.cluster_id);
    h->set_client_id(setup_client);
    h->set_first_unacknowledged(request_id);  // one request at a time
    h->set_request_id(request_id++);
  };
  // Brokers first: a topic needs registered brokers for its replicas.
  for (auto& c : clients_) {
    grpc::Status status;
    do {
      v1::RegisterBrokerRequest req;
      header(req.mutable_header());
      req.set_broker_id(kBrokerIdBase + c->index);
      req.set_host("chaos-broker-" + std::to_string(c->index));
      req.set_port(9092);
      req.set_session_timeout_ms(kSessionTimeoutMs);
      req.set_incarnation_id(c->client_id);
      v1::RegisterBrokerResponse resp;
      status = client.call(true, [&](const auto& channel, grpc::ClientContext* context) {
        resp.Clear();
        return v1::Metadata::Stub(channel).RegisterBroker(context, req, &resp);
      });
      if (status.ok()) c->broker_epoch = resp.broker_epoch();
    } while (!status.ok() && std::chrono::steady_clock::now() < deadline);
    if (!status.ok()) {
      *error = "registering broker " + std::to_string(kBrokerIdBase + c->index) +
               " failed: " + status.error_message();
      return false;
    }
  }
  grpc::Status status;
  do {
    v1::CreateTopicRequest req;
    header(req.mutable_header());
    req.set_name(kOffsetsTopic);
    req.set_partitions(1);
    req.set_replication_factor(1);
    v1::CreateTopicResponse resp;
    status = client.call(true, [&](const auto& channel, grpc::ClientContext* context) {
      resp.Clear();
      return v1::Metadata::Stub(channel).CreateTopic(context, req, &resp);
    });
    if (status.error_code() == grpc::StatusCode::ALREADY_EXISTS) status = grpc::Status::OK;
  } while (!status.ok() && std::chrono::steady_clock::now() < deadline);
  if (!status.ok()) {
    *error = std::string("creating ") + kOffsetsTopic + " failed: " + status.error_message();
    return false;
  }
  return true;
}

void Workload::start() {
  stopping_ = false;
  for (auto& c : clients_) {
    ClientState* client = c.get();
    threads_.emplace_back([this, client] { run_client(client); });
  }
}

void Workload::stop() {
  stopping_ = true;
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void Workload::run_client(ClientState* c) {
  std::mt19937_64 rng(options_.seed * 7919 + c->index);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<std::uint64_t>(n)); };
  while (!stopping_) {
    Operation op;
    op.client = c->index;
    const int dice = pick(100);
    ReadLevel level = ReadLevel::kLinearizable;
    const int level_dice = pick(100);
    if (level_dice >= 85) {
      level = ReadLevel::kStale;
    } else if (level_dice >= 65) {
      level = ReadLevel::kLease;
    }
    const int broker_key = options_.broker_keys > 0 ? pick(options_.broker_keys) : 0;
    if (dice < 13) {
      op.kind = OpKind::kTopicCreate;
    } else if (dice < 22) {
      op.kind = OpKind::kTopicDelete;
    } else if (dice < 38) {
      op.kind = OpKind::kTopicGet;
    } else if (dice < 56) {
      op.kind = OpKind::kOffsetCommit;
    } else if (dice < 81) {
      op.kind = OpKind::kOffsetFetch;
    } else if (dice < 90 || options_.broker_keys <= 0) {
      op.kind = c->broker_epoch != 0 ? OpKind::kProducerAlloc : OpKind::kOffsetFetch;
    } else if (dice < 93) {
      op.kind = OpKind::kBrokerRegister;
    } else if (dice < 97) {
      // A heartbeat needs an epoch; until this client saw one, it registers.
      op.kind =
          c->known_epochs[broker_key] != 0 ? OpKind::kBrokerHeartbeat : OpKind::kBrokerRegister;
    } else if (dice < 99) {
      op.kind = OpKind::kBrokerGet;
    } else {
      op.kind = OpKind::kBrokerList;
    }
    if (is_read(op.kind)) op.level = level;
    if (op.kind == OpKind::kTopicCreate || op.kind == OpKind::kTopicDelete ||
        op.kind == OpKind::kTopicGet) {
      op.key = topic_name(pick(options_.topic_keys));
    } else if (op.kind == OpKind::kProducerAlloc) {
      op.key = kProducerKey;
    } else if (model_of(op.kind) == ModelKind::kBroker) {
      op.key = broker_name(broker_key);
    } else {
      op.key = group_name(pick(options_.group_keys));
    }
    if (op.kind == OpKind::kBrokerHeartbeat) {
      op.input = static_cast<std::int64_t>(c->known_epochs[broker_key]);
    }
    // ListBrokers: the epoch of every broker key in the answer (0: absent).
    std::vector<std::int64_t> listed(c->known_epochs.size(), 0);
    if (op.kind == OpKind::kOffsetCommit) {
      op.input = static_cast<std::int64_t>(c->index + 1) * 1'000'000'000 +
                 static_cast<std::int64_t>(++c->sequence);
    }

    v1::RequestHeader header;
    header.set_cluster_id(options_.cluster_id);
    header.set_client_id(c->client_id);
    // Each client has one operation in flight: every earlier id was answered
    // or given up (an unknown outcome), and a late copy of one of those is
    // refused rather than applied after this one.
    header.set_first_unacknowledged(c->next_request_id);
    header.set_request_id(c->next_request_id++);
    v1::ReadOptions read;
    read.set_cluster_id(options_.cluster_id);
    read.set_consistency(consistency_of(op.level));

    const bool stale = op.level == ReadLevel::kStale;
    if (stale) {
      op.member = c->stale_member;
      op.member_generation = generations_ != nullptr ? generations_->get(c->stale_member) : 0;
    }
    // Runs `rpc` as this operation wants: writes and non-stale reads through
    // the retrying client, stale reads as one attempt at the client's member.
    auto call = [&](auto&& rpc) -> grpc::Status {
      if (stale) {
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + options_.attempt_timeout);
        return rpc(c->stale_channel, &context);
      }
      ctl::EndpointClient* client = is_write(op.kind) ? c->writes.get() : c->reads.get();
      return client->call(is_write(op.kind), rpc);
    };

    op.invoke_ns = now_ns();
    grpc::Status status;
    switch (op.kind) {
      case OpKind::kTopicCreate: {
        v1::CreateTopicRequest req;
        *req.mutable_header() = header;
        req.set_name(op.key);
        req.set_partitions(1);
        req.set_replication_factor(1);
        v1::CreateTopicResponse resp;
        status = call([&](const auto& ch, grpc::ClientContext* ctx) {
          resp.Clear();
          return v1::Metadata::Stub(ch).CreateTopic(ctx, req, &resp);
        });
        op.output = static_cast<std::int64_t>(resp.topic().topic_id());
        op.revision = resp.revision();
        break;
      }
      case OpKind::kTopicDelete: {
        v1::DeleteTopicRequest req;
        *req.mutable_header() = header;
        req.set_name(op.key);
        v1::DeleteTopicResponse resp;
        status = call([&](const auto& ch, grpc::ClientContext* ctx) {
          resp.Clear();
          return v1::Metadata::Stub(ch).DeleteTopic(ctx, req, &resp);
        });
        op.output = static_cast<std::int64_t>(resp.topic_id());
        op.revision = resp.revision();
        break;
      }
      case OpKind::kTopicGet: {
        v1::GetTopicRequest req;
        *req.mutable_read() = read;
        req.set_name(op.key);
        v1::GetTopicResponse resp;
        status = call([&](const auto& ch, grpc::ClientContext* ctx) {
          resp.Clear();
          return v1::Metadata::Stub(ch).GetTopic(ctx, req, &resp);
        });
        op.output = static_cast<std::int64_t>(resp.topic().topic_id());
        op.revision = resp.revision();
        break;
      }
      case OpKind::kOffsetCommit: {
        v1::CommitOffsetsRequest req;
        *req.mutable_header() = header;
        req.set_group_id(op.key);
        req.set_generation(-1);
        auto* o = req.add_offsets();
        o->set_topic(kOffsetsTopic);
        o->set_partition(0);
        o->set_offset(op.input);
        o->set_leader_epoch(-1);
        v1::CommitOffsetsResponse resp;
        status = call([&](const auto& ch, grpc::ClientContext* ctx) {
          resp.Clear();
          return v1::Metadata::Stub(ch).CommitOffsets(ctx, req, &resp);
        });
        op.revision = resp.revision();
        break;
      }
      case OpKind::kOffsetFetch: {
        v1::FetchOffsetsRequest req;
        *req.mutable_read() = read;
        req.set_group_id(op.key);
        auto* p = req.add_partitions();
        p->set_topic(kOffsetsTopic);
        p->set_partition(0);
        v1::FetchOffsetsResponse resp;
        status = call([&](const auto& ch, grpc::ClientContext* ctx) {
          resp.Clear();
          return v1::Metadata::Stub(ch).FetchOffsets(ctx, req, &resp);
        });
        if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
          // No such group: nothing was ever committed for it.
          status = grpc::Status::OK;
          op.output = -1;
        } else {
          op.output = resp.offsets_size() > 0 ? resp.offsets(0).offset() : -1;
        }
        op.revision = resp.revision();
        break;
      }
      case OpKind::kProducerAlloc: {
        v1::AllocateProducerIdsRequest req;
        *req.mutable_header() = header;
        req.set_broker_id(kBrokerIdBase + c->index);
        req.set_broker_epoch(c->broker_epoch);
        v1::AllocateProducerIdsResponse resp;
        status = call([&](const auto& ch, grpc::ClientContext* ctx) {
          resp.Clear();
          return v1::Metadata::Stub(ch).AllocateProducerIds(ctx, req, &resp);
        });
        op.output = resp.first_producer_id();
        op.output2 = resp.count();
        op.revision = resp.revision();
        break;
      }
      case OpKind::kBrokerRegister: {
        v1::RegisterBrokerRequest req;
        *req.mutable_header() = header;
        req.set_broker_id(broker_id_of(broker_key));
        req.set_host(op.key);
        req.set_port(9092);
        req.set_session_timeout_ms(kSessionTimeoutMs);
        // A new incarnation every time: a new epoch (a retry of this call
        // carries the same request id and incarnation, so it keeps it).
        req.set_incarnation_id(c->client_id + "-r" + std::to_string(header.request_id()));
        v1::RegisterBrokerResponse resp;
        status = call([&](const auto& ch, grpc::ClientContext* ctx) {
          resp.Clear();
          return v1::Metadata::Stub(ch).RegisterBroker(ctx, req, &resp);
        });
        op.output = static_cast<std::int64_t>(resp.broker_epoch());
        op.revision = resp.revision();
        break;
      }
      case OpKind::kBrokerHeartbeat: {
        v1::BrokerHeartbeatRequest req;
        *req.mutable_header() = header;
        req.set_broker_id(broker_id_of(broker_key));
        req.set_broker_epoch(static_cast<std::uint64_t>(op.input));
        v1::BrokerHeartbeatResponse resp;
        status = call([&](const auto& ch, grpc::ClientContext* ctx) {
          resp.Clear();
          return v1::Metadata::Stub(ch).BrokerHeartbeat(ctx, req, &resp);
        });
        op.revision = resp.revision();
        break;
      }
      case OpKind::kBrokerGet: {
        v1::GetBrokerRequest req;
        *req.mutable_read() = read;
        req.set_broker_id(broker_id_of(broker_key));
        v1::GetBrokerResponse resp;
        status = call([&](const auto& ch, grpc::ClientContext* ctx) {
          resp.Clear();
          return v1::Metadata::Stub(ch).GetBroker(ctx, req, &resp);
        });
        op.output = static_cast<std::int64_t>(resp.broker().broker_epoch());
        op.revision = resp.revision();
        break;
      }
      case OpKind::kBrokerList: {
        v1::ListBrokersRequest req;
        *req.mutable_read() = read;
        v1::ListBrokersResponse resp;
        status = call([&](const auto& ch, grpc::ClientContext* ctx) {
          resp.Clear();
          return v1::Metadata::Stub(ch).ListBrokers(ctx, req, &resp);
        });
        for (const v1::Broker& b : resp.brokers()) {
          const int k = b.id() - kChaosBrokerIdBase;
          if (k >= 0 && k < static_cast<int>(listed.size())) {
            listed[k] = static_cast<std::int64_t>(b.broker_epoch());
          }
        }
        op.revision = resp.revision();
        break;
      }
    }
    op.complete_ns = now_ns();

    if (status.ok()) {
      op.outcome = Outcome::kOk;
    } else if ((op.kind == OpKind::kTopicGet || op.kind == OpKind::kBrokerGet) &&
               status.error_code() == grpc::StatusCode::NOT_FOUND) {
      op.outcome = Outcome::kRejected;
      op.output = 0;
    } else if (op.kind == OpKind::kBrokerHeartbeat && is_stale_epoch_refusal(status)) {
      op.outcome = Outcome::kRejected;
      op.output = 0;
    } else if (op.kind == OpKind::kBrokerHeartbeat &&
               status.error_code() == grpc::StatusCode::NOT_FOUND) {
      op.outcome = Outcome::kRejected;
      op.output = kHeartbeatNotRegistered;
    } else if (is_write(op.kind) && is_model_rejection(op.kind, status.error_code())) {
      op.outcome = Outcome::kRejected;
      op.output = 0;
    } else if (is_write(op.kind)) {
      op.outcome = Outcome::kUnknown;
      op.complete_ns = kNeverCompleted;
    } else {
      ++c->failed_reads;
      continue;  // a read without an answer: nothing to record
    }
    if (stale && generations_ != nullptr &&
        generations_->get(c->stale_member) != op.member_generation) {
      ++c->failed_reads;  // the member restarted during the read: not comparable
      continue;
    }
    // Epochs this client saw become what its heartbeats carry.
    if (op.outcome == Outcome::kOk &&
        (op.kind == OpKind::kBrokerRegister || op.kind == OpKind::kBrokerGet)) {
      c->known_epochs[broker_key] = static_cast<std::uint64_t>(op.output);
    }
    if (op.kind == OpKind::kBrokerHeartbeat && op.outcome == Outcome::kRejected) {
      c->known_epochs[broker_key] = 0;  // as a broker would: register again
    }
    if (op.kind == OpKind::kBrokerList) {
      // One answer, recorded as a read of each broker key over the same
      // interval (every operation of a history touches one key).
      for (std::size_t k = 0; k < listed.size(); ++k) {
        Operation each = op;
        each.key = broker_name(static_cast<int>(k));
        each.output = listed[k];
        each.outcome = listed[k] != 0 ? Outcome::kOk : Outcome::kRejected;
        if (listed[k] != 0) c->known_epochs[k] = static_cast<std::uint64_t>(listed[k]);
        c->ops.push_back(std::move(each));
      }
      continue;
    }
    c->ops.push_back(std::move(op));
  }
}

bool Workload::final_reads(int member, const std::string& address, milliseconds budget,
                           std::string* error) {
  const auto deadline = std::chrono::steady_clock::now() + budget;
  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  v1::ReadOptions read;
  read.set_cluster_id(options_.cluster_id);
  read.set_consistency(v1::CONSISTENCY_STALE);
  auto retry = [&](auto&& rpc) {
    grpc::Status status;
    do {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + milliseconds(2000));
      status = rpc(&context);
      if (status.ok() || status.error_code() == grpc::StatusCode::NOT_FOUND) return status;
    } while (std::chrono::steady_clock::now() < deadline);
    return status;
  };
  for (int k = 0; k < options_.topic_keys; ++k) {
    Operation op;
    op.client = -member;
    op.key = topic_name(k);
    op.kind = OpKind::kTopicGet;
    op.level = ReadLevel::kLinearizable;
    op.invoke_ns = now_ns();
    v1::GetTopicRequest req;
    *req.mutable_read() = read;
    req.set_name(op.key);
    v1::GetTopicResponse resp;
    const grpc::Status status = retry([&](grpc::ClientContext* ctx) {
      resp.Clear();
      return v1::Metadata::Stub(channel).GetTopic(ctx, req, &resp);
    });
    if (!status.ok() && status.error_code() != grpc::StatusCode::NOT_FOUND) {
      *error = "final read of " + op.key + " at member " + std::to_string(member) +
               " failed: " + status.error_message();
      return false;
    }
    op.outcome = status.ok() ? Outcome::kOk : Outcome::kRejected;
    op.output = status.ok() ? static_cast<std::int64_t>(resp.topic().topic_id()) : 0;
    op.revision = resp.revision();
    op.complete_ns = now_ns();
    final_ops_.push_back(op);
  }
  for (int k = 0; k < options_.group_keys; ++k) {
    Operation op;
    op.client = -member;
    op.key = group_name(k);
    op.kind = OpKind::kOffsetFetch;
    op.level = ReadLevel::kLinearizable;
    op.invoke_ns = now_ns();
    v1::FetchOffsetsRequest req;
    *req.mutable_read() = read;
    req.set_group_id(op.key);
    auto* p = req.add_partitions();
    p->set_topic(kOffsetsTopic);
    p->set_partition(0);
    v1::FetchOffsetsResponse resp;
    const grpc::Status status = retry([&](grpc::ClientContext* ctx) {
      resp.Clear();
      return v1::Metadata::Stub(channel).FetchOffsets(ctx, req, &resp);
    });
    if (!status.ok() && status.error_code() != grpc::StatusCode::NOT_FOUND) {
      *error = "final read of " + op.key + " at member " + std::to_string(member) +
               " failed: " + status.error_message();
      return false;
    }
    op.outcome = Outcome::kOk;
    op.output = status.ok() && resp.offsets_size() > 0 ? resp.offsets(0).offset() : -1;
    op.revision = resp.revision();
    op.complete_ns = now_ns();
    final_ops_.push_back(op);
  }
  for (int k = 0; k < options_.broker_keys; ++k) {
    Operation op;
    op.client = -member;
    op.key = broker_name(k);
    op.kind = OpKind::kBrokerGet;
    op.level = ReadLevel::kLinearizable;
    op.invoke_ns = now_ns();
    v1::GetBrokerRequest req;
    *req.mutable_read() = read;
    req.set_broker_id(broker_id_of(k));
    v1::GetBrokerResponse resp;
    const grpc::Status status = retry([&](grpc::ClientContext* ctx) {
      resp.Clear();
      return v1::Metadata::Stub(channel).GetBroker(ctx, req, &resp);
    });
    if (!status.ok() && status.error_code() != grpc::StatusCode::NOT_FOUND) {
      *error = "final read of " + op.key + " at member " + std::to_string(member) +
               " failed: " + status.error_message();
      return false;
    }
    op.outcome = status.ok() ? Outcome::kOk : Outcome::kRejected;
    op.output = status.ok() ? static_cast<std::int64_t>(resp.broker().broker_epoch()) : 0;
    op.revision = resp.revision();
    op.complete_ns = now_ns();
    final_ops_.push_back(op);
  }
  return true;
}

std::vector<Operation> Workload::history() const {
  std::vector<Operation> all;
  for (const auto& c : clients_) all.insert(all.end(), c->ops.begin(), c->ops.end());
  all.insert(all.end(), final_ops_.begin(), final_ops_.end());
  std::int64_t id = 1;
  for (Operation& op : all) op.id = id++;
  return all;
}

WorkloadTotals Workload::totals() const {
  WorkloadTotals t;
  for (const auto& c : clients_) {
    t.failed_reads += c->failed_reads;
    for (const Operation& op : c->ops) {
      ++t.operations;
      std::string name = to_string(op.kind);
      if (op.level != ReadLevel::kNone) name += std::string("/") + to_string(op.level);
      ++t.by_kind_and_outcome[name + " " + to_string(op.outcome)];
      if (op.outcome == Outcome::kUnknown) {
        ++t.unknown;
      } else {
        ++t.definite;
      }
      if (op.level == ReadLevel::kStale) ++t.stale_reads;
    }
  }
  return t;
}

std::string WorkloadTotals::to_string() const {
  std::ostringstream out;
  out << "operations: " << operations << " (definite " << definite << ", unknown " << unknown
      << ", definite share "
      << (operations == 0 ? 0.0
                          : 100.0 * static_cast<double>(definite) / static_cast<double>(operations))
      << "%), stale reads " << stale_reads << ", reads without an answer " << failed_reads << "\n";
  for (const auto& [name, n] : by_kind_and_outcome) out << "  " << name << ": " << n << "\n";
  return out.str();
}

}  // namespace raftmeta::chaos
