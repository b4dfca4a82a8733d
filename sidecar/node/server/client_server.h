// ClientServer: the gRPC server on --listen-client that hosts the Metadata and
// Admin services (callback API: gRPC's own threads only dispatch; blocking
// work runs on the RequestExecutor).
//
// Requests larger than max_request_bytes are refused by gRPC itself with
// RESOURCE_EXHAUSTED before any of our code runs.
//
// Thread use: start() and shutdown() from the owner thread.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace raftmeta::node::server {

struct ClientServerOptions {
  std::string listen = "0.0.0.0:7401";
  std::size_t max_request_bytes = 4u << 20;
  std::size_t max_response_bytes = 64u << 20;
};

class ClientServer {
 public:
  // The services must outlive the server.
  ClientServer(ClientServerOptions options, std::vector<grpc::Service*> services);
  ~ClientServer();  // shutdown now if still running
  ClientServer(const ClientServer&) = delete;
  ClientServer& operator=(const ClientServer&) = delete;

  // Binds and starts serving. Returns an empty string or why not.
  std::string start();
  // The bound port (useful with port 0); 0 before start().
  int port() const { return port_; }
  // Stops accepting calls and cancels those still running at `deadline`.
  void shutdown(std::chrono::system_clock::time_point deadline);

 private:
  const ClientServerOptions options_;
  const std::vector<grpc::Service*> services_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace raftmeta::node::server
