// A small in-test network of Raft cores for scenario tests that read like a
// transcript:
//
//   Net net(3);
//   net.campaign(1);
//   net.deliver_all();
//   EXPECT_EQ(net.leader(), 1u);
//   net.isolate(1);
//   ...
//
// Every node has a MemoryStorage (its "disk") and an application that records
// the entries it applied. Readies are processed synchronously (persist, send,
// apply, advance) unless a node is switched to manual mode, in which case the
// test drives accept/on_persisted/on_applied itself. Messages are queued in
// FIFO order and delivered by deliver_all()/deliver_one(); links can be cut
// both ways or one way, and message types can be dropped.
//
// Single-threaded, deterministic; test-only.
#pragma once

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "sidecar/raft/log_storage.h"
#include "sidecar/raft/message.h"
#include "sidecar/raft/raw_node.h"
#include "sidecar/raft/types.h"

namespace raftmeta::raft::test {

// The application on one node: the entries it applied, in order.
struct App {
  std::vector<Entry> applied;  // everything applied, snapshots expanded
  std::vector<ReadState> read_states;
  std::vector<ReadFailure> read_failures;

  // Data of the normal, non-empty entries (what a test usually compares).
  std::vector<std::string> data() const {
    std::vector<std::string> out;
    for (const Entry& e : applied) {
      if (e.type == EntryType::kNormal && !e.data.empty()) out.push_back(e.data);
    }
    return out;
  }
  Index applied_index() const { return applied.empty() ? 0 : applied.back().index; }
};

// Snapshot data of the test application: its applied entries' data, one
// record per entry ("<index>:<type>:<len>:<data>").
inline std::string encode_app(const std::vector<Entry>& applied) {
  std::string out;
  for (const Entry& e : applied) {
    out += std::to_string(e.index) + ":" + std::to_string(static_cast<int>(e.type)) + ":" +
           std::to_string(e.data.size()) + ":" + e.data;
  }
  return out;
}

inline std::vector<Entry> decode_app(const std::string& s) {
  std::vector<Entry> out;
  std::size_t pos = 0;
  while (pos < s.size()) {
    const std::size_t a = s.find(':', pos);
    const std::size_t b = s.find(':', a + 1);
    const std::size_t c = s.find(':', b + 1);
    Entry e;
    e.index = std::stoull(s.substr(pos, a - pos));
    e.type = static_cast<EntryType>(std::stoi(s.substr(a + 1, b - a - 1)));
    const std::size_t len = std::stoull(s.substr(b + 1, c - b - 1));
    e.data = s.substr(c + 1, len);
    out.push_back(std::move(e));
    pos = c + 1 + len;
  }
  return out;
}

inline Message msg(MessageType type, NodeId from, NodeId to, Term term) {
  Message m;
  m.type = type;
  m.from = from;
  m.to = to;
  m.term = term;
  return m;
}

inline Config default_config(NodeId id) {
  Config c;
  c.id = id;
  c.election_tick = 10;
  c.heartbeat_tick = 1;
  c.seed = 42 + id;
  return c;
}

class Net {
 public:
  // Nodes 1..n, all voters.
  explicit Net(std::size_t n, std::function<void(Config&)> tweak = {}) : tweak_(std::move(tweak)) {
    ConfState conf;
    for (NodeId id = 1; id <= n; ++id) conf.voters.push_back(id);
    for (NodeId id = 1; id <= n; ++id) add(id, conf);
  }
  // Explicit voters and learners.
  Net(std::vector<NodeId> voters, std::vector<NodeId> learners,
      std::function<void(Config&)> tweak = {})
      : tweak_(std::move(tweak)) {
    ConfState conf;
    conf.voters = voters;
    conf.learners = learners;
    std::sort(conf.voters.begin(), conf.voters.end());
    std::sort(conf.learners.begin(), conf.learners.end());
    for (NodeId id : conf.voters) add(id, conf);
    for (NodeId id : conf.learners) add(id, conf);
  }

  // A node that starts empty (no configuration) and waits to be added.
  void add_empty(NodeId id) { add(id, std::nullopt); }

  RawNode& node(NodeId id) { return *nodes_.at(id).raw; }
  MemoryStorage& storage(NodeId id) { return nodes_.at(id).disk; }
  App& app(NodeId id) { return nodes_.at(id).app; }
  Status status(NodeId id) { return nodes_.at(id).raw->status(); }
  std::vector<NodeId> ids() const {
    std::vector<NodeId> out;
    for (const auto& [id, n] : nodes_) out.push_back(id);
    return out;
  }

  // ---- driving ----
  void campaign(NodeId id) {
    node(id).campaign();
    process(id);
  }
  void tick(NodeId id, int n = 1) {
    for (int i = 0; i < n; ++i) {
      node(id).tick();
      process(id);
    }
  }
  // Every node ticks n times, delivering all messages after each tick.
  void tick_all(int n = 1) {
    for (int i = 0; i < n; ++i) {
      for (NodeId id : ids()) {
        if (!nodes_.at(id).down) node(id).tick();
      }
      deliver_all();
    }
  }
  ProposeResult propose(NodeId id, std::string data) {
    ProposeResult r = node(id).propose(std::move(data));
    process(id);
    return r;
  }
  ProposeResult propose_conf(NodeId id, ConfChangeType type, NodeId target) {
    ProposeResult r = node(id).propose_conf_change(ConfChange{type, target, "addr"});
    process(id);
    return r;
  }
  void read_index(NodeId id, std::string ctx) {
    node(id).read_index(std::move(ctx));
    process(id);
  }
  bool transfer(NodeId from, NodeId to, std::string* reason = nullptr) {
    std::string why;
    const bool ok = node(from).transfer_leader(to, reason ? reason : &why);
    process(from);
    return ok;
  }

  // Takes and handles every Ready of a node (manual nodes are skipped).
  void process(NodeId id) {
    Peer& p = nodes_.at(id);
    if (p.manual || p.down) return;
    for (int guard = 0; guard < 1000 && p.raw->has_ready(); ++guard) handle_ready(id, p);
  }
  void process_all() {
    for (NodeId id : ids()) process(id);
  }

  // Delivers queued messages (and everything they cause) until the network
  // is quiet. Returns the number of messages delivered.
  int deliver_all(int max_messages = 100000) {
    int delivered = 0;
    process_all();
    while (!queue_.empty() && delivered < max_messages) {
      delivered += deliver_one() ? 1 : 0;
      process_all();
    }
    return delivered;
  }
  // Delivers the oldest queued message; false if it was dropped.
  bool deliver_one() {
    if (queue_.empty()) return false;
    Message m = std::move(queue_.front());
    queue_.pop_front();
    if (!passes(m)) return false;
    Peer& p = nodes_.at(m.to);
    stepped_.push_back(m);
    p.raw->step(m);
    process(m.to);
    return true;
  }
  std::deque<Message>& queue() { return queue_; }
  // Every message delivered so far (for assertions on traffic).
  std::vector<Message>& delivered() { return stepped_; }
  void clear_queue() { queue_.clear(); }

  // ---- faults ----
  void isolate(NodeId id) {
    for (NodeId other : ids()) {
      if (other != id) cut(id, other);
    }
  }
  void cut(NodeId a, NodeId b) {
    cut_one_way(a, b);
    cut_one_way(b, a);
  }
  void cut_one_way(NodeId from, NodeId to) { cuts_.insert({from, to}); }
  void heal() {
    cuts_.clear();
    dropped_types_.clear();
  }
  void drop(MessageType type) { dropped_types_.insert(type); }
  void allow(MessageType type) { dropped_types_.erase(type); }
  // Crash: everything not in the node's storage is lost.
  void crash(NodeId id) {
    nodes_.at(id).down = true;
    std::erase_if(queue_, [&](const Message& m) { return m.to == id || m.from == id; });
  }
  // Restart from storage, with the application's applied index.
  void restart(NodeId id) {
    Peer& p = nodes_.at(id);
    p.down = false;
    Config c = config_for(id);
    c.applied = p.app.applied_index();
    std::string error;
    p.raw = RawNode::create(c, &p.disk, &error);
    if (!p.raw) throw std::runtime_error("restart failed: " + error);
  }
  // Manual nodes: the test takes Readies itself.
  void set_manual(NodeId id, bool manual) { nodes_.at(id).manual = manual; }
  // Queues messages as the runtime would send them.
  void send(const std::vector<Message>& msgs) {
    for (const Message& m : msgs) queue_.push_back(m);
  }

  // Compacts a node's storage: a snapshot of its application at `index`
  // (<= applied) with the configuration it has applied, then drops the log.
  void compact(NodeId id, Index index) {
    Peer& p = nodes_.at(id);
    std::vector<Entry> upto;
    for (const Entry& e : p.app.applied) {
      if (e.index <= index) upto.push_back(e);
    }
    if (!p.disk.create_snapshot(index, p.raw->status().conf, encode_app(upto))) {
      throw std::runtime_error("create_snapshot refused");
    }
    p.disk.compact(index);
  }

  // ---- observation ----
  // The leader with the highest term among live nodes (kNoNode if none).
  NodeId leader() {
    NodeId best = kNoNode;
    Term best_term = 0;
    for (NodeId id : ids()) {
      if (nodes_.at(id).down) continue;
      const Status s = status(id);
      if (s.role == Role::kLeader && s.term >= best_term) {
        best = id;
        best_term = s.term;
      }
    }
    return best;
  }
  std::size_t leaders_in_term(Term term) {
    std::size_t n = 0;
    for (NodeId id : ids()) {
      const Status s = status(id);
      n += (s.role == Role::kLeader && s.term == term) ? 1 : 0;
    }
    return n;
  }
  // The (index, term) of each entry in a node's storage after its snapshot.
  std::vector<std::pair<Index, Term>> stored_log(NodeId id) {
    MemoryStorage& d = storage(id);
    std::vector<std::pair<Index, Term>> out;
    for (Index i = d.first_index(); i <= d.last_index(); ++i) {
      Term t = 0;
      d.term(i, &t);
      out.emplace_back(i, t);
    }
    return out;
  }
  int readies_handled() const { return readies_; }

 private:
  struct Peer {
    std::unique_ptr<RawNode> raw;
    MemoryStorage disk;
    App app;
    bool manual = false;
    bool down = false;
  };

  Config config_for(NodeId id) const {
    Config c = default_config(id);
    if (tweak_) tweak_(c);
    c.id = id;
    return c;
  }

  void add(NodeId id, std::optional<ConfState> conf) {
    Peer& p = nodes_[id];
    if (conf) {
      Snapshot boot;
      boot.meta.conf = *conf;
      p.disk.apply_snapshot(boot);
    }
    std::string error;
    p.raw = RawNode::create(config_for(id), &p.disk, &error);
    if (!p.raw) throw std::runtime_error("create failed: " + error);
  }

  bool passes(const Message& m) const {
    if (!nodes_.count(m.to) || nodes_.at(m.to).down) return false;
    if (cuts_.count({m.from, m.to})) return false;
    if (dropped_types_.count(m.type)) return false;
    return true;
  }

  void handle_ready(NodeId id, Peer& p) {
    ++readies_;
    Ready rd = p.raw->ready();
    for (const Message& m : rd.messages) queue_.push_back(m);  // may go before persisting
    if (rd.snapshot) {
      p.disk.apply_snapshot(*rd.snapshot);
      if (rd.snapshot->meta.index > p.app.applied_index()) {
        p.app.applied = decode_app(rd.snapshot->data);
      }
    }
    p.disk.append(rd.entries);
    if (rd.hard_state) p.disk.set_hard_state(*rd.hard_state);
    for (const Message& m : rd.persisted_messages) queue_.push_back(m);
    for (const Entry& e : rd.committed_entries) {
      if (e.index != p.app.applied_index() + 1) {
        throw std::runtime_error("node " + std::to_string(id) + " applied out of order at " +
                                 std::to_string(e.index));
      }
      p.app.applied.push_back(e);
    }
    for (const ReadState& rs : rd.read_states) p.app.read_states.push_back(rs);
    for (const ReadFailure& f : rd.read_failures) p.app.read_failures.push_back(f);
    p.raw->advance(rd);
  }

  std::function<void(Config&)> tweak_;
  std::map<NodeId, Peer> nodes_;
  std::deque<Message> queue_;
  std::vector<Message> stepped_;
  std::set<std::pair<NodeId, NodeId>> cuts_;
  std::set<MessageType> dropped_types_;
  int readies_ = 0;
};

}  // namespace raftmeta::raft::test
