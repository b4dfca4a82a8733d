// The chaos workload: N client threads over gRPC against a raftmeta cluster,
// each with its own client id, recording every operation with real-time
// invoke and complete stamps (see history.h).
//
// Operations: topic create/delete/get on a few topic keys, offset commit and
// fetch on a few consumer groups (one partition of a topic created at set-up
// and never deleted), and producer-id block allocation by a broker each client
// registers at set-up, and broker registrations, heartbeats, gets and lists
// on a few broker keys shared by every client (about 10% of operations): each
// registration uses a new incarnation id, so it gets a new broker epoch; a
// heartbeat carries the epoch the client last saw for that broker (from its
// own registration or a read), which another client may have replaced since
// (a stale epoch: FAILED_PRECONDITION). Sessions are an hour long so the
// leader never fences these brokers during a run (fencing depends on the
// leader's wall clock and is not modelled). Reads are issued at linearizable,
// lease and stale level. Writes go through ctl::EndpointClient, which retries them with the
// SAME request header (leader hints, next endpoint) within a budget, so most
// outcomes become definite; a write still unanswered when its budget runs out
// is recorded as unknown. Stale reads go to one fixed member per client with
// one attempt, and record that member and its process generation.
//
// Thread use: the owner calls setup(), start(), stop(), then history() /
// final_reads() / totals() from one thread; the client threads are private.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "e2e/cluster/chaos/history.h"

namespace raftmeta::chaos {

// Process generation of each member (bumped by the nemesis on every kill).
// Written by the nemesis thread, read by client threads.
class MemberGenerations {
 public:
  static constexpr int kMaxMembers = 16;
  int get(int member) const { return generations_[member % kMaxMembers].load(); }
  void bump(int member) { generations_[member % kMaxMembers].fetch_add(1); }

 private:
  std::atomic<int> generations_[kMaxMembers] = {};
};

struct WorkloadOptions {
  std::string cluster_id;
  // Member id -> client endpoint ("127.0.0.1:port").
  std::map<int, std::string> endpoints;
  int clients = 4;
  int topic_keys = 4;
  int group_keys = 4;
  int broker_keys = 2;
  std::chrono::milliseconds write_budget{10000};
  std::chrono::milliseconds read_budget{4000};
  std::chrono::milliseconds attempt_timeout{1500};
  std::uint64_t seed = 1;
  std::string run_name = "chaos";  // prefixes client ids
};

struct WorkloadTotals {
  std::map<std::string, std::uint64_t> by_kind_and_outcome;  // "topic-create ok" -> n
  std::uint64_t operations = 0;
  std::uint64_t definite = 0;  // ok + rejected
  std::uint64_t unknown = 0;
  std::uint64_t failed_reads = 0;  // reads without an answer (not recorded)
  std::uint64_t stale_reads = 0;
  std::string to_string() const;
};

class Workload {
 public:
  Workload(WorkloadOptions options, std::chrono::steady_clock::time_point origin,
           const MemberGenerations* generations);
  ~Workload();  // stops the threads
  Workload(const Workload&) = delete;
  Workload& operator=(const Workload&) = delete;

  // Creates the offsets topic and registers one broker per client; retried
  // within `budget`. False with *error if it could not.
  bool setup(std::chrono::milliseconds budget, std::string* error);
  void start();
  void stop();  // asks the clients to finish their current operation and joins them

  // After stop(): reads every key from `member` at stale level (the cluster
  // has converged: every member applied the same, final, index) and appends
  // them to the history as definite reads after everything else. False with
  // *error when a member does not answer within `budget`.
  // `address`: the member's client endpoint (members added by a membership
  // change are not in WorkloadOptions::endpoints).
  bool final_reads(int member, const std::string& address, std::chrono::milliseconds budget,
                   std::string* error);

  // After stop(): every recorded operation, ids assigned.
  std::vector<Operation> history() const;
  WorkloadTotals totals() const;

  static std::string topic_name(int key);
  static std::string group_name(int key);
  static std::string broker_name(int key);
  static std::int32_t broker_id_of(int key);
  static constexpr const char* kOffsetsTopic = "chaos-offsets";
  static constexpr const char* kProducerKey = "producer-ids";

 private:
  struct ClientState;
  void run_client(ClientState* client);
  std::int64_t now_ns() const;

  const WorkloadOptions options_;
  const std::chrono::steady_clock::time_point origin_;
  const MemberGenerations* const generations_;
  std::vector<std::unique_ptr<ClientState>> clients_;
  std::vector<Operation> final_ops_;
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> threads_;
};

}  // namespace raftmeta::chaos
