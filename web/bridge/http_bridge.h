// File: web/bridge/http_bridge.h
//
// The HTTP/JSON face of the SkyDeck API, for the dashboard and curl. Routes
// come from the proto's `(skydeck.v1.http)` options (route_table.h); the
// bridge forwards each request to the gRPC API — over an in-process channel
// when skydeckd starts it, or to a remote daemon — and never touches daemon
// internals. Server-streaming RPCs are served as Server-Sent Events with
// keep-alive comments (sse_stream.h); a client that goes away cancels its
// gRPC call.
//
// Nothing waits on a thread: HTTP is event-driven (http_server.h), gRPC
// calls use the callback API (grpc_caller.h), and the CPU work (JSON, gzip,
// /metrics) runs on a small work pool. JSON answers of 1 KiB or more are
// compressed (brotli 1 or gzip 1, compression.h) for clients that accept
// it, and so are event streams (gzip 1 first, stream_compressor.h); the
// dashboard's files come precompressed from the build.
//
// Security: binds loopback unless told otherwise; optional bearer token on
// every /api and /metrics request (forwarded to gRPC as `authorization`),
// checked with the other refusals (origin, route, content type, size)
// before any body is read; state-changing requests must be JSON (a form
// post from another site cannot forge one); no CORS headers; bodies over
// max_body_bytes get 413; limits on connections, slow headers, idle
// connections and open streams (http_limits.h).
//
// Thread-safety: Start/Stop from one thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"

#include "common/metric_family.h"
#include "web/bridge/grpc_caller.h"
#include "web/bridge/http_limits.h"
#include "web/bridge/http_server.h"
#include "web/bridge/request_mapping.h"
#include "web/bridge/request_origin.h"
#include "web/bridge/route_table.h"
#include "web/bridge/static_files.h"
#include "web/bridge/work_pool.h"

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
  HttpLimits limits;
  // Event-loop threads (sockets only) and work-pool threads (JSON, gzip).
  int event_threads = 2;
  int work_threads = 2;
  // Extra Prometheus text appended to /metrics (the daemon's own metrics).
  std::function<std::string()> extra_metrics;
  // The gRPC service to expose; null means skydeck.v1.SkyDeck. Any service
  // whose methods carry `(skydeck.v1.http)` options works.
  const google::protobuf::ServiceDescriptor* service = nullptr;
};

class HttpBridge final : private HttpHandler {
 public:
  HttpBridge(std::shared_ptr<grpc::Channel> channel, BridgeOptions options);
  ~HttpBridge() override;

  // Binds and starts serving; returns the port. Errors: INVALID_ARGUMENT
  // for a bad proto option; UNAVAILABLE when the address cannot be bound
  // (a busy port says so: SO_REUSEPORT is never set).
  absl::StatusOr<int> Start();
  // Closes every connection (open streams end, their gRPC calls are
  // cancelled) and waits for the calls in flight. Idempotent.
  void Stop();

  // Streams being served right now.
  int active_streams() const { return active_streams_.load(); }

 private:
  // HttpHandler: refusals at the headers, then the work on the pool.
  std::optional<HttpResponse> OnHeaders(const HttpRequest& request) override;
  void OnRequest(std::shared_ptr<HttpExchange> exchange) override;

  // Route, token and content type of an /api request; nullopt: serve it.
  std::optional<HttpResponse> RefuseApiRequest(const HttpRequest& request);
  // The pool's part of an /api request: build the message, start the call.
  void HandleApi(std::shared_ptr<HttpExchange> exchange,
                 std::chrono::steady_clock::time_point started);
  void StartStream(std::shared_ptr<HttpExchange> exchange,
                   const google::protobuf::MethodDescriptor* method, std::string request,
                   CallOptions call, std::chrono::steady_clock::time_point started);
  void FinishUnary(const std::shared_ptr<HttpExchange>& exchange,
                   const google::protobuf::MethodDescriptor* method,
                   std::chrono::steady_clock::time_point started, const grpc::Status& status,
                   const std::string& response_bytes);
  // Answers with `response`, compressed when the client accepts it.
  void RespondCompressed(HttpExchange& exchange, HttpResponse response);
  HttpResponse Static(const HttpRequest& request) const;
  HttpResponse Metrics();
  bool Authorized(const HttpRequest& request, bool allow_query_token) const;
  // Counts a finished API request; `seconds` for unary calls only (a
  // stream's length is the client's, not a latency).
  void Record(const std::string& method, bool error, std::optional<double> seconds);

  BridgeOptions options_;
  OriginPolicy origin_policy_;
  std::unique_ptr<GrpcCaller> caller_;
  RouteTable routes_;
  absl::Status routes_status_;
  StaticFiles static_files_;
  std::unique_ptr<WorkPool> pool_;
  std::unique_ptr<HttpServer> server_;
  std::atomic<int> active_streams_{0};
  CounterFamily requests_{"skydeck_http_requests_total", "HTTP API requests by RPC.", {"rpc"}};
  CounterFamily errors_{
      "skydeck_http_request_errors_total", "HTTP API requests that failed, by RPC.", {"rpc"}};
  HistogramFamily durations_{"skydeck_http_request_duration_seconds",
                             "Time to answer a unary HTTP API request, by RPC.",
                             {"rpc"}};
};

}  // namespace skydeck::web
