// ClusterClient: the Metadata and Admin calls multi-process tests make, with
// raftmetactl's retry rules (ctl::EndpointClient: leader hints, next
// endpoint, the same request id on every retry of a write).
//
// Thread use: one thread per ClusterClient (make one per client thread).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "raftmeta/v1/admin.grpc.pb.h"
#include "raftmeta/v1/metadata.grpc.pb.h"
#include "sidecar/ctl/endpoint_client.h"

namespace raftmeta::e2e {

class ClusterClient {
 public:
  ClusterClient(std::vector<std::string> endpoints, std::string cluster_id,
                std::chrono::milliseconds total_timeout = std::chrono::milliseconds(20000));

  grpc::Status register_broker(std::int32_t id);
  grpc::Status create_topic(const std::string& name, std::int32_t partitions,
                            raftmeta::v1::CreateTopicResponse* response = nullptr);
  grpc::Status list_topics(raftmeta::v1::Consistency level,
                           raftmeta::v1::ListTopicsResponse* response);
  grpc::Status get_topic(const std::string& name, raftmeta::v1::Consistency level,
                         raftmeta::v1::GetTopicResponse* response);
  grpc::Status status(raftmeta::v1::GetStatusResponse* response);

  // One attempt at exactly this endpoint, no retries (to check what a
  // particular member answers).
  static grpc::Status list_topics_at(const std::string& endpoint, const std::string& cluster_id,
                                     raftmeta::v1::Consistency level,
                                     raftmeta::v1::ListTopicsResponse* response,
                                     std::chrono::milliseconds timeout);

 private:
  raftmeta::v1::RequestHeader next_header();

  ctl::EndpointClient client_;
  const std::string cluster_id_;
  const std::string client_id_;
  std::uint64_t next_request_id_ = 1;
};

}  // namespace raftmeta::e2e
