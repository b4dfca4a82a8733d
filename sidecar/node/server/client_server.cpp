#include "sidecar/node/server/client_server.h"

namespace raftmeta::node::server {

ClientServer::ClientServer(ClientServerOptions options, std::vector<grpc::Service*> services)
    : options_(std::move(options)), services_(std::move(services)) {}

ClientServer::~ClientServer() {
  if (server_) shutdown(std::chrono::system_clock::now());
}

std::string ClientServer::start() {
  grpc::ServerBuilder builder;
  int bound_port = 0;
  builder.AddListeningPort(options_.listen, grpc::InsecureServerCredentials(), &bound_port);
  builder.SetMaxReceiveMessageSize(static_cast<int>(options_.max_request_bytes));
  builder.SetMaxSendMessageSize(static_cast<int>(options_.max_response_bytes));
  // Keepalive pings let clients notice a SIGSTOPped or vanished member.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 1000);
  for (grpc::Service* service : services_) builder.RegisterService(service);
  server_ = builder.BuildAndStart();
  if (!server_ || bound_port == 0) {
    server_.reset();
    return "cannot listen for clients on " + options_.listen +
           " (address in use or not available on this host)";
  }
  port_ = bound_port;
  return "";
}

void ClientServer::shutdown(std::chrono::system_clock::time_point deadline) {
  if (!server_) return;
  server_->Shutdown(deadline);
  server_->Wait();
  server_.reset();
}

}  // namespace raftmeta::node::server
