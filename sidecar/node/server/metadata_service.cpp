#include "sidecar/node/server/metadata_service.h"

#include <algorithm>
#include <chrono>

#include "raftmeta/v1/state.pb.h"
#include "sidecar/health/metrics.h"
#include "sidecar/node/server/grpc_status.h"
#include "sidecar/node/state/client_sessions.h"
#include "sidecar/node/state/state.h"
#include "sidecar/node/state/validation.h"

namespace raftmeta::node::server {
namespace {

using google::protobuf::Message;

std::int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Every response message has a `revision` field; fill it when the state
// machine left it unset (generic over the response types).
void set_revision_if_unset(Message* response, std::uint64_t revision) {
  const auto* field = response->GetDescriptor()->FindFieldByName("revision");
  if (field == nullptr || field->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_UINT64) {
    return;
  }
  const auto* reflection = response->GetReflection();
  if (reflection->GetUInt64(*response, field) == 0) {
    reflection->SetUInt64(response, field, revision);
  }
}

// The state machine's recorded answer as the call's answer.
grpc::Status answer_with(const ApplyOutcome& outcome, Message* response, std::uint64_t revision) {
  if (outcome.code != kOk) return to_grpc_status(outcome);
  if (!response->ParseFromString(outcome.response)) {
    return grpc::Status(grpc::StatusCode::INTERNAL, "the state machine's answer is unreadable");
  }
  set_revision_if_unset(response, revision);
  return grpc::Status::OK;
}

// Validation errors that hold whatever the state is.
bool stateless_error(int code) {
  return code == state::kInvalidArgument || code == state::kOutOfRange;
}

Consistency consistency_of(v1::Consistency c) {
  switch (c) {
    case v1::CONSISTENCY_LEASE:
      return Consistency::kLease;
    case v1::CONSISTENCY_STALE:
      return Consistency::kStale;
    default:
      return Consistency::kLinearizable;
  }
}

health::ReadConsistency metric_level(Consistency c) {
  switch (c) {
    case Consistency::kLease:
      return health::ReadConsistency::kLease;
    case Consistency::kStale:
      return health::ReadConsistency::kStale;
    case Consistency::kLinearizable:
      break;
  }
  return health::ReadConsistency::kLinearizable;
}

grpc::Status not_found(const std::string& what) {
  return grpc::Status(grpc::StatusCode::NOT_FOUND, what);
}

grpc::Status too_many_requests() {
  return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                      "too many requests in progress on this member; retry later");
}

}  // namespace

grpc::ServerUnaryReactor* MetadataService::finish(grpc::ServerUnaryReactor* reactor,
                                                  grpc::Status status) {
  in_flight_.fetch_sub(1, std::memory_order_relaxed);
  reactor->Finish(std::move(status));
  return reactor;
}

bool MetadataService::admit() {
  if (in_flight_.fetch_add(1, std::memory_order_relaxed) < max_in_flight_) return true;
  in_flight_.fetch_sub(1, std::memory_order_relaxed);
  return false;
}

grpc::ServerUnaryReactor* MetadataService::write(grpc::CallbackServerContext* c,
                                                 const v1::RequestHeader& header,
                                                 v1::Command command, Message* response) {
  if (grpc::Status s = check_cluster_id(header.cluster_id(), ctx_.cluster_id); !s.ok()) {
    return finish_now(c, s);
  }
  if (header.first_unacknowledged() > header.request_id()) {
    return finish_now(c, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                      "header.first_unacknowledged (" +
                                          std::to_string(header.first_unacknowledged()) +
                                          ") must not exceed header.request_id (" +
                                          std::to_string(header.request_id()) + ")"));
  }
  *command.mutable_header() = header;
  command.mutable_header()->set_cluster_id(ctx_.cluster_id);
  command.set_leader_time_ms(wall_clock_ms());

  const std::shared_ptr<const state::State> current = ctx_.current_state();
  const bool has_request_id = !header.client_id().empty() && header.request_id() != 0;
  bool state_dependent_refusal = false;
  if (current) {
    if (has_request_id) {
      if (const ApplyOutcome* remembered =
              current->sessions.find(header.client_id(), header.request_id())) {
        return finish_now(c, answer_with(*remembered, response, current->revision()));
      }
      // The floor only rises, so a lagging state cannot make this wrong.
      if (current->sessions.acknowledged(header.client_id(), header.request_id())) {
        return finish_now(c, grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                                          state::ClientSessions::late_copy_refusal(
                                              header.client_id(), header.request_id())));
      }
    }
    const state::CommandStatus valid = state::validate(command, *current);
    if (!valid.ok() && stateless_error(valid.code)) {
      return finish_now(c, grpc::Status(to_grpc_code(valid.code), valid.message));
    }
    // A refusal that depends on the state (NOT_FOUND, ALREADY_EXISTS, a stale
    // epoch) is only answered from state that is known to be current: this
    // member's published state may lag, and even a leader may have been
    // deposed without knowing it. A request with an id goes through the log
    // even then, so that its refusal is remembered in the client's session:
    // an earlier attempt of the same request still on its way (sent to a
    // member that stalled, then retried here) is then answered with that
    // refusal instead of applying later (found by chaos_stop_test: a create
    // refused here was applied afterwards from the stalled member). Without
    // an id, the refusal is confirmed below after a linearizable read
    // barrier, never answered from local state alone.
    state_dependent_refusal = !valid.ok() && !has_request_id;
  }
  std::string bytes;
  if (!command.SerializeToString(&bytes)) {
    return finish_now(c, {grpc::StatusCode::INTERNAL, "cannot encode the command"});
  }
  if (!admit()) return finish_now(c, too_many_requests());
  grpc::ServerUnaryReactor* reactor = c->DefaultReactor();
  const Deadline deadline = call_deadline(*c, ctx_.max_call_time);
  if (!state_dependent_refusal) {
    propose(c, reactor, response, std::move(bytes), deadline);
    return reactor;
  }
  // Runs on the thread that completes the barrier (node.h): a validation
  // against the published State, then either the answer or a proposal.
  ctx_.node->read_barrier_async(
      Consistency::kLinearizable, deadline,
      [this, c, reactor, response, deadline, command = std::move(command),
       bytes = std::move(bytes)](ReadBarrierReply barrier) mutable {
        const std::shared_ptr<const state::State> confirmed = ctx_.current_state();
        if (barrier.status.ok() && confirmed) {
          const state::CommandStatus again = state::validate(command, *confirmed);
          if (!again.ok()) {
            finish(reactor, grpc::Status(to_grpc_code(again.code), again.message));
            return;
          }
        }
        // The barrier failed or the command became valid: propose it and
        // let apply decide, deterministically on every member.
        propose(c, reactor, response, std::move(bytes), deadline);
      });
  return reactor;
}

void MetadataService::propose(grpc::CallbackServerContext* c, grpc::ServerUnaryReactor* reactor,
                              Message* response, std::string bytes, Deadline deadline) {
  // The answer is made and the call finished on the thread that completes the
  // proposal (normally "apply-loop"; see Node::propose_async): a parse of the
  // recorded answer and Finish, no lock of ours.
  ctx_.node->propose_async(
      std::move(bytes), deadline, [this, c, reactor, response](ProposeReply reply) {
        grpc::Status status = reply.status.ok() ? answer_with(reply.outcome, response, reply.index)
                                                : to_grpc_status(reply.status, c);
        finish(reactor, std::move(status));
      });
}

grpc::ServerUnaryReactor* MetadataService::read(grpc::CallbackServerContext* c,
                                                const v1::ReadOptions& options, Message* response,
                                                ServeOn where, Serve serve) {
  if (grpc::Status s = check_cluster_id(options.cluster_id(), ctx_.cluster_id); !s.ok()) {
    return finish_now(c, s);
  }
  const Consistency level = consistency_of(options.consistency());
  const auto started = Clock::now();
  // Serves the read once the barrier answered.
  auto answer = [this, c, response, level, started,
                 serve = std::move(serve)](const ReadBarrierReply& barrier) {
    if (!barrier.status.ok()) return to_grpc_status(barrier.status, c);
    // The apply loop publishes the State before it publishes the applied
    // index the barrier waited for, so this State holds every command up to
    // barrier.revision. Its own revision can be lower: configuration-change
    // entries advance the applied index without touching the State.
    const std::shared_ptr<const state::State> current = ctx_.current_state();
    if (!current) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "the state machine is not ready yet");
    }
    grpc::Status status = serve(*current);
    if (status.ok()) {
      set_revision_if_unset(response, std::max(current->revision(), barrier.revision));
    }
    if (ctx_.metrics != nullptr) {
      ctx_.metrics->observe_read(metric_level(level),
                                 std::chrono::duration<double>(Clock::now() - started).count());
    }
    return status;
  };
  if (level == Consistency::kStale) {
    // Never waits: Node answers a stale barrier at once, on this thread.
    grpc::Status status;
    ctx_.node->read_barrier_async(level, Clock::now() + ctx_.max_call_time,
                                  [&](ReadBarrierReply barrier) { status = answer(barrier); });
    return finish_now(c, std::move(status));
  }
  if (!admit()) return finish_now(c, too_many_requests());
  grpc::ServerUnaryReactor* reactor = c->DefaultReactor();
  const Deadline deadline = call_deadline(*c, ctx_.max_call_time);
  ctx_.node->read_barrier_async(
      level, deadline,
      [this, reactor, where, answer = std::move(answer)](ReadBarrierReply barrier) mutable {
        if (where == ServeOn::kCompletingThread || !barrier.status.ok()) {
          // A point read: a lookup and a small copy, cheap enough for the
          // thread that completed the barrier (node.h).
          finish(reactor, answer(barrier));
          return;
        }
        // A list may copy much of the State: not on a loop thread.
        const bool queued =
            ctx_.executor->submit([this, reactor, barrier, answer = std::move(answer)]() mutable {
              finish(reactor, answer(barrier));
            });
        if (!queued) finish(reactor, too_many_requests());
      });
  return reactor;
}

// ------------------------------------------------------------------ topics

grpc::ServerUnaryReactor* MetadataService::CreateTopic(grpc::CallbackServerContext* c,
                                                       const v1::CreateTopicRequest* req,
                                                       v1::CreateTopicResponse* resp) {
  v1::Command command;
  *command.mutable_create_topic() = *req;
  command.mutable_create_topic()->clear_header();
  return write(c, req->header(), std::move(command), resp);
}

grpc::ServerUnaryReactor* MetadataService::GetTopic(grpc::CallbackServerContext* c,
                                                    const v1::GetTopicRequest* req,
                                                    v1::GetTopicResponse* resp) {
  return read(c, req->read(), resp, ServeOn::kCompletingThread, [req, resp](const state::State& s) {
    auto topic = s.find_topic(req->name());
    if (!topic) return not_found("topic '" + req->name() + "' does not exist");
    *resp->mutable_topic() = *topic;
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* MetadataService::ListTopics(grpc::CallbackServerContext* c,
                                                      const v1::ListTopicsRequest* req,
                                                      v1::ListTopicsResponse* resp) {
  return read(c, req->read(), resp, ServeOn::kExecutor, [req, resp](const state::State& s) {
    bool more = false;
    for (const auto& topic :
         s.list_topics(req->prefix(), req->start_after(), req->limit(), &more)) {
      v1::Topic* out = resp->add_topics();
      if (req->names_only()) {
        out->set_name(topic->name());
        out->set_topic_id(topic->topic_id());
        out->set_replication_factor(topic->replication_factor());
        out->set_create_revision(topic->create_revision());
        out->set_mod_revision(topic->mod_revision());
      } else {
        *out = *topic;
      }
    }
    resp->set_more(more);
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* MetadataService::DeleteTopic(grpc::CallbackServerContext* c,
                                                       const v1::DeleteTopicRequest* req,
                                                       v1::DeleteTopicResponse* resp) {
  v1::Command command;
  *command.mutable_delete_topic() = *req;
  command.mutable_delete_topic()->clear_header();
  return write(c, req->header(), std::move(command), resp);
}

// -------------------------------------------------------------- partitions

grpc::ServerUnaryReactor* MetadataService::GetPartition(grpc::CallbackServerContext* c,
                                                        const v1::GetPartitionRequest* req,
                                                        v1::GetPartitionResponse* resp) {
  return read(c, req->read(), resp, ServeOn::kCompletingThread, [req, resp](const state::State& s) {
    std::shared_ptr<const v1::Topic> owner;
    const v1::Partition* p = s.find_partition(req->topic(), req->partition(), &owner);
    if (p == nullptr) {
      return not_found("partition " + req->topic() + "/" + std::to_string(req->partition()) +
                       " does not exist");
    }
    *resp->mutable_partition() = *p;
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* MetadataService::AlterPartition(grpc::CallbackServerContext* c,
                                                          const v1::AlterPartitionRequest* req,
                                                          v1::AlterPartitionResponse* resp) {
  v1::Command command;
  *command.mutable_alter_partition() = *req;
  command.mutable_alter_partition()->clear_header();
  return write(c, req->header(), std::move(command), resp);
}

// ----------------------------------------------------------------- brokers

grpc::ServerUnaryReactor* MetadataService::RegisterBroker(grpc::CallbackServerContext* c,
                                                          const v1::RegisterBrokerRequest* req,
                                                          v1::RegisterBrokerResponse* resp) {
  v1::Command command;
  *command.mutable_register_broker() = *req;
  command.mutable_register_broker()->clear_header();
  return write(c, req->header(), std::move(command), resp);
}

grpc::ServerUnaryReactor* MetadataService::BrokerHeartbeat(grpc::CallbackServerContext* c,
                                                           const v1::BrokerHeartbeatRequest* req,
                                                           v1::BrokerHeartbeatResponse* resp) {
  v1::Command command;
  *command.mutable_broker_heartbeat() = *req;
  command.mutable_broker_heartbeat()->clear_header();
  return write(c, req->header(), std::move(command), resp);
}

grpc::ServerUnaryReactor* MetadataService::UnregisterBroker(grpc::CallbackServerContext* c,
                                                            const v1::UnregisterBrokerRequest* req,
                                                            v1::UnregisterBrokerResponse* resp) {
  v1::Command command;
  *command.mutable_unregister_broker() = *req;
  command.mutable_unregister_broker()->clear_header();
  return write(c, req->header(), std::move(command), resp);
}

grpc::ServerUnaryReactor* MetadataService::GetBroker(grpc::CallbackServerContext* c,
                                                     const v1::GetBrokerRequest* req,
                                                     v1::GetBrokerResponse* resp) {
  return read(c, req->read(), resp, ServeOn::kCompletingThread, [req, resp](const state::State& s) {
    auto broker = s.find_broker(req->broker_id());
    if (!broker)
      return not_found("broker " + std::to_string(req->broker_id()) + " is not registered");
    *resp->mutable_broker() = *broker;
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* MetadataService::ListBrokers(grpc::CallbackServerContext* c,
                                                       const v1::ListBrokersRequest* req,
                                                       v1::ListBrokersResponse* resp) {
  return read(c, req->read(), resp, ServeOn::kExecutor, [resp](const state::State& s) {
    for (const auto& broker : s.list_brokers()) *resp->add_brokers() = *broker;
    return grpc::Status::OK;
  });
}

// ------------------------------------------------------------------ groups

grpc::ServerUnaryReactor* MetadataService::CreateGroup(grpc::CallbackServerContext* c,
                                                       const v1::CreateGroupRequest* req,
                                                       v1::CreateGroupResponse* resp) {
  v1::Command command;
  *command.mutable_create_group() = *req;
  command.mutable_create_group()->clear_header();
  return write(c, req->header(), std::move(command), resp);
}

grpc::ServerUnaryReactor* MetadataService::UpdateGroup(grpc::CallbackServerContext* c,
                                                       const v1::UpdateGroupRequest* req,
                                                       v1::UpdateGroupResponse* resp) {
  v1::Command command;
  *command.mutable_update_group() = *req;
  command.mutable_update_group()->clear_header();
  return write(c, req->header(), std::move(command), resp);
}

grpc::ServerUnaryReactor* MetadataService::DeleteGroup(grpc::CallbackServerContext* c,
                                                       const v1::DeleteGroupRequest* req,
                                                       v1::DeleteGroupResponse* resp) {
  v1::Command command;
  *command.mutable_delete_group() = *req;
  command.mutable_delete_group()->clear_header();
  return write(c, req->header(), std::move(command), resp);
}

grpc::ServerUnaryReactor* MetadataService::GetGroup(grpc::CallbackServerContext* c,
                                                    const v1::GetGroupRequest* req,
                                                    v1::GetGroupResponse* resp) {
  return read(c, req->read(), resp, ServeOn::kCompletingThread, [req, resp](const state::State& s) {
    auto group = s.find_group(req->group_id());
    if (!group) return not_found("group '" + req->group_id() + "' does not exist");
    *resp->mutable_group() = *group;
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* MetadataService::ListGroups(grpc::CallbackServerContext* c,
                                                      const v1::ListGroupsRequest* req,
                                                      v1::ListGroupsResponse* resp) {
  return read(c, req->read(), resp, ServeOn::kExecutor, [req, resp](const state::State& s) {
    for (const auto& group : s.list_groups(req->prefix())) *resp->add_groups() = *group;
    return grpc::Status::OK;
  });
}

// ----------------------------------------------------------------- offsets

grpc::ServerUnaryReactor* MetadataService::CommitOffsets(grpc::CallbackServerContext* c,
                                                         const v1::CommitOffsetsRequest* req,
                                                         v1::CommitOffsetsResponse* resp) {
  v1::Command command;
  *command.mutable_commit_offsets() = *req;
  command.mutable_commit_offsets()->clear_header();
  return write(c, req->header(), std::move(command), resp);
}

grpc::ServerUnaryReactor* MetadataService::FetchOffsets(grpc::CallbackServerContext* c,
                                                        const v1::FetchOffsetsRequest* req,
                                                        v1::FetchOffsetsResponse* resp) {
  return read(c, req->read(), resp, ServeOn::kCompletingThread, [req, resp](const state::State& s) {
    const std::vector<v1::TopicPartition> partitions(req->partitions().begin(),
                                                     req->partitions().end());
    std::vector<v1::CommittedOffset> offsets;
    const state::ReadStatus status = s.fetch_offsets(req->group_id(), partitions, &offsets);
    if (!status.ok()) return grpc::Status(to_grpc_code(status.code), status.message);
    for (auto& o : offsets) *resp->add_offsets() = std::move(o);
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* MetadataService::DeleteOffsets(grpc::CallbackServerContext* c,
                                                         const v1::DeleteOffsetsRequest* req,
                                                         v1::DeleteOffsetsResponse* resp) {
  v1::Command command;
  *command.mutable_delete_offsets() = *req;
  command.mutable_delete_offsets()->clear_header();
  return write(c, req->header(), std::move(command), resp);
}

grpc::ServerUnaryReactor* MetadataService::AllocateProducerIds(
    grpc::CallbackServerContext* c, const v1::AllocateProducerIdsRequest* req,
    v1::AllocateProducerIdsResponse* resp) {
  v1::Command command;
  *command.mutable_allocate_producer_ids() = *req;
  command.mutable_allocate_producer_ids()->clear_header();
  return write(c, req->header(), std::move(command), resp);
}

// ------------------------------------------------------------------- watch

grpc::ServerWriteReactor<v1::WatchEvent>* MetadataService::Watch(grpc::CallbackServerContext* c,
                                                                 const v1::WatchRequest* req) {
  return hub_->open(c, *req);
}

}  // namespace raftmeta::node::server
