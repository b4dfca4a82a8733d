#include "sidecar/ctl/endpoint_client.h"

#include <unistd.h>

#include <random>
#include <thread>

namespace raftmeta::ctl {
namespace {

constexpr const char* kLeaderAddressTrailer = "raftmeta-leader-address";

bool retryable(grpc::StatusCode code, bool write) {
  return code == grpc::StatusCode::UNAVAILABLE || code == grpc::StatusCode::DEADLINE_EXCEEDED ||
         (write && code == grpc::StatusCode::ABORTED);
}

std::string leader_hint(const grpc::ClientContext& context) {
  const auto& trailers = context.GetServerTrailingMetadata();
  auto it = trailers.find(kLeaderAddressTrailer);
  if (it == trailers.end()) return "";
  return std::string(it->second.data(), it->second.size());
}

}  // namespace

std::vector<std::string> split_endpoints(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    std::string item = text.substr(start, comma - start);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) out.push_back(item);
    start = comma + 1;
  }
  return out;
}

std::string generate_client_id() {
  char host[64] = {};
  ::gethostname(host, sizeof(host) - 1);
  std::random_device rd;
  std::uniform_int_distribution<std::uint64_t> dist;
  char random[17];
  std::snprintf(random, sizeof(random), "%016llx", static_cast<unsigned long long>(dist(rd)));
  return std::string("ctl-") + host + "-" + std::to_string(::getpid()) + "-" + random;
}

EndpointClient::EndpointClient(std::vector<std::string> endpoints, EndpointClientOptions options)
    : endpoints_(std::move(endpoints)), options_(options) {}

std::shared_ptr<grpc::Channel> EndpointClient::channel(const std::string& address) {
  auto& ch = channels_[address];
  if (!ch) {
    grpc::ChannelArguments args;
    // Fail fast on a dead member instead of waiting out gRPC's reconnect
    // backoff; the next endpoint is tried instead.
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 200);
    args.SetMaxReceiveMessageSize(64 * 1024 * 1024);
    ch = grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
  }
  return ch;
}

grpc::Status EndpointClient::call(bool write, const Attempt& attempt) {
  using Clock = std::chrono::system_clock;
  tried_.clear();
  if (endpoints_.empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no endpoints given");
  }
  const auto deadline = Clock::now() + options_.total_timeout;
  std::string target = endpoints_[next_ % endpoints_.size()];
  std::size_t since_backoff = 0;
  grpc::Status last(grpc::StatusCode::DEADLINE_EXCEEDED, "no attempt made before the timeout");
  while (Clock::now() < deadline) {
    grpc::ClientContext context;
    context.set_deadline(std::min(deadline, Clock::now() + options_.attempt_timeout));
    tried_.push_back(target);
    grpc::Status status = attempt(channel(target), &context);
    if (status.ok() || !retryable(status.error_code(), write)) return status;
    last = grpc::Status(status.error_code(), target + ": " + status.error_message());
    const std::string hint = leader_hint(context);
    if (!hint.empty() && hint != target) {
      target = hint;
      continue;
    }
    next_ = (next_ + 1) % endpoints_.size();
    target = endpoints_[next_];
    if (++since_backoff >= endpoints_.size()) {
      // Every member was asked once: no leader yet (election) or all down.
      since_backoff = 0;
      std::this_thread::sleep_for(options_.retry_backoff);
    }
  }
  return last;
}

}  // namespace raftmeta::ctl
