#include "sidecar/node/server/grpc_status.h"

#include <gtest/gtest.h>

namespace raftmeta::node::server {
namespace {

TEST(GrpcStatus, UnavailableNamesTheLeader) {
  RequestStatus s;
  s.code = kUnavailable;
  s.message = "not the leader";
  s.leader_id = 3;
  s.leader_client_address = "10.0.0.3:7401";
  const grpc::Status g = to_grpc_status(s, nullptr);
  EXPECT_EQ(g.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(g.error_message(), "not the leader; leader is member 3 at 10.0.0.3:7401");
}

TEST(GrpcStatus, CodesMapOneToOneAndUnknownIsInternal) {
  EXPECT_EQ(to_grpc_code(kOk), grpc::StatusCode::OK);
  EXPECT_EQ(to_grpc_code(kAlreadyExists), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(to_grpc_code(kAborted), grpc::StatusCode::ABORTED);
  EXPECT_EQ(to_grpc_code(kResourceExhausted), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(to_grpc_code(-1), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(to_grpc_code(99), grpc::StatusCode::INTERNAL);
}

TEST(GrpcStatus, OutcomeKeepsTheStateMachineMessage) {
  ApplyOutcome o;
  o.code = kNotFound;
  o.message = "topic 'x' does not exist";
  const grpc::Status g = to_grpc_status(o);
  EXPECT_EQ(g.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(g.error_message(), "topic 'x' does not exist");
  EXPECT_TRUE(to_grpc_status(ApplyOutcome{}).ok());
}

TEST(GrpcStatus, ErrorWithoutMessageStillSaysSomething) {
  RequestStatus s;
  s.code = kInternal;
  EXPECT_FALSE(to_grpc_status(s, nullptr).error_message().empty());
}

TEST(GrpcStatus, ClusterIdCheck) {
  EXPECT_TRUE(check_cluster_id("", "c1").ok());
  EXPECT_TRUE(check_cluster_id("c1", "c1").ok());
  const grpc::Status g = check_cluster_id("c2", "c1");
  EXPECT_EQ(g.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(g.error_message().find("'c2'"), std::string::npos);
  EXPECT_NE(g.error_message().find("'c1'"), std::string::npos);
}

}  // namespace
}  // namespace raftmeta::node::server
