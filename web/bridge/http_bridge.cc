#include "web/bridge/http_bridge.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

#include "skydeck/v1/service.pb.h"
#include "web/bridge/compression.h"
#include "web/bridge/http_errors.h"
#include "web/bridge/query_string.h"
#include "web/bridge/sse_stream.h"

namespace skydeck::web {
namespace {

using Clock = std::chrono::steady_clock;
using google::protobuf::Message;
using google::protobuf::MessageFactory;

// The rpc label of API requests that match no route (404, 405).
constexpr char kUnmatchedRoute[] = "unmatched";

HttpResponse JsonError(grpc::StatusCode code, const std::string& message) {
  return HttpResponse{HttpStatusFor(code), "application/json", {}, ErrorBody(code, message)};
}

bool ConstantTimeEquals(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

std::unique_ptr<Message> NewMessage(const google::protobuf::Descriptor* type) {
  return std::unique_ptr<Message>(MessageFactory::generated_factory()->GetPrototype(type)->New());
}

std::string GrpcPath(const google::protobuf::MethodDescriptor* m) {
  return absl::StrCat("/", m->service()->full_name(), "/", m->name());
}

bool IsApiPath(const std::string& path) { return absl::StartsWith(path, "/api/"); }

double SecondsSince(Clock::time_point started) {
  return std::chrono::duration<double>(Clock::now() - started).count();
}

}  // namespace

HttpBridge::HttpBridge(std::shared_ptr<grpc::Channel> channel, BridgeOptions options)
    : options_(std::move(options)),
      origin_policy_{!options_.token.empty(), options_.allowed_hosts},
      caller_(std::make_unique<GrpcCaller>(std::move(channel))) {
  static_files_ = options_.web_root.empty() ? StaticFiles::FromEmbedded(options_.embedded_files)
                                            : StaticFiles::FromDirectory(options_.web_root);
  // Touching a generated message ties service.proto's descriptors into the
  // binary; the service itself is then found by name.
  const auto* service =
      options_.service != nullptr
          ? options_.service
          : skydeck::v1::GetHealthRequest::descriptor()->file()->FindServiceByName("SkyDeck");
  auto table = RouteTable::ForService(service);
  if (table.ok()) {
    routes_ = *std::move(table);
  } else {
    routes_status_ = table.status();
  }
}

HttpBridge::~HttpBridge() { Stop(); }

absl::StatusOr<int> HttpBridge::Start() {
  if (!routes_status_.ok()) return routes_status_;
  pool_ = std::make_unique<WorkPool>(std::max(1, options_.work_threads));
  HttpServerOptions server_options;
  server_options.host = options_.host;
  server_options.port = options_.port;
  server_options.limits = options_.limits;
  server_options.max_body_bytes = options_.max_body_bytes;
  server_options.event_threads = options_.event_threads;
  server_ = std::make_unique<HttpServer>(server_options, static_cast<HttpHandler*>(this));
  absl::StatusOr<int> port = server_->Start();
  if (!port.ok()) {
    server_.reset();
    pool_->Stop();
  }
  return port;
}

void HttpBridge::Stop() {
  if (server_) server_->Stop();  // streams' on_closed cancel their calls
  caller_->Shutdown();           // cancels unary calls in flight, refuses new ones
  caller_->WaitIdle();           // every completion has been handed to the pool
  if (pool_) pool_->Stop();      // and has run (answers to closed exchanges are dropped)
}

bool HttpBridge::Authorized(const HttpRequest& req, bool allow_query_token) const {
  if (options_.token.empty()) return true;
  std::string header = req.Header("Authorization");
  if (absl::StartsWith(header, "Bearer ") && ConstantTimeEquals(header.substr(7), options_.token)) {
    return true;
  }
  if (!allow_query_token) return false;
  for (const auto& [key, value] : ParseQueryString(req.query)) {
    if (key == "access_token" && ConstantTimeEquals(value, options_.token)) return true;
  }
  return false;
}

std::optional<HttpResponse> HttpBridge::OnHeaders(const HttpRequest& req) {
  // Host and Origin are checked before any route: see request_origin.h.
  absl::Status allowed =
      CheckRequestOrigin(origin_policy_, req.method, req.Header("Host"), req.Header("Origin"));
  if (!allowed.ok()) {
    return JsonError(grpc::StatusCode::PERMISSION_DENIED, std::string(allowed.message()));
  }
  if (IsApiPath(req.path)) return RefuseApiRequest(req);
  bool read_only = req.method == "GET" || req.method == "HEAD";
  if (req.path == "/metrics" && read_only) {
    if (Authorized(req, false)) return std::nullopt;  // rendered on the pool
    return JsonError(grpc::StatusCode::UNAUTHENTICATED, "missing or wrong bearer token");
  }
  if (!read_only) return JsonError(grpc::StatusCode::NOT_FOUND, "not found");
  // Embedded files are in memory: served right here. A --web-root
  // directory is read on the pool.
  if (options_.web_root.empty()) return Static(req);
  return std::nullopt;
}

std::optional<HttpResponse> HttpBridge::RefuseApiRequest(const HttpRequest& req) {
  // Every request is counted once, with its final HTTP status: refused ones
  // (no route, no token, wrong content type) here, the others when they
  // are answered or their stream ends.
  auto match = routes_.Match(req.method, req.path);
  if (!match.ok()) {
    Record(kUnmatchedRoute, true, 0.0);
    bool wrong_verb = absl::IsFailedPrecondition(match.status());
    HttpResponse res =
        JsonError(wrong_verb ? grpc::StatusCode::UNIMPLEMENTED : grpc::StatusCode::NOT_FOUND,
                  std::string(match.status().message()));
    res.status = wrong_verb ? 405 : 404;
    return res;
  }
  const Route& route = *match->route;
  if (!Authorized(req, route.server_streaming())) {
    Record(route.method->name(), true, 0.0);
    HttpResponse res =
        JsonError(grpc::StatusCode::UNAUTHENTICATED, "missing or wrong bearer token");
    res.headers.emplace_back("WWW-Authenticate", "Bearer");
    return res;
  }
  bool changes_state = req.method == "POST" || req.method == "PATCH" || req.method == "PUT";
  // No body and no Content-Type (`curl -X POST`) is the empty request `{}`;
  // a cross-site page cannot forge that either: it would carry an Origin.
  std::string content_type = req.Header("Content-Type");
  std::string length = req.Header("Content-Length");
  bool no_body = req.Header("Transfer-Encoding").empty() && (length.empty() || length == "0");
  bool json_or_nothing =
      absl::StartsWith(content_type, "application/json") || (content_type.empty() && no_body);
  if (changes_state && !json_or_nothing) {
    Record(route.method->name(), true, 0.0);
    HttpResponse res =
        JsonError(grpc::StatusCode::INVALID_ARGUMENT,
                  "state-changing requests must have Content-Type: application/json");
    res.status = 415;
    return res;
  }
  return std::nullopt;
}

void HttpBridge::OnRequest(std::shared_ptr<HttpExchange> exchange) {
  Clock::time_point started = Clock::now();
  const std::string& path = exchange->request().path;
  if (IsApiPath(path)) {
    pool_->Post([this, exchange, started] { HandleApi(exchange, started); });
  } else if (path == "/metrics") {
    pool_->Post([this, exchange] { RespondCompressed(*exchange, Metrics()); });
  } else {
    pool_->Post([this, exchange] { exchange->Respond(Static(exchange->request())); });
  }
}

void HttpBridge::HandleApi(std::shared_ptr<HttpExchange> exchange, Clock::time_point started) {
  const HttpRequest& req = exchange->request();
  auto match = routes_.Match(req.method, req.path);  // matched at the headers already
  if (!match.ok()) {
    exchange->Respond(
        JsonError(grpc::StatusCode::NOT_FOUND, std::string(match.status().message())));
    return;
  }
  const google::protobuf::MethodDescriptor* method = match->route->method;
  std::unique_ptr<Message> request = NewMessage(method->input_type());
  QueryParams query;
  for (auto& [k, v] : ParseQueryString(req.query)) {
    if (k != "access_token") query.emplace_back(std::move(k), std::move(v));
  }
  if (absl::Status s = FillRequest(match->path_params, query, req.body, request.get()); !s.ok()) {
    Record(method->name(), true, SecondsSince(started));
    exchange->Respond(JsonError(grpc::StatusCode::INVALID_ARGUMENT, std::string(s.message())));
    return;
  }
  CallOptions call;
  if (!options_.token.empty()) call.metadata.emplace("authorization", "Bearer " + options_.token);
  std::string actor = req.Header("X-SkyDeck-Actor");
  call.metadata.emplace("x-skydeck-actor", actor.empty() ? "web" : actor);
  if (method->server_streaming()) {
    StartStream(std::move(exchange), method, request->SerializeAsString(), std::move(call),
                started);
    return;
  }
  caller_->StartUnary(GrpcPath(method), request->SerializeAsString(), call,
                      [this, exchange, method, started](grpc::Status status, std::string bytes) {
                        pool_->Post([this, exchange, method, started, status = std::move(status),
                                     bytes = std::move(bytes)] {
                          FinishUnary(exchange, method, started, status, bytes);
                        });
                      });
}

void HttpBridge::StartStream(std::shared_ptr<HttpExchange> exchange,
                             const google::protobuf::MethodDescriptor* method, std::string request,
                             CallOptions call, Clock::time_point started) {
  int limit = options_.limits.max_streams;
  if (active_streams_.fetch_add(1) >= limit) {
    active_streams_--;
    Record(method->name(), true, SecondsSince(started));
    exchange->Respond(
        JsonError(grpc::StatusCode::RESOURCE_EXHAUSTED,
                  absl::StrCat("too many open streams (", limit, "); try again later")));
    return;
  }
  auto stream = std::make_shared<SseStream>(exchange, method, pool_.get(),
                                            [this, rpc = method->name()](bool error) {
                                              Record(rpc, error, std::nullopt);
                                              active_streams_--;
                                            });
  if (!stream->Start(*caller_, GrpcPath(method), request, call, options_.keepalive)) {
    active_streams_--;  // the client left before its stream opened
    Record(method->name(), false, std::nullopt);
  }
}

void HttpBridge::FinishUnary(const std::shared_ptr<HttpExchange>& exchange,
                             const google::protobuf::MethodDescriptor* method,
                             Clock::time_point started, const grpc::Status& status,
                             const std::string& response_bytes) {
  HttpResponse res;
  if (!status.ok()) {
    res = JsonError(status.error_code(), status.error_message());
  } else {
    std::unique_ptr<Message> response = NewMessage(method->output_type());
    absl::StatusOr<std::string> json =
        response->ParseFromString(response_bytes)
            ? MessageToJson(*response)
            : absl::InternalError("unparsable response from the daemon");
    res = json.ok() ? HttpResponse{200,
                                   "application/json",
                                   {{"Cache-Control", "no-store"}},
                                   *std::move(json)}
                    : JsonError(grpc::StatusCode::INTERNAL, std::string(json.status().message()));
  }
  // Counted before the answer goes out: a client that reads /metrics next
  // sees its request.
  Record(method->name(), res.status >= 400, SecondsSince(started));
  RespondCompressed(*exchange, std::move(res));
}

void HttpBridge::RespondCompressed(HttpExchange& exchange, HttpResponse res) {
  if (res.body.size() >= kMinCompressBytes) {
    res.headers.emplace_back("Vary", "Accept-Encoding");
    ContentCoding coding = ChooseCoding(exchange.request().Header("Accept-Encoding"));
    if (coding != ContentCoding::kIdentity) {
      absl::StatusOr<std::string> compressed = Compress(res.body, coding);
      if (compressed.ok()) {
        res.body = *std::move(compressed);
        res.headers.emplace_back("Content-Encoding", std::string(CodingName(coding)));
      }
    }
  }
  exchange.Respond(std::move(res));
}

HttpResponse HttpBridge::Static(const HttpRequest& req) const {
  auto file = static_files_.Resolve(req.path, AcceptsGzip(req.Header("Accept-Encoding")));
  if (!file) {
    return HttpResponse{404,
                        "text/plain; charset=utf-8",
                        {},
                        static_files_.available()
                            ? "not found\n"
                            : "the dashboard is not built; the API is at /api\n"};
  }
  HttpResponse res{200,
                   file->content_type,
                   {{"Cache-Control", file->cache_control}, {"X-Content-Type-Options", "nosniff"}},
                   std::move(file->body)};
  if (file->has_gzip_twin) res.headers.emplace_back("Vary", "Accept-Encoding");
  if (!file->content_encoding.empty()) {
    res.headers.emplace_back("Content-Encoding", file->content_encoding);
  }
  return res;
}

void HttpBridge::Record(const std::string& method, bool error, std::optional<double> seconds) {
  requests_.Add({method});
  // Touched on success too, so every RPC's error series exists from 0.
  errors_.Add({method}, error ? 1 : 0);
  if (seconds) durations_.Observe({method}, *seconds);
}

HttpResponse HttpBridge::Metrics() {
  PrometheusText text;
  requests_.Render(&text);
  errors_.Render(&text);
  durations_.Render(&text);
  text.Family("skydeck_http_open_streams", MetricType::kGauge,
              "Server-Sent Event streams open now.");
  text.Sample("skydeck_http_open_streams", {}, active_streams_.load());
  text.Family("skydeck_http_open_connections", MetricType::kGauge,
              "HTTP connections open now (streams, requests, idle keep-alive).");
  text.Sample("skydeck_http_open_connections", {}, server_->open_connections());
  text.Family("skydeck_http_header_timeouts_total", MetricType::kCounter,
              "HTTP connections closed because a request's headers were not complete in time.");
  text.Sample("skydeck_http_header_timeouts_total", {},
              static_cast<double>(server_->header_timeouts()));
  if (options_.extra_metrics) text.Append(options_.extra_metrics());
  return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", {}, text.text()};
}

}  // namespace skydeck::web
