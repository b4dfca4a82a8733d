#include "sidecar/ctl/ctl_app.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <functional>
#include <optional>

#include "raftmeta/v1/admin.grpc.pb.h"
#include "raftmeta/v1/metadata.grpc.pb.h"
#include "sidecar/ctl/endpoint_client.h"
#include "sidecar/ctl/output.h"

namespace raftmeta::ctl {
namespace {

namespace v1 = ::raftmeta::v1;

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

std::string code_name(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "CODE_" + std::to_string(static_cast<int>(code));
  }
}

std::string one_line(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

// Everything a verb needs once the flags are parsed.
struct Session {
  std::ostream& out;
  std::ostream& err;
  OutputFormat format = OutputFormat::kTable;
  std::string cluster_id;
  std::string client_id;
  std::uint64_t next_request_id = 1;
  v1::Consistency consistency = v1::CONSISTENCY_LINEARIZABLE;
  std::unique_ptr<EndpointClient> client;

  void fill(v1::RequestHeader* header) {
    header->set_cluster_id(cluster_id);
    header->set_client_id(client_id);
    // One request at a time: every earlier id was answered or given up,
    // so the cluster need not keep its outcome.
    header->set_first_unacknowledged(next_request_id);
    header->set_request_id(next_request_id++);
  }
  void fill(v1::ReadOptions* read) const {
    read->set_cluster_id(cluster_id);
    read->set_consistency(consistency);
  }

  template <typename Req, typename Resp>
  grpc::Status metadata(bool write,
                        grpc::Status (v1::Metadata::Stub::*method)(grpc::ClientContext*, const Req&,
                                                                   Resp*),
                        const Req& request, Resp* response) {
    return client->call(
        write, [&](const std::shared_ptr<grpc::Channel>& channel, grpc::ClientContext* context) {
          v1::Metadata::Stub stub(channel);
          response->Clear();
          return (stub.*method)(context, request, response);
        });
  }
  template <typename Req, typename Resp>
  grpc::Status admin(bool write,
                     grpc::Status (v1::Admin::Stub::*method)(grpc::ClientContext*, const Req&,
                                                             Resp*),
                     const Req& request, Resp* response) {
    return client->call(
        write, [&](const std::shared_ptr<grpc::Channel>& channel, grpc::ClientContext* context) {
          v1::Admin::Stub stub(channel);
          response->Clear();
          return (stub.*method)(context, request, response);
        });
  }

  // Prints JSON or calls `table`; returns the exit code for `status`.
  int finish(const grpc::Status& status, const google::protobuf::Message& response,
             const std::function<void()>& table) {
    if (!status.ok()) {
      err << "raftmetactl: " << code_name(status.error_code()) << ": "
          << one_line(status.error_message()) << "\n";
      return kExitFailed;
    }
    if (format == OutputFormat::kJson) {
      out << to_json(response) << "\n";
    } else {
      table();
    }
    return 0;
  }
};

std::string kind_name(v1::MemberKind kind) {
  return kind == v1::MEMBER_KIND_LEARNER ? "learner" : "voter";
}

std::string role_name(v1::Role role) {
  switch (role) {
    case v1::ROLE_LEADER:
      return "leader";
    case v1::ROLE_CANDIDATE:
      return "candidate";
    case v1::ROLE_PRE_CANDIDATE:
      return "pre-candidate";
    case v1::ROLE_FOLLOWER:
      return "follower";
    default:
      return "unknown";
  }
}

std::string group_state_name(v1::GroupState state) {
  std::string name = v1::GroupState_Name(state);
  const std::string prefix = "GROUP_STATE_";
  if (name.starts_with(prefix)) name = name.substr(prefix.size());
  std::transform(name.begin(), name.end(), name.begin(), [](char c) { return std::tolower(c); });
  return name;
}

void print_members(std::ostream& out, const google::protobuf::RepeatedPtrField<v1::Member>& ms) {
  Table t({"ID", "PEER_ADDRESS", "KIND", "LEADER", "MATCH", "LAST_CONTACT_MS"});
  for (const auto& m : ms) {
    t.add_row({std::to_string(m.id()), m.peer_address(), kind_name(m.kind()),
               m.is_leader() ? "*" : "", std::to_string(m.match_index()),
               m.last_contact_ms() < 0 ? "-" : std::to_string(m.last_contact_ms())});
  }
  t.print(out);
}

void print_topics(std::ostream& out, const google::protobuf::RepeatedPtrField<v1::Topic>& ts) {
  Table t({"NAME", "TOPIC_ID", "PARTITIONS", "REPLICATION", "REVISION"});
  for (const auto& topic : ts) {
    t.add_row({topic.name(), std::to_string(topic.topic_id()),
               std::to_string(topic.partitions_size()), std::to_string(topic.replication_factor()),
               std::to_string(topic.mod_revision())});
  }
  t.print(out);
}

void print_topic(std::ostream& out, const v1::Topic& topic, std::uint64_t revision) {
  out << "topic " << topic.name() << " (id " << topic.topic_id() << ", replication "
      << topic.replication_factor() << ", created at revision " << topic.create_revision()
      << ", read at revision " << revision << ")\n";
  for (const auto& [key, value] : topic.configs()) out << "  " << key << "=" << value << "\n";
  Table t({"PARTITION", "LEADER", "LEADER_EPOCH", "REPLICAS", "ISR", "HIGH_WATERMARK"});
  for (const auto& p : topic.partitions()) {
    t.add_row({std::to_string(p.partition()), std::to_string(p.leader()),
               std::to_string(p.leader_epoch()), join_ids(p.replicas()), join_ids(p.isr()),
               std::to_string(p.high_watermark())});
  }
  t.print(out);
}

bool parse_config(const std::vector<std::string>& items,
                  google::protobuf::Map<std::string, std::string>* out, std::string* error) {
  for (const auto& item : items) {
    const std::size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      *error = "--config '" + item + "' is not key=value";
      return false;
    }
    (*out)[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return true;
}

}  // namespace

int run_ctl(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  CLI::App app{"raftmetactl: the command-line client of raftmeta-node", "raftmetactl"};
  app.require_subcommand(1);
  // Global flags (-o, --endpoints, ...) are accepted after the verb too.
  app.fallthrough();
  std::string endpoints = "127.0.0.1:7401";
  std::string output = "table";
  std::string cluster_id;
  std::int64_t timeout_ms = 15000;
  app.add_option("--endpoints", endpoints, "Client endpoints, host:7401[,host:7401]")
      ->envname("RAFTMETACTL_ENDPOINTS")
      ->capture_default_str();
  app.add_option("-o,--output", output, "table|json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  app.add_option("--cluster-id", cluster_id,
                 "Cluster id to send (requests to another cluster are refused)")
      ->envname("RAFTMETACTL_CLUSTER_ID");
  app.add_option("--timeout-ms", timeout_ms, "Overall time for a command, retries included")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{3600000}))
      ->capture_default_str();

  std::string consistency = "linearizable";
  auto add_consistency = [&](CLI::App* verb) {
    verb->add_option("--consistency", consistency, "linearizable|lease|stale")
        ->check(CLI::IsMember({"linearizable", "lease", "stale"}))
        ->capture_default_str();
  };

  // The chosen verb fills this in; it runs after the flags are valid.
  std::function<int(Session&)> action;

  // ---- topic
  CLI::App* topic = app.add_subcommand("topic", "Topics")->require_subcommand(1);
  std::string topic_name;
  std::int32_t partitions = 1;
  std::int32_t replication = 1;
  std::vector<std::string> configs;
  std::string topic_prefix;
  {
    CLI::App* create = topic->add_subcommand("create", "Create a topic");
    create->add_option("name", topic_name, "Topic name")->required();
    create->add_option("--partitions", partitions, "Partition count")->capture_default_str();
    create->add_option("--replication-factor", replication, "Replicas per partition")
        ->capture_default_str();
    create->add_option("--config", configs, "key=value (repeatable)");
    create->callback([&] {
      action = [&](Session& s) {
        v1::CreateTopicRequest req;
        s.fill(req.mutable_header());
        req.set_name(topic_name);
        req.set_partitions(partitions);
        req.set_replication_factor(replication);
        std::string error;
        if (!parse_config(configs, req.mutable_configs(), &error)) {
          s.err << "raftmetactl: " << error << "\n";
          return kExitUsage;
        }
        v1::CreateTopicResponse resp;
        auto status = s.metadata(true, &v1::Metadata::Stub::CreateTopic, req, &resp);
        return s.finish(status, resp, [&] {
          s.out << "created topic " << resp.topic().name() << " (id " << resp.topic().topic_id()
                << ", " << resp.topic().partitions_size() << " partitions) at revision "
                << resp.revision() << "\n";
        });
      };
    });

    CLI::App* list = topic->add_subcommand("list", "List topics");
    list->add_option("--prefix", topic_prefix, "Only names starting with this");
    add_consistency(list);
    list->callback([&] {
      action = [&](Session& s) {
        v1::ListTopicsRequest req;
        s.fill(req.mutable_read());
        req.set_prefix(topic_prefix);
        v1::ListTopicsResponse resp;
        auto status = s.metadata(false, &v1::Metadata::Stub::ListTopics, req, &resp);
        return s.finish(status, resp, [&] {
          print_topics(s.out, resp.topics());
          s.out << resp.topics_size() << " topics at revision " << resp.revision() << "\n";
        });
      };
    });

    CLI::App* get = topic->add_subcommand("get", "Show a topic and its partitions");
    get->add_option("name", topic_name, "Topic name")->required();
    add_consistency(get);
    get->callback([&] {
      action = [&](Session& s) {
        v1::GetTopicRequest req;
        s.fill(req.mutable_read());
        req.set_name(topic_name);
        v1::GetTopicResponse resp;
        auto status = s.metadata(false, &v1::Metadata::Stub::GetTopic, req, &resp);
        return s.finish(status, resp, [&] { print_topic(s.out, resp.topic(), resp.revision()); });
      };
    });

    CLI::App* del = topic->add_subcommand("delete", "Delete a topic");
    del->add_option("name", topic_name, "Topic name")->required();
    del->callback([&] {
      action = [&](Session& s) {
        v1::DeleteTopicRequest req;
        s.fill(req.mutable_header());
        req.set_name(topic_name);
        v1::DeleteTopicResponse resp;
        auto status = s.metadata(true, &v1::Metadata::Stub::DeleteTopic, req, &resp);
        return s.finish(status, resp, [&] {
          s.out << "deleted topic " << topic_name << " (id " << resp.topic_id() << ") at revision "
                << resp.revision() << "\n";
        });
      };
    });
  }

  // ---- broker
  CLI::App* broker = app.add_subcommand("broker", "Brokers")->require_subcommand(1);
  std::int32_t broker_id = -1;
  std::string broker_host;
  std::int32_t broker_port = 9092;
  std::string broker_rack;
  std::int64_t session_timeout_ms = 0;
  std::string incarnation;
  {
    CLI::App* reg = broker->add_subcommand("register", "Register a broker");
    reg->add_option("--id", broker_id, "Broker id")->required();
    reg->add_option("--host", broker_host, "Advertised host")->required();
    reg->add_option("--port", broker_port, "Advertised port")->capture_default_str();
    reg->add_option("--rack", broker_rack, "Rack");
    reg->add_option("--session-timeout-ms", session_timeout_ms, "0 = 18000");
    reg->add_option("--incarnation-id", incarnation, "Default: generated");
    reg->callback([&] {
      action = [&](Session& s) {
        v1::RegisterBrokerRequest req;
        s.fill(req.mutable_header());
        req.set_broker_id(broker_id);
        req.set_host(broker_host);
        req.set_port(broker_port);
        req.set_rack(broker_rack);
        req.set_session_timeout_ms(session_timeout_ms);
        req.set_incarnation_id(incarnation.empty() ? s.client_id : incarnation);
        v1::RegisterBrokerResponse resp;
        auto status = s.metadata(true, &v1::Metadata::Stub::RegisterBroker, req, &resp);
        return s.finish(status, resp, [&] {
          s.out << "registered broker " << resp.broker().id() << " (epoch " << resp.broker_epoch()
                << ") at revision " << resp.revision() << "\n";
        });
      };
    });

    CLI::App* list = broker->add_subcommand("list", "List brokers");
    add_consistency(list);
    list->callback([&] {
      action = [&](Session& s) {
        v1::ListBrokersRequest req;
        s.fill(req.mutable_read());
        v1::ListBrokersResponse resp;
        auto status = s.metadata(false, &v1::Metadata::Stub::ListBrokers, req, &resp);
        return s.finish(status, resp, [&] {
          Table t({"ID", "HOST", "PORT", "RACK", "EPOCH", "FENCED"});
          for (const auto& b : resp.brokers()) {
            t.add_row({std::to_string(b.id()), b.host(), std::to_string(b.port()), b.rack(),
                       std::to_string(b.broker_epoch()), b.fenced() ? "yes" : "no"});
          }
          t.print(s.out);
          s.out << resp.brokers_size() << " brokers at revision " << resp.revision() << "\n";
        });
      };
    });

    CLI::App* unreg = broker->add_subcommand("unregister", "Unregister a broker");
    unreg->add_option("--id", broker_id, "Broker id")->required();
    unreg->callback([&] {
      action = [&](Session& s) {
        v1::UnregisterBrokerRequest req;
        s.fill(req.mutable_header());
        req.set_broker_id(broker_id);
        v1::UnregisterBrokerResponse resp;
        auto status = s.metadata(true, &v1::Metadata::Stub::UnregisterBroker, req, &resp);
        return s.finish(status, resp, [&] {
          s.out << "unregistered broker " << broker_id << " at revision " << resp.revision()
                << "\n";
        });
      };
    });
  }

  // ---- group
  CLI::App* group = app.add_subcommand("group", "Consumer groups")->require_subcommand(1);
  std::string group_prefix;
  {
    CLI::App* list = group->add_subcommand("list", "List consumer groups");
    list->add_option("--prefix", group_prefix, "Only ids starting with this");
    add_consistency(list);
    list->callback([&] {
      action = [&](Session& s) {
        v1::ListGroupsRequest req;
        s.fill(req.mutable_read());
        req.set_prefix(group_prefix);
        v1::ListGroupsResponse resp;
        auto status = s.metadata(false, &v1::Metadata::Stub::ListGroups, req, &resp);
        return s.finish(status, resp, [&] {
          Table t({"GROUP", "STATE", "GENERATION", "MEMBERS", "PROTOCOL"});
          for (const auto& g : resp.groups()) {
            t.add_row({g.group_id(), group_state_name(g.state()), std::to_string(g.generation()),
                       std::to_string(g.members_size()), g.protocol()});
          }
          t.print(s.out);
          s.out << resp.groups_size() << " groups at revision " << resp.revision() << "\n";
        });
      };
    });
  }

  // ---- offset
  CLI::App* offset = app.add_subcommand("offset", "Committed offsets")->require_subcommand(1);
  std::string group_id;
  std::string offset_topic;
  std::int32_t offset_partition = -1;
  std::int64_t offset_value = -1;
  std::string offset_metadata;
  {
    CLI::App* commit = offset->add_subcommand("commit", "Commit one offset for a group");
    commit->add_option("--group", group_id, "Group id")->required();
    commit->add_option("--topic", offset_topic, "Topic")->required();
    commit->add_option("--partition", offset_partition, "Partition")->required();
    commit->add_option("--offset", offset_value, "Offset")->required();
    commit->add_option("--metadata", offset_metadata, "Free text");
    commit->callback([&] {
      action = [&](Session& s) {
        v1::CommitOffsetsRequest req;
        s.fill(req.mutable_header());
        req.set_group_id(group_id);
        req.set_generation(-1);
        v1::OffsetCommit* c = req.add_offsets();
        c->set_topic(offset_topic);
        c->set_partition(offset_partition);
        c->set_offset(offset_value);
        c->set_leader_epoch(-1);
        c->set_metadata(offset_metadata);
        v1::CommitOffsetsResponse resp;
        auto status = s.metadata(true, &v1::Metadata::Stub::CommitOffsets, req, &resp);
        return s.finish(status, resp, [&] {
          s.out << "committed offset " << offset_value << " for " << group_id << " on "
                << offset_topic << "/" << offset_partition << " at revision " << resp.revision()
                << "\n";
        });
      };
    });

    CLI::App* fetch = offset->add_subcommand("fetch", "Fetch a group's committed offsets");
    fetch->add_option("--group", group_id, "Group id")->required();
    fetch->add_option("--topic", offset_topic, "Only this topic's partition (with --partition)");
    fetch->add_option("--partition", offset_partition, "Partition (with --topic)");
    add_consistency(fetch);
    fetch->callback([&] {
      action = [&](Session& s) {
        v1::FetchOffsetsRequest req;
        s.fill(req.mutable_read());
        req.set_group_id(group_id);
        if (!offset_topic.empty()) {
          if (offset_partition < 0) {
            s.err << "raftmetactl: --topic needs --partition\n";
            return kExitUsage;
          }
          v1::TopicPartition* tp = req.add_partitions();
          tp->set_topic(offset_topic);
          tp->set_partition(offset_partition);
        }
        v1::FetchOffsetsResponse resp;
        auto status = s.metadata(false, &v1::Metadata::Stub::FetchOffsets, req, &resp);
        return s.finish(status, resp, [&] {
          Table t({"TOPIC", "PARTITION", "OFFSET", "LEADER_EPOCH", "METADATA"});
          for (const auto& o : resp.offsets()) {
            t.add_row({o.topic(), std::to_string(o.partition()), std::to_string(o.offset()),
                       std::to_string(o.leader_epoch()), o.metadata()});
          }
          t.print(s.out);
          s.out << resp.offsets_size() << " offsets at revision " << resp.revision() << "\n";
        });
      };
    });
  }

  // ---- member
  CLI::App* member = app.add_subcommand("member", "Raft members")->require_subcommand(1);
  std::uint64_t member_id = 0;
  std::string peer_address;
  {
    CLI::App* list = member->add_subcommand("list", "List members");
    list->callback([&] {
      action = [&](Session& s) {
        v1::ListMembersRequest req;
        req.set_cluster_id(s.cluster_id);
        v1::ListMembersResponse resp;
        auto status = s.admin(false, &v1::Admin::Stub::ListMembers, req, &resp);
        return s.finish(status, resp, [&] {
          print_members(s.out, resp.members());
          s.out << "leader " << resp.leader() << ", term " << resp.term() << "\n";
        });
      };
    });

    CLI::App* add = member->add_subcommand("add", "Add a learner (start it with --join)");
    add->add_option("--id", member_id, "New member id (never used before)")->required();
    add->add_option("--peer-address", peer_address, "Its peer address, host:7400")->required();
    add->callback([&] {
      action = [&](Session& s) {
        v1::AddLearnerRequest req;
        s.fill(req.mutable_header());
        req.set_id(member_id);
        req.set_peer_address(peer_address);
        v1::AddLearnerResponse resp;
        auto status = s.admin(true, &v1::Admin::Stub::AddLearner, req, &resp);
        return s.finish(status, resp, [&] {
          s.out << "added member " << member_id << " as a learner at index " << resp.index()
                << "\n";
          print_members(s.out, resp.members());
        });
      };
    });

    CLI::App* promote = member->add_subcommand("promote", "Make a caught-up learner a voter");
    promote->add_option("--id", member_id, "Member id")->required();
    promote->callback([&] {
      action = [&](Session& s) {
        v1::PromoteMemberRequest req;
        s.fill(req.mutable_header());
        req.set_id(member_id);
        v1::PromoteMemberResponse resp;
        auto status = s.admin(true, &v1::Admin::Stub::PromoteMember, req, &resp);
        return s.finish(status, resp, [&] {
          s.out << "promoted member " << member_id << " at index " << resp.index() << "\n";
          print_members(s.out, resp.members());
        });
      };
    });

    CLI::App* remove = member->add_subcommand("remove", "Remove a member (its id is retired)");
    remove->add_option("--id", member_id, "Member id")->required();
    remove->callback([&] {
      action = [&](Session& s) {
        v1::RemoveMemberRequest req;
        s.fill(req.mutable_header());
        req.set_id(member_id);
        v1::RemoveMemberResponse resp;
        auto status = s.admin(true, &v1::Admin::Stub::RemoveMember, req, &resp);
        return s.finish(status, resp, [&] {
          s.out << "removed member " << member_id << " at index " << resp.index() << "\n";
          print_members(s.out, resp.members());
        });
      };
    });
  }

  // ---- leader
  CLI::App* leader = app.add_subcommand("leader", "Raft leadership")->require_subcommand(1);
  std::uint64_t transfer_to = 0;
  {
    CLI::App* transfer = leader->add_subcommand("transfer", "Transfer leadership");
    transfer->add_option("--to", transfer_to, "Target member (default: most caught-up voter)");
    transfer->callback([&] {
      action = [&](Session& s) {
        v1::TransferLeaderRequest req;
        s.fill(req.mutable_header());
        req.set_to(transfer_to);
        v1::TransferLeaderResponse resp;
        auto status = s.admin(true, &v1::Admin::Stub::TransferLeader, req, &resp);
        return s.finish(status, resp, [&] {
          s.out << "leader is member " << resp.leader() << " at term " << resp.term() << "\n";
        });
      };
    });
  }

  // ---- status
  CLI::App* status_cmd = app.add_subcommand("status", "Status of the member asked");
  status_cmd->callback([&] {
    action = [&](Session& s) {
      v1::GetStatusRequest req;
      req.set_cluster_id(s.cluster_id);
      v1::GetStatusResponse resp;
      auto status = s.admin(false, &v1::Admin::Stub::GetStatus, req, &resp);
      return s.finish(status, resp, [&] {
        Table t({"ID", "CLUSTER", "ROLE", "KIND", "TERM", "LEADER", "COMMIT", "APPLIED", "LAST",
                 "SNAPSHOT"});
        t.add_row({std::to_string(resp.id()), resp.cluster_id(), role_name(resp.role()),
                   kind_name(resp.kind()), std::to_string(resp.term()),
                   std::to_string(resp.leader()), std::to_string(resp.commit_index()),
                   std::to_string(resp.applied_index()), std::to_string(resp.last_index()),
                   std::to_string(resp.snapshot_index())});
        t.print(s.out);
        if (resp.peers_size() > 0) {
          s.out << "\n";
          Table p({"PEER", "KIND", "MATCH", "NEXT", "STATE", "ACTIVE", "LAST_CONTACT_MS"});
          for (const auto& peer : resp.peers()) {
            p.add_row({std::to_string(peer.id()), kind_name(peer.kind()),
                       std::to_string(peer.match_index()), std::to_string(peer.next_index()),
                       peer.state(), peer.recent_active() ? "yes" : "no",
                       peer.last_contact_ms() < 0 ? "-" : std::to_string(peer.last_contact_ms())});
          }
          p.print(s.out);
        }
        if (resp.snapshot_transfers_size() > 0) {
          s.out << "\n";
          Table x(
              {"SNAPSHOT_PEER", "DIRECTION", "INDEX", "BYTES", "TOTAL", "DONE", "LAST_CHUNK_MS"});
          for (const auto& t : resp.snapshot_transfers()) {
            x.add_row({std::to_string(t.peer()), t.outgoing() ? "sending" : "receiving",
                       std::to_string(t.snapshot_index()), std::to_string(t.bytes_done()),
                       std::to_string(t.bytes_total()), t.finished() ? "yes" : "no",
                       t.last_chunk_ms() < 0 ? "-" : std::to_string(t.last_chunk_ms())});
          }
          x.print(s.out);
        }
      });
    };
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    out << app.help();
    return 0;
  } catch (const CLI::ParseError& e) {
    // A help request on a subcommand is a CallForHelp too; everything else
    // is a usage error.
    if (e.get_exit_code() == 0) {
      out << app.help();
      return 0;
    }
    err << "raftmetactl: " << one_line(e.what()) << "\n";
    return kExitUsage;
  }
  if (!action) {
    err << "raftmetactl: no command given (try --help)\n";
    return kExitUsage;
  }
  const std::vector<std::string> addresses = split_endpoints(endpoints);
  if (addresses.empty()) {
    err << "raftmetactl: --endpoints is empty\n";
    return kExitUsage;
  }
  Session session{out, err};
  session.format = output == "json" ? OutputFormat::kJson : OutputFormat::kTable;
  session.cluster_id = cluster_id;
  session.client_id = generate_client_id();
  session.consistency = consistency == "lease"   ? v1::CONSISTENCY_LEASE
                        : consistency == "stale" ? v1::CONSISTENCY_STALE
                                                 : v1::CONSISTENCY_LINEARIZABLE;
  EndpointClientOptions options;
  options.total_timeout = std::chrono::milliseconds(timeout_ms);
  options.attempt_timeout = std::min(options.attempt_timeout, options.total_timeout);
  session.client = std::make_unique<EndpointClient>(addresses, options);
  return action(session);
}

}  // namespace raftmeta::ctl
