// File: web/bridge/http_bridge.h
//
// The HTTP/JSON face of the SkyDeck API, for the dashboard and curl. Routes
// come from the proto's `(skydeck.v1.http)` options (route_table.h); the
// bridge forwards each request to the gRPC API — over an in-process channel
// when skydeckd starts it, or to a remote daemon — and never touches daemon
// internals. Server-streaming RPCs are served as Server-Sent Events with
// keep-alive comments; a client that goes away cancels its gRPC call.
//
// Security: binds loopback unless told otherwise; optional bearer token on
// every /api and /metrics request (forwarded to gRPC as `authorization`);
// state-changing requests must be JSON (a form post from another site
// cannot forge one); no CORS headers; bodies over max_body_bytes get 413.
//
// Thread-safety: Start/Stop from one thread; requests are served on the
// bridge's own pool.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "common/metric_family.h"
#include "web/bridge/grpc_caller.h"
#include "web/bridge/route_table.h"
#include "web/bridge/static_files.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace skydeck::web {

struct BridgeOptions {
  std::string host = "127.0.0.1";
  int port = 8000;  // 0: pick a free port
  // When non-empty, requests need `Authorization: Bearer <token>` (or, for
  // EventSource which cannot set headers, `?access_token=` on streams).
  std::string token;
  // Host names (lower case, no port) served without a token besides
  // localhost and loopback addresses (request_origin.h).
  std::vector<std::string> allowed_hosts;
  // Directory with the built dashboard, served instead of embedded_files
  // (for UI development). Empty: embedded_files. Neither: API only.
  std::string web_root;
  std::span<const EmbeddedFile> embedded_files;
  size_t max_body_bytes = 1 << 20;
  std::chrono::milliseconds keepalive{15000};
  // Pool threads; at most threads - 16 streams run at once, so ordinary
  // requests always find a thread.
  int threads = 96;
  // Extra Prometheus text appended to /metrics (the daemon's own metrics).
  std::function<std::string()> extra_metrics;
  // The gRPC service to expose; null means skydeck.v1.SkyDeck. Any service
  // whose methods carry `(skydeck.v1.http)` options works.
  const google::protobuf::ServiceDescriptor* service = nullptr;
};

class HttpBridge {
 public:
  HttpBridge(std::shared_ptr<grpc::Channel> channel, BridgeOptions options);
  ~HttpBridge();

  // Binds and starts serving on a background thread; returns the port.
  // Errors: INVALID_ARGUMENT for a bad proto option; UNAVAILABLE when the
  // address cannot be bound.
  absl::StatusOr<int> Start();
  void Stop();

  // Streams being served right now.
  int active_streams() const { return active_streams_.load(); }

 private:
  void HandleApi(const httplib::Request& req, httplib::Response& res);
  // False when the stream was refused (the error is in `res`); an opened
  // stream is counted by Record when it ends.
  bool HandleStream(const RouteMatch& match, const std::string& request, CallOptions call,
                    httplib::Response& res);
  void HandleStatic(const httplib::Request& req, httplib::Response& res);
  void HandleMetrics(const httplib::Request& req, httplib::Response& res);
  bool Authorized(const httplib::Request& req, bool allow_query_token) const;
  // Counts a finished API request; `seconds` for unary calls only (a
  // stream's length is the client's, not a latency).
  void Record(const std::string& method, bool error, std::optional<double> seconds);

  BridgeOptions options_;
  GrpcCaller caller_;
  RouteTable routes_;
  absl::Status routes_status_;
  StaticFiles static_files_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::atomic<int> active_streams_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> listener_exited_{false};  // set when listen_after_bind returns
  CounterFamily requests_{"skydeck_http_requests_total", "HTTP API requests by RPC.", {"rpc"}};
  CounterFamily errors_{"skydeck_http_request_errors_total",
                        "HTTP API requests that failed, by RPC.", {"rpc"}};
  HistogramFamily durations_{"skydeck_http_request_duration_seconds",
                             "Time to answer a unary HTTP API request, by RPC.", {"rpc"}};
};

}  // namespace skydeck::web
