// raftmetactl against fake Metadata/Admin servers on loopback: exit codes,
// output formats, and the retry rules (same request id, leader hints, next
// endpoint).
#include "sidecar/ctl/ctl_app.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <mutex>
#include <sstream>

#include "raftmeta/v1/admin.grpc.pb.h"
#include "raftmeta/v1/metadata.grpc.pb.h"

namespace raftmeta::ctl {
namespace {

namespace v1 = ::raftmeta::v1;

// A Metadata server whose CreateTopic answers UNAVAILABLE `refusals` times
// (with a leader hint when `hint` is set), then creates the topic.
class FakeMetadata final : public v1::Metadata::Service {
 public:
  int refusals = 0;
  std::string hint;
  grpc::StatusCode refusal_code = grpc::StatusCode::UNAVAILABLE;

  grpc::Status CreateTopic(grpc::ServerContext* context, const v1::CreateTopicRequest* req,
                           v1::CreateTopicResponse* resp) override {
    std::lock_guard lock(mu);
    headers.push_back(req->header());
    if (refusals > 0) {
      --refusals;
      if (!hint.empty()) context->AddTrailingMetadata("raftmeta-leader-address", hint);
      return grpc::Status(refusal_code, "not the leader");
    }
    if (req->name() == "exists") {
      return grpc::Status(grpc::StatusCode::ALREADY_EXISTS, "topic 'exists' already\nexists");
    }
    resp->mutable_topic()->set_name(req->name());
    resp->mutable_topic()->set_topic_id(42);
    for (int i = 0; i < req->partitions(); ++i) {
      resp->mutable_topic()->add_partitions()->set_partition(i);
    }
    resp->set_revision(43);
    return grpc::Status::OK;
  }

  grpc::Status ListTopics(grpc::ServerContext*, const v1::ListTopicsRequest* req,
                          v1::ListTopicsResponse* resp) override {
    std::lock_guard lock(mu);
    consistencies.push_back(req->read().consistency());
    resp->add_topics()->set_name("orders");
    resp->set_revision(9);
    return grpc::Status::OK;
  }

  std::mutex mu;
  std::vector<v1::RequestHeader> headers;
  std::vector<v1::Consistency> consistencies;
};

class FakeAdmin final : public v1::Admin::Service {
 public:
  grpc::Status ListMembers(grpc::ServerContext*, const v1::ListMembersRequest*,
                           v1::ListMembersResponse* resp) override {
    auto* m = resp->add_members();
    m->set_id(1);
    m->set_peer_address("h1:7400");
    m->set_is_leader(true);
    resp->set_leader(1);
    resp->set_term(3);
    return grpc::Status::OK;
  }
};

struct FakeServer {
  FakeMetadata metadata;
  FakeAdmin admin;
  std::unique_ptr<grpc::Server> server;
  std::string address;

  FakeServer() {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&metadata);
    builder.RegisterService(&admin);
    server = builder.BuildAndStart();
    address = "127.0.0.1:" + std::to_string(port);
  }
  ~FakeServer() { server->Shutdown(); }
};

struct CtlRun {
  int code = -1;
  std::string out;
  std::string err;
};

CtlRun ctl(std::vector<std::string> args) {
  std::vector<std::string> all{"raftmetactl"};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<const char*> argv;
  for (const auto& a : all) argv.push_back(a.c_str());
  std::ostringstream out, err;
  CtlRun r;
  r.code = run_ctl(static_cast<int>(argv.size()), argv.data(), out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

TEST(Ctl, CreateTopicPrintsASentence) {
  FakeServer s;
  CtlRun r = ctl({"--endpoints", s.address, "topic", "create", "orders", "--partitions", "3"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "created topic orders (id 42, 3 partitions) at revision 43\n");
  ASSERT_EQ(s.metadata.headers.size(), 1u);
  EXPECT_FALSE(s.metadata.headers[0].client_id().empty());
  EXPECT_NE(s.metadata.headers[0].request_id(), 0u);
}

TEST(Ctl, WriteRetriedOnLeaderHintWithTheSameRequestId) {
  FakeServer follower, leader;
  follower.metadata.refusals = 1;
  follower.metadata.hint = leader.address;
  CtlRun r = ctl({"--endpoints", follower.address, "topic", "create", "orders"});
  EXPECT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(follower.metadata.headers.size(), 1u);
  ASSERT_EQ(leader.metadata.headers.size(), 1u) << "the retry went to the hinted leader";
  EXPECT_EQ(follower.metadata.headers[0].client_id(), leader.metadata.headers[0].client_id());
  EXPECT_EQ(follower.metadata.headers[0].request_id(), leader.metadata.headers[0].request_id());
}

TEST(Ctl, WriteRetriedOnNextEndpointWithoutHint) {
  FakeServer a, b;
  a.metadata.refusals = 1;
  a.metadata.refusal_code = grpc::StatusCode::DEADLINE_EXCEEDED;
  CtlRun r = ctl({"--endpoints", a.address + "," + b.address, "topic", "create", "orders"});
  EXPECT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(b.metadata.headers.size(), 1u);
  EXPECT_EQ(a.metadata.headers[0].request_id(), b.metadata.headers[0].request_id());
}

TEST(Ctl, RetriesSameMemberUntilItAnswers) {
  FakeServer a;
  a.metadata.refusals = 3;  // e.g. an election in progress
  CtlRun r = ctl({"--endpoints", a.address, "topic", "create", "orders"});
  EXPECT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(a.metadata.headers.size(), 4u);
  for (const auto& h : a.metadata.headers) {
    EXPECT_EQ(h.request_id(), a.metadata.headers[0].request_id());
  }
}

TEST(Ctl, FailureIsOneLineOnStderrAndExit1) {
  FakeServer s;
  CtlRun r = ctl({"--endpoints", s.address, "topic", "create", "exists"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "raftmetactl: ALREADY_EXISTS: topic 'exists' already exists\n");
  EXPECT_EQ(s.metadata.headers.size(), 1u) << "not retried";
}

TEST(Ctl, GivesUpAfterTheTimeout) {
  FakeServer s;
  s.metadata.refusals = 1'000'000;
  CtlRun r = ctl({"--endpoints", s.address, "--timeout-ms", "500", "topic", "create", "t"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("UNAVAILABLE"), std::string::npos) << r.err;
}

TEST(Ctl, ListAsTableAndJsonWithConsistency) {
  FakeServer s;
  CtlRun table = ctl({"--endpoints", s.address, "topic", "list"});
  EXPECT_EQ(table.code, 0) << table.err;
  EXPECT_NE(table.out.find("NAME"), std::string::npos);
  EXPECT_NE(table.out.find("orders"), std::string::npos);
  EXPECT_NE(table.out.find("1 topics at revision 9"), std::string::npos);
  CtlRun json =
      ctl({"--endpoints", s.address, "-o", "json", "topic", "list", "--consistency", "stale"});
  EXPECT_EQ(json.code, 0) << json.err;
  EXPECT_NE(json.out.find("\"name\":\"orders\""), std::string::npos) << json.out;
  CtlRun late = ctl({"--endpoints", s.address, "topic", "list", "-o", "json"});
  EXPECT_EQ(late.code, 0) << late.err;
  EXPECT_NE(late.out.find("\"name\":\"orders\""), std::string::npos) << late.out;
  ASSERT_EQ(s.metadata.consistencies.size(), 3u);
  EXPECT_EQ(s.metadata.consistencies[0], v1::CONSISTENCY_LINEARIZABLE);
  EXPECT_EQ(s.metadata.consistencies[1], v1::CONSISTENCY_STALE);
}

TEST(Ctl, MemberList) {
  FakeServer s;
  CtlRun r = ctl({"--endpoints", s.address, "member", "list"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("h1:7400"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("leader 1, term 3"), std::string::npos) << r.out;
}

TEST(Ctl, UsageErrorsExit2WithOneLine) {
  for (const auto& args :
       std::vector<std::vector<std::string>>{{},
                                             {"topic"},
                                             {"topic", "frobnicate"},
                                             {"topic", "create"},
                                             {"-o", "yaml", "status"},
                                             {"topic", "list", "--consistency", "eventual"},
                                             {"member", "add", "--id", "4"},
                                             {"--endpoints", ",", "status"}}) {
    CtlRun r = ctl(args);
    EXPECT_EQ(r.code, 2) << "args: " << ::testing::PrintToString(args);
    EXPECT_FALSE(r.err.empty());
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "one line: " << r.err;
  }
}

TEST(Ctl, HelpExits0) {
  CtlRun r = ctl({"--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("topic"), std::string::npos);
}

}  // namespace
}  // namespace raftmeta::ctl
