#include "e2e/cluster/cluster_client.h"

namespace raftmeta::e2e {

namespace v1 = ::raftmeta::v1;

ClusterClient::ClusterClient(std::vector<std::string> endpoints, std::string cluster_id,
                             std::chrono::milliseconds total_timeout)
    : client_(std::move(endpoints),
              ctl::EndpointClientOptions{.total_timeout = total_timeout,
                                         .attempt_timeout = std::chrono::milliseconds(3000),
                                         .retry_backoff = std::chrono::milliseconds(50)}),
      cluster_id_(std::move(cluster_id)),
      client_id_(ctl::generate_client_id()) {}

v1::RequestHeader ClusterClient::next_header() {
  v1::RequestHeader h;
  h.set_cluster_id(cluster_id_);
  h.set_client_id(client_id_);
  // One request at a time: earlier outcomes need not be kept.
  h.set_first_unacknowledged(next_request_id_);
  h.set_request_id(next_request_id_++);
  return h;
}

namespace {
constexpr std::int64_t kTestBrokerSessionMs = 3'600'000;
}  // namespace

grpc::Status ClusterClient::register_broker(std::int32_t id) {
  v1::RegisterBrokerRequest req;
  *req.mutable_header() = next_header();
  req.set_broker_id(id);
  req.set_host("broker-" + std::to_string(id));
  req.set_port(9092);
  // These tests register brokers only so that topics can be created; they
  // send no heartbeats, and the leader fences a broker whose session expired
  // (18 s by default). A one-hour session keeps it unfenced for any test.
  req.set_session_timeout_ms(kTestBrokerSessionMs);
  req.set_incarnation_id(client_id_ + "-broker-" + std::to_string(id));
  return client_.call(true, [&](const auto& channel, grpc::ClientContext* context) {
    v1::RegisterBrokerResponse resp;
    return v1::Metadata::Stub(channel).RegisterBroker(context, req, &resp);
  });
}

grpc::Status ClusterClient::create_topic(const std::string& name, std::int32_t partitions,
                                         v1::CreateTopicResponse* response) {
  v1::CreateTopicRequest req;
  *req.mutable_header() = next_header();
  req.set_name(name);
  req.set_partitions(partitions);
  req.set_replication_factor(1);
  v1::CreateTopicResponse local;
  v1::CreateTopicResponse* out = response != nullptr ? response : &local;
  return client_.call(true, [&](const auto& channel, grpc::ClientContext* context) {
    out->Clear();
    return v1::Metadata::Stub(channel).CreateTopic(context, req, out);
  });
}

grpc::Status ClusterClient::list_topics(v1::Consistency level, v1::ListTopicsResponse* response) {
  v1::ListTopicsRequest req;
  req.mutable_read()->set_cluster_id(cluster_id_);
  req.mutable_read()->set_consistency(level);
  req.set_names_only(true);
  return client_.call(false, [&](const auto& channel, grpc::ClientContext* context) {
    response->Clear();
    return v1::Metadata::Stub(channel).ListTopics(context, req, response);
  });
}

grpc::Status ClusterClient::get_topic(const std::string& name, v1::Consistency level,
                                      v1::GetTopicResponse* response) {
  v1::GetTopicRequest req;
  req.mutable_read()->set_cluster_id(cluster_id_);
  req.mutable_read()->set_consistency(level);
  req.set_name(name);
  return client_.call(false, [&](const auto& channel, grpc::ClientContext* context) {
    response->Clear();
    return v1::Metadata::Stub(channel).GetTopic(context, req, response);
  });
}

grpc::Status ClusterClient::status(v1::GetStatusResponse* response) {
  v1::GetStatusRequest req;
  req.set_cluster_id(cluster_id_);
  return client_.call(false, [&](const auto& channel, grpc::ClientContext* context) {
    response->Clear();
    return v1::Admin::Stub(channel).GetStatus(context, req, response);
  });
}

grpc::Status ClusterClient::list_topics_at(const std::string& endpoint,
                                           const std::string& cluster_id, v1::Consistency level,
                                           v1::ListTopicsResponse* response,
                                           std::chrono::milliseconds timeout) {
  v1::ListTopicsRequest req;
  req.mutable_read()->set_cluster_id(cluster_id);
  req.mutable_read()->set_consistency(level);
  req.set_names_only(true);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + timeout);
  auto channel = grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials());
  return v1::Metadata::Stub(channel).ListTopics(&context, req, response);
}

}  // namespace raftmeta::e2e
