// File: web/bridge/http_server.h
//
// The bridge's HTTP/1.1 server: GNU libmicrohttpd with epoll on a few
// event-loop threads (docs/design.md says why this library). Slow or idle
// clients cost a socket and a little memory, never a thread:
//
// - The handler sees a request's headers before its body is read
//   (OnHeaders) and can answer at once (401, 413, ...): the body is then
//   never read, whatever its transfer encoding. A body is read only up to
//   max_body_bytes: a longer Content-Length gets 413 before it is read, a
//   chunked body that grows past it closes the connection (libmicrohttpd
//   cannot answer in the middle of a body).
// - Headers must be complete within HttpLimits::header_timeout; idle
//   connections close after idle_timeout; connections are capped in all
//   and per client address.
// - A request being worked on, or a stream waiting for data, is suspended:
//   see http_exchange.h.
//
//   HttpServer server({.host = "127.0.0.1", .port = 0}, &handler);
//   ASSIGN_OR_RETURN(int port, server.Start());
//   ...
//   server.Stop();
//
// Thread-safety: Start and Stop from one thread; the handler is called on
// event-loop threads and must not block (see HttpHandler).
#pragma once

#include <microhttpd.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"

#include "web/bridge/http_exchange.h"
#include "web/bridge/http_limits.h"

namespace skydeck::web {

// What the application does with requests. Both methods run on event-loop
// threads: they must not block (no gRPC wait, no disk, no heavy CPU); hand
// such work to other threads and answer through the exchange later.
class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  // The request's headers are in, its body is not read yet. A response
  // answers at once (a body, if any, is never read and the connection
  // closes after the answer); nullopt reads the body and calls OnRequest.
  virtual std::optional<HttpResponse> OnHeaders(const HttpRequest& request) = 0;
  // The whole request is in: answer it through `exchange`, now or later.
  virtual void OnRequest(std::shared_ptr<HttpExchange> exchange) = 0;
};

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: a free port
  HttpLimits limits;
  size_t max_body_bytes = 1 << 20;
  // Event-loop threads; each runs its own epoll over its share of the
  // connections.
  int event_threads = 2;
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, HttpHandler* handler);
  ~HttpServer();  // Stop()

  // Binds (SO_REUSEPORT off: a busy port is an error) and starts the
  // event loops; returns the port. Errors: see OpenListenSocket; INTERNAL
  // when libmicrohttpd does not start.
  absl::StatusOr<int> Start();

  // Stops accepting, ends open streams and waiting requests (503), closes
  // every connection. When it returns no handler call runs or will run.
  // Idempotent.
  void Stop();

  bool stopping() const { return stopping_.load(); }
  int open_connections() const;
  // Connections cut because their headers were not complete in time.
  int64_t header_timeouts() const { return header_timeouts_.load(); }

  // --- For HttpExchange (event-loop threads). ---
  HttpHandler* handler() const { return handler_; }
  size_t max_body_bytes() const { return options_.max_body_bytes; }
  // The request on `connection` has its headers: no header deadline now.
  void HeadersArrived(MHD_Connection* connection);
  // `exchange` streams: the ticker keeps it alive. Removed when completed.
  void StreamOpened(HttpExchange* exchange);

 private:
  struct Connection;  // per-connection deadline state

  // libmicrohttpd callbacks (C trampolines in the .cc).
  friend struct MhdCallbacks;
  void* OnRequestLine(const char* uri, MHD_Connection* connection);
  void OnRequestCompleted(MHD_Connection* connection, void** request_context);
  void OnConnection(MHD_Connection* connection, void** socket_context,
                    MHD_ConnectionNotificationCode code);

  // Cuts connections past their header deadline; keeps streams alive.
  void Tick();
  void RunTicker();

  const HttpServerOptions options_;
  HttpHandler* const handler_;
  MHD_Daemon* daemon_ = nullptr;
  int listen_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> header_timeouts_{0};

  mutable absl::Mutex mu_;
  std::unordered_map<MHD_Connection*, Connection*> connections_ ABSL_GUARDED_BY(mu_);
  // Exchanges alive (created, not completed) and those streaming.
  std::unordered_map<HttpExchange*, std::weak_ptr<HttpExchange>> exchanges_ ABSL_GUARDED_BY(mu_);
  std::unordered_map<HttpExchange*, std::weak_ptr<HttpExchange>> streams_ ABSL_GUARDED_BY(mu_);

  absl::Notification ticker_stop_;  // the ticker waits on it between ticks
  std::thread ticker_;
};

}  // namespace skydeck::web
