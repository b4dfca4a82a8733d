// NetnsNetwork: real network partitions for chaos runs. Each cluster member
// gets its own network namespace, joined by a veth pair to one bridge in the
// root namespace:
//
//   root namespace (the test: clients, HTTP probes)   10.213.S.254/24 on the bridge
//     bridge rmc<pid>br ── veth rmc<pid>v<id> ══ rmc<pid>p<id> (in namespace rmc<pid>m<id>)
//                                                  10.213.S.<id>/24, the member's only address
//
// Members are started under `ip netns exec <namespace>` (command_prefix(),
// which execs the node in place, so signals still reach the node's pid) and
// listen on host(). A partition is a set of blocked directions (from, to):
// a `blackhole` route for `to`'s address inside `from`'s namespace, so `from`
// can send nothing to `to` (with TCP that also stops `to`'s connections to
// `from` from carrying data: `from` cannot acknowledge them). The bridge
// address is never blocked unless a partition of the client path asks for it
// (cut_clients), so the test keeps reaching every member's client and HTTP
// ports.
//
// Names carry the test process's pid, and the subnet S is one no interface
// of this machine uses yet, so parallel runs never clash. Everything is
// removed by the destructor; leftovers of a run that crashed (their pid no
// longer exists) are removed by create().
//
// Needs root or CAP_NET_ADMIN and the `ip` tool: create() fails with the
// reason otherwise (tests skip on it).
//
// Thread use: not synchronized; one thread at a time (the chaos nemesis
// thread while a run is faulting, the owner before and after).
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace raftmeta::chaos {

class NetnsNetwork {
 public:
  // Creates the bridge and one namespace for each member id in 1..members.
  // nullptr with *error (the command that failed and its output) when this
  // process may not create namespaces or the `ip` tool is missing.
  static std::unique_ptr<NetnsNetwork> create(int members, std::string* error);
  ~NetnsNetwork();  // heals, deletes the namespaces, veths and the bridge
  NetnsNetwork(const NetnsNetwork&) = delete;
  NetnsNetwork& operator=(const NetnsNetwork&) = delete;

  int members() const { return members_; }
  // The member's address ("10.213.S.<id>").
  std::string host(std::uint64_t id) const;
  // {"<ip>", "netns", "exec", "<namespace of id>"}.
  std::vector<std::string> command_prefix(std::uint64_t id) const;
  std::string namespace_name(std::uint64_t id) const;

  // Blocks one direction: `from` can no longer send to `to`. Idempotent.
  bool block(std::uint64_t from, std::uint64_t to, std::string* error);
  // Symmetric partition into groups: every direction between two different
  // groups is blocked. Members in no group are left alone.
  bool split(const std::vector<std::vector<std::uint64_t>>& groups, std::string* error);
  // `id` alone against every other member (both directions).
  bool isolate(std::uint64_t id, std::string* error);
  // `from` can send to no other member; it still receives from them.
  bool one_way_out(std::uint64_t from, std::string* error);
  // The member cannot answer the clients in the root namespace (its route to
  // the bridge address is blocked); peers are unaffected.
  bool cut_clients(std::uint64_t id, std::string* error);
  // Removes every blocked direction. True when all routes are gone.
  bool heal(std::string* error);
  // "1->2 1->3 ..." (empty when healed).
  std::string describe() const;

  // Checks that the route table of each namespace holds exactly the blocked
  // directions (for tests of this class).
  bool routes_match(std::string* error) const;

 private:
  NetnsNetwork(std::string prefix, int subnet, int members);
  bool build(std::string* error);
  std::string bridge_name() const;
  std::string root_veth(std::uint64_t id) const;
  std::string member_veth(std::uint64_t id) const;
  std::string address_of(std::uint64_t to) const;  // 0: the bridge (clients)

  const std::string prefix_;  // "rmc<pid>"
  const int subnet_;          // S in 10.213.S.0/24
  const int members_;
  std::set<std::pair<std::uint64_t, std::uint64_t>> blocked_;  // (from, to); to 0 = clients
};

}  // namespace raftmeta::chaos
