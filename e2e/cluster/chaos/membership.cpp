#include "e2e/cluster/chaos/membership.h"

#include <grpcpp/grpcpp.h>

#include <thread>

#include "raftmeta/v1/admin.grpc.pb.h"
#include "sidecar/ctl/endpoint_client.h"

namespace raftmeta::chaos {

namespace v1 = ::raftmeta::v1;
using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

namespace {

// Start-up of the new member: process, storage, HTTP.
constexpr milliseconds kStartupWait{10000};
constexpr milliseconds kPromoteRetry{200};

std::vector<std::string> endpoints_of(const e2e::ProcessCluster& cluster) {
  std::vector<std::string> out;
  for (std::uint64_t id : cluster.ids()) out.push_back(cluster.client_address(id));
  return out;
}

// One Admin call through every running member, retried within `budget`
// while `retry(status)` holds.
template <typename Rpc, typename Retry>
grpc::Status admin_call(const e2e::ProcessCluster& cluster, milliseconds budget, const Rpc& rpc,
                        const Retry& retry) {
  const auto deadline = SteadyClock::now() + budget;
  grpc::Status status;
  do {
    ctl::EndpointClient client(endpoints_of(cluster), {.total_timeout = milliseconds(5000),
                                                       .attempt_timeout = milliseconds(2000),
                                                       .retry_backoff = milliseconds(100)});
    status = client.call(true, [&](const auto& channel, grpc::ClientContext* context) {
      return rpc(v1::Admin::Stub(channel), context);
    });
    if (status.ok() || !retry(status)) return status;
    std::this_thread::sleep_for(kPromoteRetry);
  } while (SteadyClock::now() < deadline);
  return status;
}

void fill(v1::RequestHeader* header, const e2e::ProcessCluster& cluster, std::uint64_t* request) {
  header->set_cluster_id(cluster.options().cluster_id);
  header->set_client_id("chaos-membership-" + cluster.options().cluster_id);
  header->set_request_id(++*request);
  header->set_first_unacknowledged(*request);  // one request at a time
}

}  // namespace

MemberReplacement replace_member(e2e::ProcessCluster* cluster, std::uint64_t old_id,
                                 milliseconds budget) {
  MemberReplacement r;
  static std::uint64_t request_id = 0;  // nemesis thread only
  const auto always = [](const grpc::Status&) { return true; };

  v1::RemoveMemberRequest remove;
  fill(remove.mutable_header(), *cluster, &request_id);
  remove.set_id(old_id);
  grpc::Status status = admin_call(
      *cluster, budget,
      [&](v1::Admin::Stub stub, grpc::ClientContext* ctx) {
        v1::RemoveMemberResponse resp;
        return stub.RemoveMember(ctx, remove, &resp);
      },
      always);
  // A retry after an answer that was lost finds the member already gone.
  if (status.error_code() == grpc::StatusCode::NOT_FOUND) status = grpc::Status::OK;
  if (!status.ok()) {
    r.error = "remove member " + std::to_string(old_id) + ": " + status.error_message();
    return r;
  }
  cluster->retire(old_id);

  r.new_id = cluster->next_new_id();
  std::string error;
  if (!cluster->start(r.new_id, false, true, &error) ||
      !cluster->wait_startup(r.new_id, kStartupWait + e2e::kSlack)) {
    r.error = "start new member " + std::to_string(r.new_id) + " with --join: " + error;
    return r;
  }
  v1::AddLearnerRequest add;
  fill(add.mutable_header(), *cluster, &request_id);
  add.set_id(r.new_id);
  add.set_peer_address(cluster->peer_address(r.new_id));
  status = admin_call(
      *cluster, budget,
      [&](v1::Admin::Stub stub, grpc::ClientContext* ctx) {
        v1::AddLearnerResponse resp;
        return stub.AddLearner(ctx, add, &resp);
      },
      always);
  if (status.error_code() == grpc::StatusCode::ALREADY_EXISTS) status = grpc::Status::OK;
  if (!status.ok()) {
    r.error = "add learner " + std::to_string(r.new_id) + ": " + status.error_message();
    return r;
  }
  // Refused with FAILED_PRECONDITION until the learner has caught up.
  v1::PromoteMemberRequest promote;
  fill(promote.mutable_header(), *cluster, &request_id);
  promote.set_id(r.new_id);
  status = admin_call(
      *cluster, budget,
      [&](v1::Admin::Stub stub, grpc::ClientContext* ctx) {
        v1::PromoteMemberResponse resp;
        return stub.PromoteMember(ctx, promote, &resp);
      },
      [&](const grpc::Status&) {
        // A retry after an answer that was lost: done if it already votes.
        return !cluster->view(r.new_id, milliseconds(500)).raw.value("voter", false);
      });
  if (!status.ok() && cluster->view(r.new_id, milliseconds(500)).raw.value("voter", false)) {
    status = grpc::Status::OK;
  }
  if (!status.ok()) {
    r.error = "promote " + std::to_string(r.new_id) + ": " + status.error_message();
    return r;
  }
  r.ok = true;
  return r;
}

}  // namespace raftmeta::chaos
