// The Metadata and Admin services over gRPC on loopback, in front of a real
// single-member Node (SQLite storage, in-memory peer transport) and the real
// state machine: the answers a client sees for good and bad input.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <thread>

#include "raftmeta/v1/admin.grpc.pb.h"
#include "raftmeta/v1/metadata.grpc.pb.h"
#include "sidecar/health/progress.h"
#include "sidecar/node/inmem_transport.h"
#include "sidecar/node/node.h"
#include "sidecar/node/server/admin_service.h"
#include "sidecar/node/server/client_server.h"
#include "sidecar/node/server/metadata_service.h"
#include "sidecar/node/server/request_executor.h"
#include "sidecar/node/server/watch_hub.h"
#include "sidecar/node/state/metadata_state_machine.h"

namespace raftmeta::node::server {
namespace {

namespace v1 = ::raftmeta::v1;
using std::chrono::milliseconds;

#if defined(RAFTMETA_SANITIZER_ADDRESS) || defined(RAFTMETA_SANITIZER_THREAD)
constexpr milliseconds kSlack{12000};
#else
constexpr milliseconds kSlack{3000};
#endif
constexpr int kElectionMs = 300;
constexpr std::size_t kMaxRequestBytes = 64 * 1024;
constexpr std::size_t kWatchCapacity = 8;
const std::string kCluster = "services-test";

class ServicesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "raftmeta-services-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    network_ = std::make_shared<InMemoryNetwork>();
    transport_ = std::make_unique<InMemoryTransport>(network_, "peer-1");
    state::StateMachineOptions sm_options;
    sm_options.watch_capacity = kWatchCapacity;
    state_machine_ = std::make_shared<state::MetadataStateMachine>(sm_options);
    NodeOptions o;
    o.id = 1;
    o.cluster_id = kCluster;
    o.data_dir = dir_ + "/member-1";
    o.peer_address = "peer-1";
    o.client_address = "client-1";
    o.initial_members = {{1, "peer-1"}};
    o.heartbeat_ms = 50;
    o.election_ms = kElectionMs;
    o.max_request_bytes = kMaxRequestBytes;
    std::string error;
    node_ = Node::start(o, state_machine_, transport_.get(), NodeHealth{&stamps_}, &error);
    ASSERT_TRUE(node_) << error;

    executor_ = std::make_unique<RequestExecutor>(8, 64);
    ServiceContext ctx;
    ctx.node = node_.get();
    ctx.executor = executor_.get();
    ctx.cluster_id = kCluster;
    auto sm = state_machine_;
    ctx.current_state = [sm] { return sm->current(); };
    ctx.max_call_time = milliseconds(5000);
    hub_ = std::make_unique<WatchHub>(ctx.current_state, kCluster,
                                      WatchHubOptions{.poll = milliseconds(10)});
    hub_->start();
    metadata_ = std::make_unique<MetadataService>(ctx, hub_.get());
    admin_ = std::make_unique<AdminService>(ctx);
    server_ = std::make_unique<ClientServer>(
        ClientServerOptions{.listen = "127.0.0.1:0", .max_request_bytes = kMaxRequestBytes},
        std::vector<grpc::Service*>{metadata_.get(), admin_.get()});
    ASSERT_EQ(server_->start(), "");
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                                       grpc::InsecureChannelCredentials());
    metadata_stub_ = v1::Metadata::NewStub(channel);
    admin_stub_ = v1::Admin::NewStub(channel);
    wait_for_leadership();
    register_broker(1);
  }

  void TearDown() override {
    if (hub_) hub_->stop();
    if (node_) node_->shutdown(Clock::now() + milliseconds(5000));
    if (server_) server_->shutdown(std::chrono::system_clock::now() + milliseconds(1000));
    if (executor_) executor_->stop();
    server_.reset();
    node_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  void wait_for_leadership() {
    const auto deadline = Clock::now() + milliseconds(10 * kElectionMs) + kSlack;
    while (Clock::now() < deadline) {
      auto s = node_->status();
      // Leading, caught up, and holding its lease: the first heartbeat round
      // of the term starts a tick after the election, and a lease read asked
      // before it is refused (the tests below read at every level at once).
      if (s && s->role == raft::Role::kLeader && s->applied >= s->commit && s->commit > 0 &&
          s->lease_valid) {
        return;
      }
      std::this_thread::sleep_for(milliseconds(10));
    }
    FAIL() << "the single member did not become leader";
  }

  std::unique_ptr<grpc::ClientContext> context() {
    auto c = std::make_unique<grpc::ClientContext>();
    c->set_deadline(std::chrono::system_clock::now() + milliseconds(5000) + kSlack);
    return c;
  }

  v1::RequestHeader header(std::uint64_t request_id = 0) {
    v1::RequestHeader h;
    h.set_cluster_id(kCluster);
    h.set_client_id("services-test-client");
    h.set_request_id(request_id == 0 ? next_request_id_++ : request_id);
    return h;
  }

  void register_broker(int id) {
    v1::RegisterBrokerRequest req;
    *req.mutable_header() = header();
    req.set_broker_id(id);
    req.set_host("broker-" + std::to_string(id));
    req.set_port(9092);
    req.set_incarnation_id("inc-" + std::to_string(id));
    v1::RegisterBrokerResponse resp;
    const grpc::Status s = metadata_stub_->RegisterBroker(context().get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  grpc::Status create_topic(const std::string& name, v1::CreateTopicResponse* resp,
                            std::uint64_t request_id = 0, const std::string& cluster = kCluster) {
    v1::CreateTopicRequest req;
    *req.mutable_header() = header(request_id);
    req.mutable_header()->set_cluster_id(cluster);
    req.set_name(name);
    req.set_partitions(2);
    req.set_replication_factor(1);
    return metadata_stub_->CreateTopic(context().get(), req, resp);
  }

  grpc::Status get_topic(const std::string& name, v1::Consistency level,
                         v1::GetTopicResponse* resp) {
    v1::GetTopicRequest req;
    req.mutable_read()->set_cluster_id(kCluster);
    req.mutable_read()->set_consistency(level);
    req.set_name(name);
    return metadata_stub_->GetTopic(context().get(), req, resp);
  }

  std::string dir_;
  health::ProgressStamps stamps_;
  std::shared_ptr<InMemoryNetwork> network_;
  std::unique_ptr<InMemoryTransport> transport_;
  std::shared_ptr<state::MetadataStateMachine> state_machine_;
  std::unique_ptr<Node> node_;
  std::unique_ptr<RequestExecutor> executor_;
  std::unique_ptr<WatchHub> hub_;
  std::unique_ptr<MetadataService> metadata_;
  std::unique_ptr<AdminService> admin_;
  std::unique_ptr<ClientServer> server_;
  std::unique_ptr<v1::Metadata::Stub> metadata_stub_;
  std::unique_ptr<v1::Admin::Stub> admin_stub_;
  std::uint64_t next_request_id_ = 1;
};

TEST_F(ServicesTest, CreatedTopicIsReadAtEveryConsistencyLevelWithItsRevision) {
  v1::CreateTopicResponse created;
  ASSERT_TRUE(create_topic("orders", &created).ok());
  EXPECT_EQ(created.topic().name(), "orders");
  EXPECT_EQ(created.topic().partitions_size(), 2);
  EXPECT_GT(created.revision(), 0u);
  for (v1::Consistency level :
       {v1::CONSISTENCY_LINEARIZABLE, v1::CONSISTENCY_LEASE, v1::CONSISTENCY_STALE}) {
    v1::GetTopicResponse got;
    grpc::Status s = get_topic("orders", level, &got);
    // A lease can lapse for a moment on a loaded machine (a late heartbeat
    // round); clients retry such a refusal, and so does this test.
    const auto retry_until = Clock::now() + kSlack;
    while (level == v1::CONSISTENCY_LEASE && s.error_code() == grpc::StatusCode::UNAVAILABLE &&
           Clock::now() < retry_until) {
      std::this_thread::sleep_for(milliseconds(10));
      s = get_topic("orders", level, &got);
    }
    ASSERT_TRUE(s.ok()) << v1::Consistency_Name(level) << ": " << s.error_message();
    EXPECT_EQ(got.topic().topic_id(), created.topic().topic_id());
    EXPECT_GE(got.revision(), created.revision()) << v1::Consistency_Name(level);
  }
  v1::ListTopicsRequest list;
  list.mutable_read()->set_cluster_id(kCluster);
  v1::ListTopicsResponse listed;
  ASSERT_TRUE(metadata_stub_->ListTopics(context().get(), list, &listed).ok());
  ASSERT_EQ(listed.topics_size(), 1);
  EXPECT_EQ(listed.topics(0).name(), "orders");
}

TEST_F(ServicesTest, DuplicateCreateIsAlreadyExists) {
  v1::CreateTopicResponse resp;
  ASSERT_TRUE(create_topic("orders", &resp).ok());
  const grpc::Status s = create_topic("orders", &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_NE(s.error_message().find("orders"), std::string::npos) << s.error_message();
}

// A refusal is final for its request id: it goes through the log and is
// remembered in the client's session, so the same request arriving again
// later (an earlier attempt that was held up at a stalled member while the
// client retried elsewhere) gets the same refusal even though the command
// would now succeed. Answered from a read barrier alone, it was not
// remembered, and the late attempt created the topic after the client had
// been told it was not created (chaos_stop_test found it).
TEST_F(ServicesTest, RefusalIsFinalForItsRequestIdEvenWhenTheStateChangesLater) {
  v1::CreateTopicResponse resp;
  ASSERT_TRUE(create_topic("orders", &resp).ok());
  constexpr std::uint64_t kRefusedRequest = 7000;
  grpc::Status refused = create_topic("orders", &resp, kRefusedRequest);
  ASSERT_EQ(refused.error_code(), grpc::StatusCode::ALREADY_EXISTS) << refused.error_message();

  v1::DeleteTopicRequest del;
  *del.mutable_header() = header(0);
  del.set_name("orders");
  v1::DeleteTopicResponse deleted;
  ASSERT_TRUE(metadata_stub_->DeleteTopic(context().get(), del, &deleted).ok());

  // The late copy of the refused request.
  const grpc::Status late = create_topic("orders", &resp, kRefusedRequest);
  EXPECT_EQ(late.error_code(), grpc::StatusCode::ALREADY_EXISTS) << late.error_message();
  v1::GetTopicResponse got;
  EXPECT_EQ(get_topic("orders", v1::CONSISTENCY_LINEARIZABLE, &got).error_code(),
            grpc::StatusCode::NOT_FOUND)
      << "the refused request created the topic after all";
}

// RequestHeader.first_unacknowledged over the API: a floor above the
// request's own id is a malformed request; a late copy of an acknowledged
// request is refused (not applied, not answered with another outcome).
TEST_F(ServicesTest, AcknowledgedRequestsAreNotAppliedAgain) {
  auto create = [&](const std::string& name, std::uint64_t id, std::uint64_t first_unacknowledged) {
    v1::CreateTopicRequest req;
    *req.mutable_header() = header(id);
    req.mutable_header()->set_first_unacknowledged(first_unacknowledged);
    req.set_name(name);
    req.set_partitions(1);
    req.set_replication_factor(1);
    v1::CreateTopicResponse resp;
    return metadata_stub_->CreateTopic(context().get(), req, &resp);
  };
  const grpc::Status malformed = create("ahead", 8000, 8001);
  EXPECT_EQ(malformed.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(malformed.error_message().find("first_unacknowledged"), std::string::npos)
      << malformed.error_message();

  ASSERT_TRUE(create("first", 8001, 8001).ok());
  ASSERT_TRUE(create("second", 8002, 8002).ok());  // acknowledges 8001
  v1::DeleteTopicRequest del;
  *del.mutable_header() = header(8003);  // this client's ids below 8002 are spent
  del.set_name("first");
  v1::DeleteTopicResponse deleted;
  ASSERT_TRUE(metadata_stub_->DeleteTopic(context().get(), del, &deleted).ok());

  const grpc::Status late = create("first", 8001, 8001);
  EXPECT_EQ(late.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << late.error_message();
  EXPECT_NE(late.error_message().find("already answered"), std::string::npos)
      << late.error_message();
  v1::GetTopicResponse got;
  EXPECT_EQ(get_topic("first", v1::CONSISTENCY_LINEARIZABLE, &got).error_code(),
            grpc::StatusCode::NOT_FOUND)
      << "the late copy of an acknowledged request created the topic again";
  // The unacknowledged 8002 still gets its original answer.
  EXPECT_TRUE(create("second", 8002, 8002).ok());
}

TEST_F(ServicesTest, RetriedWriteGetsItsOriginalAnswer) {
  v1::CreateTopicResponse first, second;
  ASSERT_TRUE(create_topic("orders", &first, 1000).ok());
  const grpc::Status s = create_topic("orders", &second, 1000);
  ASSERT_TRUE(s.ok()) << "a retry must not be answered ALREADY_EXISTS: " << s.error_message();
  EXPECT_EQ(second.topic().topic_id(), first.topic().topic_id());
  EXPECT_EQ(second.revision(), first.revision());
}

TEST_F(ServicesTest, InvalidTopicNamesAreInvalidArgument) {
  for (const std::string& name :
       {std::string("bad name!"), std::string(".."), std::string(250, 'a'), std::string("")}) {
    v1::CreateTopicResponse resp;
    const grpc::Status s = create_topic(name, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << "name '" << name << "'";
    EXPECT_FALSE(s.error_message().empty());
  }
}

TEST_F(ServicesTest, UnknownTopicIsNotFound) {
  v1::GetTopicResponse got;
  const grpc::Status s = get_topic("missing", v1::CONSISTENCY_LINEARIZABLE, &got);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(s.error_message().find("missing"), std::string::npos);
  v1::DeleteTopicRequest del;
  *del.mutable_header() = header();
  del.set_name("missing");
  v1::DeleteTopicResponse deleted;
  EXPECT_EQ(metadata_stub_->DeleteTopic(context().get(), del, &deleted).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(ServicesTest, ClientOfAnotherClusterIsRefused) {
  v1::CreateTopicResponse resp;
  grpc::Status s = create_topic("orders", &resp, 0, "other-cluster");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("other-cluster"), std::string::npos) << s.error_message();
  EXPECT_NE(s.error_message().find(kCluster), std::string::npos) << s.error_message();

  v1::ListTopicsRequest list;
  list.mutable_read()->set_cluster_id("other-cluster");
  v1::ListTopicsResponse listed;
  EXPECT_EQ(metadata_stub_->ListTopics(context().get(), list, &listed).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  v1::GetStatusRequest status;
  status.set_cluster_id("other-cluster");
  v1::GetStatusResponse st;
  EXPECT_EQ(admin_stub_->GetStatus(context().get(), status, &st).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  v1::WatchRequest watch;
  watch.set_cluster_id("other-cluster");
  auto ctx = context();
  auto reader = metadata_stub_->Watch(ctx.get(), watch);
  v1::WatchEvent e;
  EXPECT_FALSE(reader->Read(&e));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(ServicesTest, OversizedRequestIsResourceExhaustedAndTheServerCarriesOn) {
  v1::CreateTopicRequest req;
  *req.mutable_header() = header();
  req.set_name("big");
  req.set_partitions(1);
  req.set_replication_factor(1);
  (*req.mutable_configs())["blob"] = std::string(kMaxRequestBytes + 1, 'x');
  v1::CreateTopicResponse resp;
  const grpc::Status s = metadata_stub_->CreateTopic(context().get(), req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  EXPECT_TRUE(create_topic("small", &resp).ok());
}

TEST_F(ServicesTest, WatchDeliversChangesInOrder) {
  v1::WatchRequest watch;
  watch.set_cluster_id(kCluster);
  watch.set_start_revision(state_machine_->current()->revision() + 1);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + milliseconds(10000) + kSlack);
  auto reader = metadata_stub_->Watch(&ctx, watch);
  v1::CreateTopicResponse a, b;
  ASSERT_TRUE(create_topic("a", &a).ok());
  ASSERT_TRUE(create_topic("b", &b).ok());
  std::vector<std::string> created;
  std::uint64_t last = 0;
  v1::WatchEvent e;
  while (created.size() < 2 && reader->Read(&e)) {
    if (e.type() != v1::WATCH_EVENT_CHANGES) continue;
    EXPECT_GT(e.revision(), last);
    last = e.revision();
    for (const auto& change : e.changes()) {
      if (change.kind() == v1::CHANGE_KIND_TOPIC_CREATED) created.push_back(change.topic().name());
    }
  }
  EXPECT_EQ(created, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(last, b.revision());
  ctx.TryCancel();
  reader->Finish();
}

TEST_F(ServicesTest, WatchFromACompactedRevisionSaysSo) {
  v1::CreateTopicResponse resp;
  for (std::size_t i = 0; i < kWatchCapacity + 4; ++i) {
    ASSERT_TRUE(create_topic("t" + std::to_string(i), &resp).ok());
  }
  v1::WatchRequest watch;
  watch.set_cluster_id(kCluster);
  watch.set_start_revision(1);
  auto ctx = context();
  auto reader = metadata_stub_->Watch(ctx.get(), watch);
  v1::WatchEvent e;
  ASSERT_TRUE(reader->Read(&e));
  EXPECT_EQ(e.type(), v1::WATCH_EVENT_COMPACTED);
  EXPECT_GT(e.compact_revision(), 1u);
  EXPECT_FALSE(reader->Read(&e)) << "the stream ends after COMPACTED";
  EXPECT_TRUE(reader->Finish().ok());
}

TEST_F(ServicesTest, AdminStatusAndMembers) {
  v1::GetStatusRequest req;
  req.set_cluster_id(kCluster);
  v1::GetStatusResponse st;
  ASSERT_TRUE(admin_stub_->GetStatus(context().get(), req, &st).ok());
  EXPECT_EQ(st.id(), 1u);
  EXPECT_EQ(st.role(), v1::ROLE_LEADER);
  EXPECT_EQ(st.leader(), 1u);
  EXPECT_EQ(st.cluster_id(), kCluster);
  EXPECT_GE(st.applied_index(), 1u);

  v1::ListMembersRequest lm;
  v1::ListMembersResponse members;
  ASSERT_TRUE(admin_stub_->ListMembers(context().get(), lm, &members).ok());
  ASSERT_EQ(members.members_size(), 1);
  EXPECT_EQ(members.members(0).id(), 1u);
  EXPECT_TRUE(members.members(0).is_leader());
  EXPECT_EQ(members.members(0).kind(), v1::MEMBER_KIND_VOTER);

  v1::TakeSnapshotRequest snap;
  *snap.mutable_header() = header();
  v1::TakeSnapshotResponse taken;
  const grpc::Status s = admin_stub_->TakeSnapshot(context().get(), snap, &taken);
  EXPECT_TRUE(s.ok()) << s.error_message();
}

TEST_F(ServicesTest, BrokersGroupsAndOffsets) {
  v1::ListBrokersRequest lb;
  lb.mutable_read()->set_consistency(v1::CONSISTENCY_STALE);
  v1::ListBrokersResponse brokers;
  ASSERT_TRUE(metadata_stub_->ListBrokers(context().get(), lb, &brokers).ok());
  ASSERT_EQ(brokers.brokers_size(), 1);
  EXPECT_EQ(brokers.brokers(0).host(), "broker-1");

  v1::CreateTopicResponse topic;
  ASSERT_TRUE(create_topic("orders", &topic).ok());
  v1::CommitOffsetsRequest commit;
  *commit.mutable_header() = header();
  commit.set_group_id("g1");
  commit.set_generation(-1);
  auto* o = commit.add_offsets();
  o->set_topic("orders");
  o->set_partition(1);
  o->set_offset(77);
  o->set_leader_epoch(-1);
  v1::CommitOffsetsResponse committed;
  grpc::Status s = metadata_stub_->CommitOffsets(context().get(), commit, &committed);
  ASSERT_TRUE(s.ok()) << s.error_message();

  v1::FetchOffsetsRequest fetch;
  fetch.set_group_id("g1");
  v1::FetchOffsetsResponse fetched;
  ASSERT_TRUE(metadata_stub_->FetchOffsets(context().get(), fetch, &fetched).ok());
  ASSERT_EQ(fetched.offsets_size(), 1);
  EXPECT_EQ(fetched.offsets(0).offset(), 77);
  EXPECT_GE(fetched.revision(), committed.revision());

  v1::ListGroupsRequest lg;
  v1::ListGroupsResponse groups;
  ASSERT_TRUE(metadata_stub_->ListGroups(context().get(), lg, &groups).ok());
  ASSERT_EQ(groups.groups_size(), 1);
  EXPECT_EQ(groups.groups(0).group_id(), "g1");
}

}  // namespace
}  // namespace raftmeta::node::server
