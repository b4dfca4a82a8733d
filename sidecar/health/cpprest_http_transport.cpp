// The only translation unit that includes cpprest's http_listener.
#include <cpprest/http_listener.h>
#include <cpprest/uri.h>
#include <spdlog/spdlog.h>

#include "sidecar/health/http_transport.h"

namespace raftmeta::health {
namespace {

namespace http = web::http;

class CpprestTransport final : public HttpTransport {
 public:
  CpprestTransport(const std::string& url, HttpHandler handler)
      : listener_(web::uri(url)), handler_(std::move(handler)) {
    listener_.support([this](http::http_request request) { serve(std::move(request)); });
  }
  ~CpprestTransport() override { stop(); }

  void open() {
    listener_.open().wait();
    open_ = true;
  }

  void stop() override {
    if (!open_) return;
    open_ = false;
    try {
      listener_.close().wait();
    } catch (const std::exception& e) {
      spdlog::warn("health http: closing the listener failed: {}", e.what());
    }
  }

 private:
  void serve(http::http_request request) {
    HttpRequest req;
    req.method = request.method();
    req.path = web::uri::decode(request.relative_uri().path());
    request.extract_utf8string(true).then(
        [this, request, req = std::move(req)](pplx::task<std::string> body) mutable {
          try {
            req.body = body.get();
          } catch (const std::exception&) {
            req.body.clear();
          }
          HttpResponse resp;
          try {
            resp = handler_(req);
          } catch (const std::exception& e) {
            resp = {500, "text/plain; charset=utf-8", std::string("internal error: ") + e.what()};
          }
          http::http_response reply(static_cast<http::status_code>(resp.status));
          reply.headers().add("Cache-Control", "no-store");
          reply.set_body(std::move(resp.body), resp.content_type);
          request.reply(reply).then([](pplx::task<void> t) {
            try {
              t.get();
            } catch (const std::exception&) {
              // The client went away; nothing to do.
            }
          });
        });
  }

  http::experimental::listener::http_listener listener_;
  HttpHandler handler_;
  bool open_ = false;  // owner thread only
};

}  // namespace

std::unique_ptr<HttpTransport> start_cpprest_transport(const std::string& host, int port,
                                                       HttpHandler handler, std::string* error) {
  const std::string url = "http://" + host + ":" + std::to_string(port);
  try {
    auto transport = std::make_unique<CpprestTransport>(url, std::move(handler));
    transport->open();
    return transport;
  } catch (const std::exception& e) {
    if (error) *error = "cannot listen on " + host + ":" + std::to_string(port) + ": " + e.what();
    return nullptr;
  }
}

}  // namespace raftmeta::health
