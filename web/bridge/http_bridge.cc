#include "web/bridge/http_bridge.h"

#include <httplib.h>


#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "skydeck/v1/service.pb.h"
#include "web/bridge/http_errors.h"
#include "web/bridge/request_mapping.h"
#include "web/bridge/request_origin.h"
#include "web/bridge/sse_encoder.h"

namespace skydeck::web {
namespace {

// The rpc label of API requests that match no route (404, 405).
constexpr char kUnmatchedRoute[] = "unmatched";

using google::protobuf::Message;
using google::protobuf::MessageFactory;

void SendError(httplib::Response& res, grpc::StatusCode code, const std::string& message) {
  res.status = HttpStatusFor(code);
  res.set_content(ErrorBody(code, message), "application/json");
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

// How often an idle stream checks for shutdown.
constexpr std::chrono::milliseconds kStreamTick{250};

std::string GrpcPath(const google::protobuf::MethodDescriptor* m) {
  return absl::StrCat("/", m->service()->full_name(), "/", m->name());
}

}  // namespace

HttpBridge::HttpBridge(std::shared_ptr<grpc::Channel> channel, BridgeOptions options)
    : options_(std::move(options)), caller_(std::move(channel)) {
  static_files_ = options_.web_root.empty() ? StaticFiles::FromEmbedded(options_.embedded_files)
                                            : StaticFiles::FromDirectory(options_.web_root);
  // Touching a generated message ties service.proto's descriptors into the
  // binary; the service itself is then found by name.
  const auto* service = options_.service != nullptr
                            ? options_.service
                            : skydeck::v1::GetHealthRequest::descriptor()->file()->FindServiceByName(
                                  "SkyDeck");
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
  server_ = std::make_unique<httplib::Server>();
  int threads = std::max(options_.threads, 24);
  server_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server_->set_payload_max_length(options_.max_body_bytes);
  // httplib writes a response's headers and body separately; with Nagle on,
  // the body of a keep-alive response waits for the client's delayed ACK
  // (~40 ms a request; bench/README.md has the before/after figures).
  server_->set_tcp_nodelay(true);
  server_->set_read_timeout(std::chrono::seconds(30));
  server_->set_write_timeout(std::chrono::seconds(30));
  // Host and Origin are checked before any route: see request_origin.h.
  OriginPolicy policy{!options_.token.empty(), options_.allowed_hosts};
  server_->set_pre_routing_handler([this, policy](const httplib::Request& req,
                                                  httplib::Response& res) {
    absl::Status allowed = CheckRequestOrigin(policy, req.method, req.get_header_value("Host"),
                                              req.get_header_value("Origin"));
    if (!allowed.ok()) {
      SendError(res, grpc::StatusCode::PERMISSION_DENIED, std::string(allowed.message()));
      return httplib::Server::HandlerResponse::Handled;
    }
    // A request with neither Content-Length nor Transfer-Encoding has no
    // body (RFC 9112 6.3), but httplib 0.11 reads a POST/PUT/PATCH/DELETE
    // without them until the client closes: `curl -X POST` waited 30 s for
    // a 400. Serve it here, before httplib starts reading.
    bool may_have_body = req.method == "POST" || req.method == "PUT" || req.method == "PATCH" ||
                         req.method == "DELETE";
    if (may_have_body && !req.has_header("Content-Length") &&
        !req.has_header("Transfer-Encoding")) {
      if (absl::StartsWith(req.path, "/api/")) {
        HandleApi(req, res);
      } else {
        SendError(res, grpc::StatusCode::NOT_FOUND, "no such path");
      }
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  auto api = [this](const httplib::Request& req, httplib::Response& res) { HandleApi(req, res); };
  server_->Get(R"(/api/.*)", api);
  server_->Post(R"(/api/.*)", api);
  server_->Patch(R"(/api/.*)", api);
  server_->Put(R"(/api/.*)", api);
  server_->Delete(R"(/api/.*)", api);
  server_->Get("/metrics", [this](const httplib::Request& req, httplib::Response& res) {
    HandleMetrics(req, res);
  });
  server_->Get(R"(/.*)", [this](const httplib::Request& req, httplib::Response& res) {
    HandleStatic(req, res);
  });
  server_->set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty()) {
      HttpServerError error = HttpServerErrorFor(res.status);
      int status = res.status;
      res.set_content(ErrorBody(error.code, error.message), "application/json");
      res.status = status;
    }
  });
  int port = options_.port == 0 ? server_->bind_to_any_port(options_.host)
                                : (server_->bind_to_port(options_.host, options_.port)
                                       ? options_.port
                                       : -1);
  if (port <= 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options_.host, ":", options_.port));
  }
  listener_exited_ = false;
  thread_ = std::thread([this] {
    server_->listen_after_bind();
    listener_exited_ = true;
  });
  // httplib's stop() does nothing until the listen loop runs, so a Stop()
  // right after Start() (a SIGTERM just after start-up) would join a thread
  // that never ends. Wait for the loop to start (later httplib versions call
  // this wait_until_ready()), or for the listener to give up on its own:
  // httplib marks itself running first thing in the listen call, so this
  // wait is short either way.
  while (!server_->is_running() && !listener_exited_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (listener_exited_) {
    thread_.join();
    return absl::UnavailableError(
        absl::StrCat("HTTP listener on ", options_.host, ":", port, " stopped at start-up"));
  }
  return port;
}

void HttpBridge::Stop() {
  stopping_ = true;  // open streams end at their next tick
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

bool HttpBridge::Authorized(const httplib::Request& req, bool allow_query_token) const {
  if (options_.token.empty()) return true;
  std::string header = req.get_header_value("Authorization");
  if (absl::StartsWith(header, "Bearer ") &&
      ConstantTimeEquals(header.substr(7), options_.token)) {
    return true;
  }
  return allow_query_token && req.has_param("access_token") &&
         ConstantTimeEquals(req.get_param_value("access_token"), options_.token);
}

void HttpBridge::HandleApi(const httplib::Request& req, httplib::Response& res) {
  auto started = std::chrono::steady_clock::now();
  // Every request is counted once, with its final HTTP status: refused ones
  // (no route, no token, wrong content type, bad parameters) included. An
  // opened stream is counted when it ends (HandleStream).
  std::string rpc = kUnmatchedRoute;
  bool stream_opened = false;
  absl::Cleanup record = [&] {
    if (stream_opened) return;
    Record(rpc, res.status >= 400,
           std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  };
  auto match = routes_.Match(req.method, req.path);
  if (!match.ok()) {
    bool wrong_verb = absl::IsFailedPrecondition(match.status());
    res.status = wrong_verb ? 405 : 404;
    res.set_content(ErrorBody(wrong_verb ? grpc::StatusCode::UNIMPLEMENTED
                                         : grpc::StatusCode::NOT_FOUND,
                              std::string(match.status().message())),
                    "application/json");
    return;
  }
  const Route& route = *match->route;
  rpc = route.method->name();
  if (!Authorized(req, route.server_streaming())) {
    res.set_header("WWW-Authenticate", "Bearer");
    SendError(res, grpc::StatusCode::UNAUTHENTICATED, "missing or wrong bearer token");
    return;
  }
  bool changes_state = req.method == "POST" || req.method == "PATCH" || req.method == "PUT";
  // No body and no Content-Type (`curl -X POST`) is the empty request `{}`;
  // a cross-site page cannot forge that either: it would carry an Origin.
  std::string content_type = req.get_header_value("Content-Type");
  bool json_or_nothing = absl::StartsWith(content_type, "application/json") ||
                         (content_type.empty() && req.body.empty());
  if (changes_state && !json_or_nothing) {
    res.status = 415;
    res.set_content(ErrorBody(grpc::StatusCode::INVALID_ARGUMENT,
                              "state-changing requests must have Content-Type: application/json"),
                    "application/json");
    return;
  }
  std::unique_ptr<Message> request = NewMessage(route.method->input_type());
  QueryParams query;
  for (const auto& [k, v] : req.params) {
    if (k != "access_token") query.emplace_back(k, v);
  }
  if (absl::Status s = FillRequest(match->path_params, query, req.body, request.get()); !s.ok()) {
    SendError(res, grpc::StatusCode::INVALID_ARGUMENT, std::string(s.message()));
    return;
  }
  CallOptions call;
  if (!options_.token.empty()) call.metadata.emplace("authorization", "Bearer " + options_.token);
  std::string actor = req.get_header_value("X-SkyDeck-Actor");
  call.metadata.emplace("x-skydeck-actor", actor.empty() ? "web" : actor);
  std::string serialized = request->SerializeAsString();
  if (route.server_streaming()) {
    stream_opened = HandleStream(*match, serialized, std::move(call), res);
    return;
  }
  std::string response_bytes;
  grpc::Status status = caller_.Unary(GrpcPath(route.method), serialized, call, &response_bytes);
  if (!status.ok()) {
    SendError(res, status.error_code(), status.error_message());
    return;
  }
  std::unique_ptr<Message> response = NewMessage(route.method->output_type());
  if (!response->ParseFromString(response_bytes)) {
    SendError(res, grpc::StatusCode::INTERNAL, "unparsable response from the daemon");
    return;
  }
  auto json = MessageToJson(*response);
  if (!json.ok()) {
    SendError(res, grpc::StatusCode::INTERNAL, std::string(json.status().message()));
    return;
  }
  res.set_header("Cache-Control", "no-store");
  res.set_content(*json, "application/json");
}

bool HttpBridge::HandleStream(const RouteMatch& match, const std::string& request,
                              CallOptions call, httplib::Response& res) {
  int limit = std::max(options_.threads, 24) - 16;
  if (active_streams_.load() >= limit) {
    SendError(res, grpc::StatusCode::RESOURCE_EXHAUSTED,
              absl::StrCat("too many open streams (", limit, "); try again later"));
    return false;
  }
  const google::protobuf::MethodDescriptor* method = match.route->method;
  res.set_header("Cache-Control", "no-store");
  res.set_header("X-Accel-Buffering", "no");
  res.set_chunked_content_provider(
      "text/event-stream",
      [this, method, request, call](size_t offset, httplib::DataSink& sink) {
        if (offset != 0) return false;  // the stream ran to completion already
        active_streams_++;
        bool client_gone = false;
        auto last_write = std::chrono::steady_clock::now();
        auto write = [&](const std::string& text) {
          if (client_gone) return false;
          client_gone = !sink.write(text.data(), text.size());
          last_write = std::chrono::steady_clock::now();
          return !client_gone;
        };
        write(": connected\n\n");
        SseEncoder encoder(method->output_type());
        grpc::Status status = caller_.ServerStream(
            GrpcPath(method), request, call,
            [&](const std::string& bytes) {
              std::unique_ptr<Message> msg = NewMessage(method->output_type());
              if (!msg->ParseFromString(bytes)) return false;
              auto event = encoder.Encode(*msg);
              return event.ok() && (event->empty() || write(*event));
            },
            [&] {
              // Called every tick while no message arrives: end on shutdown,
              // and probe the client with a comment once per keep-alive.
              if (stopping_) return false;
              if (std::chrono::steady_clock::now() - last_write < options_.keepalive) return true;
              return write(": ping\n\n");
            },
            std::min<std::chrono::milliseconds>(options_.keepalive, kStreamTick));
        if (std::string rest = encoder.Finish(); !rest.empty()) write(rest);
        if (!client_gone && !status.ok() && status.error_code() != grpc::StatusCode::CANCELLED) {
          write(absl::StrCat("event: error\ndata: ",
                             ErrorBody(status.error_code(), status.error_message()), "\n\n"));
        }
        Record(method->name(), !status.ok() && status.error_code() != grpc::StatusCode::CANCELLED,
               std::nullopt);
        active_streams_--;
        if (!client_gone) sink.done();
        return !client_gone;
      });
  return true;
}

void HttpBridge::HandleStatic(const httplib::Request& req, httplib::Response& res) {
  auto file = static_files_.Resolve(req.path);
  if (!file) {
    res.status = 404;
    res.set_content(static_files_.available() ? "not found\n"
                                              : "the dashboard is not built; the API is at /api\n",
                    "text/plain; charset=utf-8");
    return;
  }
  res.set_header("Cache-Control", file->cache_control);
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_content(std::move(file->body), file->content_type);
}

void HttpBridge::Record(const std::string& method, bool error, std::optional<double> seconds) {
  requests_.Add({method});
  // Touched on success too, so every RPC's error series exists from 0.
  errors_.Add({method}, error ? 1 : 0);
  if (seconds) durations_.Observe({method}, *seconds);
}

void HttpBridge::HandleMetrics(const httplib::Request& req, httplib::Response& res) {
  if (!Authorized(req, false)) {
    SendError(res, grpc::StatusCode::UNAUTHENTICATED, "missing or wrong bearer token");
    return;
  }
  PrometheusText text;
  requests_.Render(&text);
  errors_.Render(&text);
  durations_.Render(&text);
  text.Family("skydeck_http_open_streams", MetricType::kGauge,
              "Server-Sent Event streams open now.");
  text.Sample("skydeck_http_open_streams", {}, active_streams_.load());
  if (options_.extra_metrics) text.Append(options_.extra_metrics());
  res.set_content(text.text(), "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace skydeck::web
