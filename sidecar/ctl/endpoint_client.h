// EndpointClient: raftmetactl's connection to a cluster given as a list of
// client endpoints. It picks the member to ask, follows leader hints, and
// retries: reads and writes on UNAVAILABLE and DEADLINE_EXCEEDED (writes also
// on ABORTED, which means "not applied"), against the leader named in the
// answer's trailing metadata or else the next endpoint, until the overall
// timeout. A write is always retried with the SAME request header, so the
// state machine answers a retry of an applied write with its original result
// instead of applying it twice.
//
// Thread use: one thread (raftmetactl is sequential).
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace raftmeta::ctl {

struct EndpointClientOptions {
  std::chrono::milliseconds total_timeout{15000};  // over every attempt
  std::chrono::milliseconds attempt_timeout{5000};
  std::chrono::milliseconds retry_backoff{100};  // between passes over all endpoints
};

// One attempt: issue the RPC on `channel` with `context` (deadline set).
using Attempt = std::function<grpc::Status(const std::shared_ptr<grpc::Channel>& channel,
                                           grpc::ClientContext* context)>;

class EndpointClient {
 public:
  EndpointClient(std::vector<std::string> endpoints, EndpointClientOptions options);

  // Runs `attempt` until it succeeds, fails with a non-retryable status, or
  // the overall timeout passes (then the last status). `write` adds ABORTED
  // to the retryable codes.
  grpc::Status call(bool write, const Attempt& attempt);

  // Every endpoint tried, in order, by the last call() (for messages/tests).
  const std::vector<std::string>& tried() const { return tried_; }

 private:
  std::shared_ptr<grpc::Channel> channel(const std::string& address);

  std::vector<std::string> endpoints_;
  EndpointClientOptions options_;
  std::size_t next_ = 0;
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::string> tried_;
};

// Splits "a:1, b:2" into addresses; empty items are dropped.
std::vector<std::string> split_endpoints(const std::string& text);

// A client id unique enough for one raftmetactl run: "ctl-<host>-<pid>-<random>".
std::string generate_client_id();

}  // namespace raftmeta::ctl
