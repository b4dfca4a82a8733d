#include "sidecar/node/grpc_transport.h"

#include <grpcpp/grpcpp.h>
#include <pthread.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <optional>
#include <thread>

#include "raftmeta/v1/raft.grpc.pb.h"
#include "sidecar/health/progress.h"
#include "sidecar/node/completion.h"
#include "sidecar/node/member_incarnation.h"
#include "sidecar/node/peer_incarnation_book.h"
#include "sidecar/node/wire_codec.h"

namespace raftmeta::node {
namespace {

constexpr int kInitialBackoffMs = 100;
// How often an idle peer stream checks that its connection is still there.
constexpr std::chrono::milliseconds kIdleStreamCheck{200};
// How long stop() lets gRPC finish in-flight calls before cancelling them.
constexpr auto kServerShutdownGrace = std::chrono::milliseconds(1000);
// Forward handlers look at cancellation this often while they wait.
constexpr auto kForwardPollInterval = std::chrono::milliseconds(50);
// A refused peer stream (another incarnation, cluster or member) is logged at
// most this often per link on the sender and per service on the receiver:
// the link keeps retrying (the operator may fix the cause) and must not flood
// the log.
constexpr std::int64_t kRefusalLogIntervalNs = 10'000'000'000;

// True when a refusal should be logged now; updates `last_ns`.
bool refusal_log_due(std::atomic<std::int64_t>& last_ns) {
  const std::int64_t now = health::monotonic_ns();
  std::int64_t last = last_ns.load(std::memory_order_relaxed);
  return (last == 0 || now - last >= kRefusalLogIntervalNs) &&
         last_ns.compare_exchange_strong(last, now, std::memory_order_relaxed);
}

std::shared_ptr<grpc::Channel> make_channel(const std::string& address,
                                            const GrpcTransportOptions& o) {
  grpc::ChannelArguments args;
  // Re-resolve DNS names at most this often (gRPC's default is 30 s) and back
  // off reconnects at most this long (default 120 s): pod IPs change.
  args.SetInt(GRPC_ARG_DNS_MIN_TIME_BETWEEN_RESOLUTIONS_MS, 1000);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, kInitialBackoffMs);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, kInitialBackoffMs);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, o.max_backoff_ms);
  // One connection per peer link (not gRPC's global subchannel pool).
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetMaxReceiveMessageSize(static_cast<int>(o.max_message_bytes));
  args.SetMaxSendMessageSize(static_cast<int>(o.max_message_bytes));
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

ForwardResponse unavailable_response(std::string message) {
  ForwardResponse r;
  r.code = 14;
  r.message = std::move(message);
  return r;
}

}  // namespace

// ---------------------------------------------------------------- inbound --

class GrpcTransport::Service final : public v1::Raft::Service {
 public:
  void attach(raft::NodeId self, std::string cluster_id, TransportHandler* handler) {
    std::unique_lock<std::shared_mutex> lock(mu_);
    self_ = self;
    cluster_id_ = std::move(cluster_id);
    handler_ = handler;
  }
  void detach() {
    std::unique_lock<std::shared_mutex> lock(mu_);
    handler_ = nullptr;
  }
  void set_book(std::shared_ptr<PeerIncarnationBook> book) {
    std::unique_lock<std::shared_mutex> lock(mu_);
    book_ = std::move(book);
  }

  std::vector<SnapshotTransfer> incoming_transfers() const {
    std::lock_guard<std::mutex> lock(progress_mu_);
    std::vector<SnapshotTransfer> out;
    for (const auto& [id, t] : incoming_) out.push_back(t);
    return out;
  }

  grpc::Status Stream(grpc::ServerContext*, grpc::ServerReader<v1::RaftBatch>* reader,
                      v1::StreamSummary* summary) override {
    v1::RaftBatch pb;
    raft::Message snapshot_message;
    std::string snapshot_data;
    std::uint64_t snapshot_index = 0;
    bool assembling = false;
    std::uint64_t batches = 0;
    // The (sender, incarnation) last admitted on this stream: the book is
    // asked again only when it changes.
    raft::NodeId admitted_from = raft::kNoNode;
    std::uint64_t admitted_incarnation = 0;
    while (reader->Read(&pb)) {
      ++batches;
      if (grpc::Status refused = check(pb.cluster_id(), pb.to()); !refused.ok()) return refused;
      if (pb.from() != admitted_from || pb.from_incarnation() != admitted_incarnation) {
        if (grpc::Status refused = admit(pb.from(), pb.from_incarnation()); !refused.ok()) {
          return refused;
        }
        admitted_from = pb.from();
        admitted_incarnation = pb.from_incarnation();
      }
      if (pb.known_incarnations_size() > 0) learn(pb);
      MessageBatch batch;
      batch.cluster_id = pb.cluster_id();
      batch.from = pb.from();
      batch.to = pb.to();
      batch.from_client_address = pb.from_client_address();
      batch.from_peer_address = pb.from_peer_address();
      for (const auto& m : pb.messages()) {
        raft::Message message;
        if (!from_proto(m, &message)) {
          return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "unknown Raft message type");
        }
        batch.messages.push_back(std::move(message));
      }
      if (pb.has_snapshot_chunk()) {
        const v1::SnapshotChunk& chunk = pb.snapshot_chunk();
        if (chunk.offset() == 0) {
          assembling = from_proto(chunk.message(), &snapshot_message) &&
                       snapshot_message.snapshot.has_value();
          snapshot_index = chunk.snapshot_index();
          snapshot_data.clear();
        }
        if (assembling && chunk.snapshot_index() == snapshot_index &&
            chunk.offset() == snapshot_data.size()) {
          snapshot_data.append(chunk.data());
          record_incoming(pb.from(), snapshot_index, snapshot_data.size(), chunk.total_size(),
                          chunk.last());
          if (chunk.last()) {
            snapshot_message.snapshot->data = std::move(snapshot_data);
            snapshot_data = {};
            batch.messages.push_back(std::move(snapshot_message));
            assembling = false;
          }
        } else {
          assembling = false;  // out of order: dropped; the leader sends it again
        }
      }
      if (!batch.messages.empty()) deliver(std::move(batch));
    }
    summary->set_batches(batches);
    return grpc::Status::OK;
  }

  grpc::Status Forward(grpc::ServerContext* context, const v1::ForwardRequest* request,
                       v1::ForwardResponse* response) override {
    if (grpc::Status refused = check(request->cluster_id(), request->to()); !refused.ok()) {
      return refused;
    }
    auto completion = std::make_shared<Completion<ForwardResponse>>();
    {
      std::shared_lock<std::shared_mutex> lock(mu_);
      if (handler_ == nullptr) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "stopping");
      handler_->on_forward(from_proto(*request), completer(completion));
    }
    const auto deadline =
        std::chrono::system_clock::now() +
        std::chrono::milliseconds(std::max<std::int64_t>(1, request->timeout_ms()));
    while (!context->IsCancelled() && std::chrono::system_clock::now() < deadline) {
      if (auto answer =
              completion->wait_until(std::chrono::steady_clock::now() + kForwardPollInterval)) {
        to_proto(*answer, response);
        return grpc::Status::OK;
      }
    }
    return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                        "the leader did not answer the forwarded request in time");
  }

  grpc::Status Hello(grpc::ServerContext*, const v1::HelloRequest* request,
                     v1::HelloResponse* response) override {
    if (grpc::Status refused = check(request->cluster_id(), request->to()); !refused.ok()) {
      return refused;
    }
    std::shared_ptr<PeerIncarnationBook> book;
    {
      std::shared_lock<std::shared_mutex> lock(mu_);
      book = book_;
      response->set_member(self_);
    }
    if (book) response->set_known_incarnation(book->known(request->from()).value_or(0));
    return grpc::Status::OK;
  }

 private:
  // Admits a batch from `from` with `incarnation` against the book (the
  // book's lock only; never the service's).
  grpc::Status admit(raft::NodeId from, std::uint64_t incarnation) {
    std::shared_ptr<PeerIncarnationBook> book;
    raft::NodeId self = raft::kNoNode;
    {
      std::shared_lock<std::shared_mutex> lock(mu_);
      book = book_;
      self = self_;
    }
    if (!book) return grpc::Status::OK;
    const PeerIncarnationBook::Admission a = book->admit(from, incarnation);
    switch (a.verdict) {
      case PeerIncarnationBook::Verdict::kKnown:
        return grpc::Status::OK;
      case PeerIncarnationBook::Verdict::kRecorded:
        spdlog::info("member {} first heard from member {} (incarnation {})", self, from,
                     incarnation_text(incarnation));
        return grpc::Status::OK;
      case PeerIncarnationBook::Verdict::kFailed:
        spdlog::error("member {} cannot record member {}'s incarnation: {}", self, from, a.error);
        return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                            "member " + std::to_string(self) +
                                " cannot record this member's incarnation: " + a.error);
      case PeerIncarnationBook::Verdict::kReplaced:
        break;
    }
    const std::string message =
        "member " + std::to_string(from) + "'s data directory was replaced (incarnation " +
        incarnation_text(incarnation) + ", member " + std::to_string(self) + " knows it as " +
        incarnation_text(a.recorded) + "): its vote and log are gone, so member " +
        std::to_string(self) + " refuses it; remove member " + std::to_string(from) +
        " and add it back as a new member with a new id and --join";
    if (refusal_log_due(last_refusal_log_ns_)) spdlog::error("{}", message);
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, message);
  }

  // Records what an admitted sender has on record about other members: ids
  // this member did not know yet. A conflict is reported, never adopted.
  void learn(const v1::RaftBatch& pb) {
    std::shared_ptr<PeerIncarnationBook> book;
    raft::NodeId self = raft::kNoNode;
    {
      std::shared_lock<std::shared_mutex> lock(mu_);
      book = book_;
      self = self_;
    }
    if (!book) return;
    for (const v1::KnownIncarnation& k : pb.known_incarnations()) {
      if (k.member() == raft::kNoNode || k.member() == self || k.member() == pb.from()) continue;
      const PeerIncarnationBook::Admission a = book->admit(k.member(), k.incarnation());
      if (a.verdict == PeerIncarnationBook::Verdict::kRecorded) {
        spdlog::info("member {} learned member {}'s incarnation {} from member {}", self,
                     k.member(), incarnation_text(k.incarnation()), pb.from());
      } else if (a.verdict == PeerIncarnationBook::Verdict::kReplaced &&
                 refusal_log_due(last_conflict_log_ns_)) {
        spdlog::warn(
            "member {} says member {} has incarnation {}, but member {} recorded {}: one of them "
            "is a replaced data directory; remove member {} and add it back with a new id",
            pb.from(), k.member(), incarnation_text(k.incarnation()), self,
            incarnation_text(a.recorded), k.member());
      } else if (a.verdict == PeerIncarnationBook::Verdict::kFailed) {
        spdlog::error("member {} cannot record member {}'s incarnation: {}", self, k.member(),
                      a.error);
      }
    }
  }

  void record_incoming(raft::NodeId from, raft::Index index, std::uint64_t done,
                       std::uint64_t total, bool finished) {
    std::lock_guard<std::mutex> lock(progress_mu_);
    SnapshotTransfer& t = incoming_[from];
    t.peer = from;
    t.outgoing = false;
    t.index = index;
    t.bytes_done = done;
    t.bytes_total = total;
    t.finished = finished;
    t.updated_ns = health::monotonic_ns();
  }

  grpc::Status check(const std::string& cluster_id, raft::NodeId to) {
    std::shared_lock<std::shared_mutex> lock(mu_);
    if (handler_ == nullptr) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "not serving");
    if (cluster_id != cluster_id_) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                          "peer traffic of cluster '" + cluster_id + "' refused by a member of '" +
                              cluster_id_ + "'");
    }
    if (to != self_) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                          "peer traffic for member " + std::to_string(to) + " refused by member " +
                              std::to_string(self_));
    }
    return grpc::Status::OK;
  }

  void deliver(MessageBatch batch) {
    std::shared_lock<std::shared_mutex> lock(mu_);
    if (handler_ != nullptr) handler_->on_batch(std::move(batch));
  }

  std::shared_mutex mu_;  // shared while calling the handler; exclusive to change it
  raft::NodeId self_ = raft::kNoNode;
  std::string cluster_id_;
  TransportHandler* handler_ = nullptr;
  std::shared_ptr<PeerIncarnationBook> book_;  // null: no incarnation checks
  std::atomic<std::int64_t> last_refusal_log_ns_{0};
  std::atomic<std::int64_t> last_conflict_log_ns_{0};
  mutable std::mutex progress_mu_;  // leaf: guards incoming_
  // The latest snapshot received from each sender (stream threads write).
  std::map<raft::NodeId, SnapshotTransfer> incoming_;
};

// --------------------------------------------------------------- outbound --

struct GrpcTransport::LocalIdentity {
  std::atomic<std::uint64_t> incarnation{0};
  std::shared_ptr<PeerIncarnationBook> book() const {
    std::lock_guard<std::mutex> lock(mu);
    return book_;
  }
  void set(std::uint64_t value, std::shared_ptr<PeerIncarnationBook> book) {
    incarnation.store(value, std::memory_order_relaxed);
    std::lock_guard<std::mutex> lock(mu);
    book_ = std::move(book);
  }

 private:
  mutable std::mutex mu;  // leaf: guards book_
  std::shared_ptr<PeerIncarnationBook> book_;
};

// Forward calls that finished on a gRPC callback thread. Each holds a stub,
// and so a channel, that its link may have replaced since (a new channel per
// connection attempt); dropping the last reference to a channel inside one of
// its own callbacks aborts gRPC 1.51 ("ref_counted.h: prior > 0"), so the
// callback parks the call here and the link thread releases it.
struct FinishedForwards {
  std::mutex mu;  // leaf: guards calls
  std::vector<std::shared_ptr<void>> calls;
};

class GrpcTransport::PeerLink : public std::enable_shared_from_this<PeerLink> {
 public:
  PeerLink(raft::NodeId id, std::string address, const GrpcTransportOptions& options,
           std::shared_ptr<const LocalIdentity> identity)
      : id_(id), options_(options), identity_(std::move(identity)), address_(std::move(address)) {}

  // The latest snapshot sent on this link, if any.
  std::optional<SnapshotTransfer> outgoing_transfer() const {
    std::lock_guard<std::mutex> lock(mu_);
    return sending_;
  }

  void start() {
    auto self = shared_from_this();
    thread_ = std::thread([self] {
      const std::string name = "peer-" + std::to_string(self->id_);
      pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
      self->run();
    });
  }

  // Stops the link; joins when `join`, else lets the thread finish alone.
  void stop(bool join) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopped_ = true;
      if (context_ != nullptr) context_->TryCancel();
    }
    cv_.notify_all();
    if (join && thread_.joinable()) {
      thread_.join();
    } else if (thread_.joinable()) {
      thread_.detach();
    }
  }

  void set_address(const std::string& address) {
    std::lock_guard<std::mutex> lock(mu_);
    if (address == address_) return;
    address_ = address;
    reconnect_ = true;
    if (context_ != nullptr) context_->TryCancel();
    cv_.notify_all();
  }

  bool enqueue(MessageBatch batch) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopped_ || queue_.size() >= options_.max_queued_batches) return false;
      remember_snapshot(batch);
      queue_.push_back(std::move(batch));
    }
    cv_.notify_one();
    return true;
  }

  void forward(ForwardRequest request, std::function<void(ForwardResponse)> done) {
    std::shared_ptr<v1::Raft::Stub> stub;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!stub_) stub_ = v1::Raft::NewStub(make_channel(address_, options_));
      stub = stub_;
    }
    struct Call {
      grpc::ClientContext context;
      v1::ForwardRequest request;
      v1::ForwardResponse response;
      std::shared_ptr<v1::Raft::Stub> stub;
    };
    auto call = std::make_shared<Call>();
    call->stub = stub;
    call->context.set_deadline(
        std::chrono::system_clock::now() +
        std::chrono::milliseconds(std::max<std::int64_t>(1, request.timeout_ms)));
    to_proto(request, &call->request);
    Call* raw = call.get();
    stub->async()->Forward(&raw->context, &raw->request, &raw->response,
                           [call = std::move(call), parked = finished_forwards_,
                            done = std::move(done)](grpc::Status status) mutable {
                             if (status.ok()) {
                               done(from_proto(call->response));
                             } else {
                               ForwardResponse r = unavailable_response(
                                   "forwarding to the leader failed: " + status.error_message());
                               if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED)
                                 r.code = 4;
                               done(std::move(r));
                             }
                             std::lock_guard<std::mutex> lock(parked->mu);
                             parked->calls.push_back(std::move(call));
                           });
  }

 private:
  void run() {
    int backoff_ms = kInitialBackoffMs;
    while (true) {
      release_finished_forwards();
      std::shared_ptr<v1::Raft::Stub> stub;
      std::shared_ptr<grpc::Channel> channel;
      grpc::ClientContext context;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stopped_) return;
        // A new channel per connection attempt: the name is resolved again.
        channel = make_channel(address_, options_);
        stub_ = v1::Raft::NewStub(channel);
        stub = stub_;
        reconnect_ = false;
        context_ = &context;
      }
      v1::StreamSummary summary;
      gossiped_version_.reset();  // a new stream starts with the book
      std::unique_ptr<grpc::ClientWriter<v1::RaftBatch>> writer = stub->Stream(&context, &summary);
      const bool ok = pump(writer.get(), channel.get());
      writer->WritesDone();
      const grpc::Status status = writer->Finish();
      {
        std::lock_guard<std::mutex> lock(mu_);
        context_ = nullptr;
        if (stopped_) return;
      }
      if (ok) {
        backoff_ms = kInitialBackoffMs;
        continue;  // address changed
      }
      if (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
        // Refused by the peer (replaced incarnation, other cluster or
        // member): retrying cannot help until an operator acts; say so.
        if (refusal_log_due(last_refusal_log_ns_)) {
          spdlog::error("member {} refuses our peer traffic: {}", id_, status.error_message());
        }
      } else {
        spdlog::debug("stream to member {} broke ({}); reconnecting in {} ms", id_,
                      status.error_message(), backoff_ms);
      }
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(backoff_ms),
                   [&] { return stopped_ || reconnect_; });
      // Batches queued while disconnected are stale by now; Raft resends
      // them, except a snapshot: the leader waits for its answer without
      // resending, so the link sends it again on the next stream.
      queue_.clear();
      if (undelivered_snapshot_) queue_.push_back(*undelivered_snapshot_);
      backoff_ms = std::min(backoff_ms * 2, options_.max_backoff_ms);
    }
  }

  // Writes queued batches until the stream breaks (false) or the link must
  // reconnect or stop (true).
  bool pump(grpc::ClientWriter<v1::RaftBatch>* writer, grpc::Channel* channel) {
    std::deque<MessageBatch> burst;
    int idle_checks_not_ready = 0;
    while (true) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        const bool woken = cv_.wait_for(lock, kIdleStreamCheck,
                                        [&] { return stopped_ || reconnect_ || !queue_.empty(); });
        if (stopped_ || reconnect_) return true;
        if (woken) burst.swap(queue_);
      }
      if (burst.empty()) {
        // Idle. A stream whose connection failed or dropped only says so at
        // its next write, and that write's message (a vote, an answer to a
        // pre-vote) would be lost: an election seconds after a peer came
        // back failed a round that way. An open stream needs a READY
        // connection; notice a lost one now and reconnect while idle.
        if (connection_lost(channel, &idle_checks_not_ready)) return false;
        continue;
      }
      idle_checks_not_ready = 0;
      release_finished_forwards();
      std::vector<v1::RaftBatch> out;
      for (MessageBatch& batch : burst) encode(batch, &out);
      burst.clear();
      if (!out.empty()) add_known_incarnations(&out.front());
      for (std::size_t i = 0; i < out.size(); ++i) {
        grpc::WriteOptions write_options;
        // The last message of a burst goes without the hint, or it waits.
        if (i + 1 < out.size()) write_options.set_buffer_hint();
        if (!writer->Write(out[i], write_options)) return false;
        if (out[i].has_snapshot_chunk()) record_sent(out[i].snapshot_chunk());
      }
    }
  }

  // Whether the stream's connection is gone: failed or shut down, or idle
  // (the state after a drop) on two checks in a row (a brand-new channel may
  // not have left idle at the first check).
  static bool connection_lost(grpc::Channel* channel, int* idle_checks) {
    switch (channel->GetState(/*try_to_connect=*/false)) {
      case GRPC_CHANNEL_TRANSIENT_FAILURE:
      case GRPC_CHANNEL_SHUTDOWN:
        return true;
      case GRPC_CHANNEL_IDLE:
        return ++*idle_checks >= 2;
      default:
        *idle_checks = 0;
        return false;
    }
  }

  // Releases the forward calls finished since the last time (link thread).
  void release_finished_forwards() {
    std::vector<std::shared_ptr<void>> calls;
    std::lock_guard<std::mutex> lock(finished_forwards_->mu);
    calls.swap(finished_forwards_->calls);
  }

  // Passes the book's entries on when they changed since the last time on
  // this stream (link thread only).
  void add_known_incarnations(v1::RaftBatch* pb) {
    const std::shared_ptr<PeerIncarnationBook> book = identity_->book();
    if (!book) return;
    const std::uint64_t version = book->version();
    if (gossiped_version_ == version) return;
    for (const auto& [member, incarnation] : book->entries()) {
      if (member == id_) continue;  // the receiver knows its own
      v1::KnownIncarnation* k = pb->add_known_incarnations();
      k->set_member(member);
      k->set_incarnation(incarnation);
    }
    gossiped_version_ = version;
  }

  // Keeps a copy of the snapshot message in `batch` (the newest replaces an
  // older one) until its last chunk was written. REQUIRES mu_ held.
  void remember_snapshot(const MessageBatch& batch) {
    for (const raft::Message& m : batch.messages) {
      if (!m.snapshot) continue;
      MessageBatch copy = batch;
      copy.messages.clear();
      copy.messages.push_back(m);
      undelivered_snapshot_ = std::move(copy);
    }
  }

  void record_sent(const v1::SnapshotChunk& chunk) {
    std::lock_guard<std::mutex> lock(mu_);
    if (chunk.last() && undelivered_snapshot_ &&
        undelivered_snapshot_->messages.front().snapshot->meta.index == chunk.snapshot_index()) {
      undelivered_snapshot_.reset();
    }
    SnapshotTransfer& t = sending_.emplace();
    t.peer = id_;
    t.outgoing = true;
    t.index = chunk.snapshot_index();
    t.bytes_done = chunk.offset() + chunk.data().size();
    t.bytes_total = chunk.total_size();
    t.finished = chunk.last();
    t.updated_ns = health::monotonic_ns();
  }

  void encode(MessageBatch& batch, std::vector<v1::RaftBatch>* out) {
    const std::uint64_t incarnation = identity_->incarnation.load(std::memory_order_relaxed);
    auto stamp = [&](v1::RaftBatch* pb) {
      pb->set_from_incarnation(incarnation);
      pb->set_cluster_id(batch.cluster_id);
      pb->set_from(batch.from);
      pb->set_to(batch.to);
      pb->set_from_client_address(batch.from_client_address);
      pb->set_from_peer_address(batch.from_peer_address);
    };
    // Plain messages share RaftBatches of at most max_message_bytes (the
    // receiver's limit, and gRPC's 2 GB serialization limit far below it):
    // one oversized batch would break the stream or abort the process.
    const std::size_t budget = plain_batch_budget();
    v1::RaftBatch plain;
    std::size_t plain_bytes = 0;
    stamp(&plain);
    for (raft::Message& message : batch.messages) {
      if (!message.snapshot) {
        v1::RaftMessage pm;
        to_proto(message, &pm);
        const std::size_t bytes = pm.ByteSizeLong() + kPerMessageOverhead;
        if (bytes > budget) {
          // Cannot happen with the node's limits (entries per append are
          // capped far below); dropping is what the network could do, and
          // Raft resends.
          if (refusal_log_due(last_oversize_log_ns_)) {
            spdlog::error("dropping an oversized {} message for member {} ({} bytes, limit {})",
                          raft::to_string(message.type), id_, bytes, budget);
          }
          continue;
        }
        if (plain_bytes + bytes > budget) {
          out->push_back(std::move(plain));
          plain = v1::RaftBatch();
          stamp(&plain);
          plain_bytes = 0;
        }
        *plain.add_messages() = std::move(pm);
        plain_bytes += bytes;
        continue;
      }
      const std::string data = std::move(message.snapshot->data);
      message.snapshot->data.clear();
      const std::size_t chunk_bytes = std::max<std::size_t>(1, options_.snapshot_chunk_bytes);
      std::size_t offset = 0;
      do {
        v1::RaftBatch pb;
        stamp(&pb);
        v1::SnapshotChunk* chunk = pb.mutable_snapshot_chunk();
        if (offset == 0) to_proto(message, chunk->mutable_message());
        chunk->set_snapshot_index(message.snapshot->meta.index);
        chunk->set_offset(offset);
        chunk->set_total_size(data.size());
        const std::size_t n = std::min(chunk_bytes, data.size() - offset);
        chunk->set_data(data.substr(offset, n));
        offset += n;
        chunk->set_last(offset >= data.size());
        out->push_back(std::move(pb));
      } while (offset < data.size());
    }
    if (plain.messages_size() > 0) out->push_back(std::move(plain));
  }

  // Room for a batch's own fields and the incarnation book, and the length
  // prefix of each repeated message.
  static constexpr std::size_t kBatchHeadroom = 64u << 10;
  static constexpr std::size_t kPerMessageOverhead = 16;
  std::size_t plain_batch_budget() const {
    return options_.max_message_bytes > 2 * kBatchHeadroom
               ? options_.max_message_bytes - kBatchHeadroom
               : options_.max_message_bytes / 2;
  }

  const raft::NodeId id_;
  const GrpcTransportOptions& options_;
  const std::shared_ptr<const LocalIdentity> identity_;
  // The book version last passed on over the current stream (link thread).
  std::optional<std::uint64_t> gossiped_version_;
  std::atomic<std::int64_t> last_refusal_log_ns_{0};
  std::atomic<std::int64_t> last_oversize_log_ns_{0};
  const std::shared_ptr<FinishedForwards> finished_forwards_ = std::make_shared<FinishedForwards>();
  std::thread thread_;
  mutable std::mutex mu_;  // leaf: guards everything below
  std::condition_variable cv_;
  std::string address_;
  std::shared_ptr<v1::Raft::Stub> stub_;
  grpc::ClientContext* context_ = nullptr;
  std::deque<MessageBatch> queue_;
  bool reconnect_ = false;
  bool stopped_ = false;
  std::optional<SnapshotTransfer> sending_;  // the latest snapshot sent
  // The latest snapshot handed to the link whose last chunk has not been
  // written yet: queued again after a broken stream (see run()).
  std::optional<MessageBatch> undelivered_snapshot_;
};

// --------------------------------------------------------------- transport --

GrpcTransport::GrpcTransport(GrpcTransportOptions options)
    : options_(std::move(options)),
      service_(std::make_unique<Service>()),
      identity_(std::make_shared<LocalIdentity>()) {}

GrpcTransport::~GrpcTransport() { stop(); }

bool GrpcTransport::listen(std::string* error) {
  if (server_) return true;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options_.listen_address, grpc::InsecureServerCredentials(),
                           &bound_port_);
  builder.RegisterService(service_.get());
  builder.SetMaxReceiveMessageSize(static_cast<int>(options_.max_message_bytes));
  builder.SetMaxSendMessageSize(static_cast<int>(options_.max_message_bytes));
  server_ = builder.BuildAndStart();
  if (!server_ || bound_port_ == 0) {
    server_.reset();
    *error = "cannot listen for peers on " + options_.listen_address;
    return false;
  }
  return true;
}

void GrpcTransport::start(raft::NodeId self, std::string cluster_id, TransportHandler* handler) {
  service_->attach(self, std::move(cluster_id), handler);
  std::string error;
  if (!listen(&error)) spdlog::error("{}", error);
}

void GrpcTransport::set_peer(raft::NodeId id, std::string peer_address) {
  std::shared_ptr<PeerLink> link;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    auto it = links_.find(id);
    if (it != links_.end()) {
      link = it->second;
    } else {
      link = std::make_shared<PeerLink>(id, peer_address, options_, identity_);
      links_[id] = link;
      link->start();
      return;
    }
  }
  link->set_address(peer_address);
}

void GrpcTransport::remove_peer(raft::NodeId id) {
  std::shared_ptr<PeerLink> link;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = links_.find(id);
    if (it == links_.end()) return;
    link = std::move(it->second);
    links_.erase(it);
  }
  link->stop(/*join=*/false);  // never wait on the network from the Raft loop
}

bool GrpcTransport::send(MessageBatch batch) {
  std::shared_ptr<PeerLink> link;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = links_.find(batch.to);
    if (it == links_.end()) return false;
    link = it->second;
  }
  return link->enqueue(std::move(batch));
}

void GrpcTransport::forward(ForwardRequest request, std::function<void(ForwardResponse)> done) {
  std::shared_ptr<PeerLink> link;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = links_.find(request.to);
    if (it != links_.end()) link = it->second;
  }
  if (!link) {
    done(unavailable_response("the leader's peer address is unknown"));
    return;
  }
  link->forward(std::move(request), std::move(done));
}

void GrpcTransport::set_incarnation(std::uint64_t incarnation,
                                    std::shared_ptr<PeerIncarnationBook> book) {
  identity_->set(incarnation, book);
  service_->set_book(std::move(book));
}

std::vector<HelloAnswer> GrpcTransport::hello(const std::map<raft::NodeId, std::string>& peers,
                                              const std::string& cluster_id, raft::NodeId self,
                                              std::uint64_t incarnation,
                                              std::chrono::milliseconds timeout) {
  // One blocking call per peer, each on its own short-lived thread and with
  // the common deadline; every gRPC object is created and destroyed on the
  // thread that owns it (a channel released inside a completion callback
  // aborted gRPC 1.51 under load).
  struct Call {
    raft::NodeId peer = raft::kNoNode;
    std::string address;
    grpc::Status status;
    v1::HelloResponse response;
  };
  std::vector<Call> calls;
  for (const auto& [id, address] : peers) {
    if (id != self) calls.push_back(Call{id, address, {}, {}});
  }
  const auto deadline = std::chrono::system_clock::now() + timeout;
  std::vector<std::thread> threads;
  threads.reserve(calls.size());
  for (Call& call : calls) {
    threads.emplace_back([&call, &cluster_id, self, incarnation, deadline, this] {
      pthread_setname_np(pthread_self(), "hello-probe");
      auto stub = v1::Raft::NewStub(make_channel(call.address, options_));
      grpc::ClientContext context;
      context.set_deadline(deadline);
      v1::HelloRequest request;
      request.set_cluster_id(cluster_id);
      request.set_from(self);
      request.set_to(call.peer);
      request.set_incarnation(incarnation);
      call.status = stub->Hello(&context, request, &call.response);
    });
  }
  for (std::thread& t : threads) t.join();  // each call ends by the deadline
  std::vector<HelloAnswer> answers;
  for (const Call& call : calls) {
    if (!call.status.ok()) {
      spdlog::info("bootstrap probe: member {} did not answer ({})", call.peer,
                   call.status.error_message());
      continue;
    }
    answers.push_back(HelloAnswer{call.peer, call.response.known_incarnation()});
  }
  return answers;
}

std::vector<SnapshotTransfer> GrpcTransport::snapshot_transfers() const {
  std::vector<std::shared_ptr<PeerLink>> links;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, link] : links_) links.push_back(link);
  }
  std::vector<SnapshotTransfer> out = service_->incoming_transfers();
  for (const auto& link : links) {
    if (auto t = link->outgoing_transfer()) out.push_back(*t);
  }
  return out;
}

void GrpcTransport::stop() {
  std::map<raft::NodeId, std::shared_ptr<PeerLink>> links;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    links.swap(links_);
  }
  service_->detach();
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + kServerShutdownGrace);
  for (auto& [id, link] : links) link->stop(/*join=*/true);
}

}  // namespace raftmeta::node
