#include "web/bridge/http_server.h"

#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <vector>

#include <sys/resource.h>
#include <sys/socket.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

#include "common/log.h"
#include "web/bridge/listen_socket.h"

namespace skydeck::web {
namespace {

using Clock = std::chrono::steady_clock;
constexpr Clock::time_point kNoDeadline = Clock::time_point::max();
// How often deadlines and stream keep-alives are checked.
constexpr std::chrono::milliseconds kTick{50};
constexpr int kListenBacklog = 1024;

// Each connection is a file descriptor: make sure the process may open as
// many as the server may accept (the usual soft limit is 1024).
void RaiseFileLimit(int connections) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  rlim_t wanted = static_cast<rlim_t>(connections) + 256;  // + database, gRPC, logs
  if (limit.rlim_cur >= wanted) return;
  rlim_t granted = std::min(wanted, limit.rlim_max);
  limit.rlim_cur = granted;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0 || granted < wanted) {
    LogWarn("the open-file limit is below what the HTTP connection limit needs",
            {{"limit", std::to_string(granted)}, {"needed", std::to_string(wanted)}});
  }
}

}  // namespace

struct HttpServer::Connection {
  int fd = -1;
  Clock::time_point deadline = kNoDeadline;  // for the current request's headers
};

// C entry points for libmicrohttpd; each forwards to the server or the
// request's exchange.
struct MhdCallbacks {
  static MHD_Result Access(void*, MHD_Connection*, const char*, const char* method, const char*,
                           const char* upload_data, size_t* upload_data_size, void** context) {
    auto* exchange = static_cast<std::shared_ptr<HttpExchange>*>(*context);
    if (exchange == nullptr) return MHD_NO;  // every request line makes one
    return (*exchange)->OnAccess(method, upload_data, upload_data_size);
  }
  static void* RequestLine(void* cls, const char* uri, MHD_Connection* connection) {
    return static_cast<HttpServer*>(cls)->OnRequestLine(uri, connection);
  }
  static void Completed(void* cls, MHD_Connection* connection, void** context,
                        MHD_RequestTerminationCode) {
    static_cast<HttpServer*>(cls)->OnRequestCompleted(connection, context);
  }
  static void Notify(void* cls, MHD_Connection* connection, void** socket_context,
                     MHD_ConnectionNotificationCode code) {
    static_cast<HttpServer*>(cls)->OnConnection(connection, socket_context, code);
  }
  // libmicrohttpd's own messages (malformed requests, limits reached).
  static void Logger(void*, const char* format, va_list args) {
    char text[512];
    std::vsnprintf(text, sizeof(text), format, args);
    LogDebug("libmicrohttpd", {{"message", std::string(absl::StripTrailingAsciiWhitespace(text))}});
  }
};

HttpServer::HttpServer(HttpServerOptions options, HttpHandler* handler)
    : options_(std::move(options)), handler_(handler) {}

HttpServer::~HttpServer() { Stop(); }

absl::StatusOr<int> HttpServer::Start() {
  absl::StatusOr<ListenSocket> socket =
      OpenListenSocket(options_.host, options_.port, kListenBacklog);
  if (!socket.ok()) return socket.status();
  RaiseFileLimit(options_.limits.max_connections);
  unsigned int flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME |
                       MHD_USE_ERROR_LOG | (socket->ipv6 ? MHD_USE_IPv6 : 0);
  auto fn = [](auto f) { return reinterpret_cast<intptr_t>(f); };  // MHD's own encoding
  auto n = [](auto v) { return static_cast<intptr_t>(v); };
  std::vector<MHD_OptionItem> items = {
      {MHD_OPTION_LISTEN_SOCKET, n(socket->fd), nullptr},
      {MHD_OPTION_CONNECTION_LIMIT, n(options_.limits.max_connections), nullptr},
      {MHD_OPTION_PER_IP_CONNECTION_LIMIT, n(options_.limits.max_connections_per_client), nullptr},
      {MHD_OPTION_CONNECTION_TIMEOUT, n(options_.limits.idle_timeout.count()), nullptr},
      {MHD_OPTION_URI_LOG_CALLBACK, fn(&MhdCallbacks::RequestLine), this},
      {MHD_OPTION_NOTIFY_COMPLETED, fn(&MhdCallbacks::Completed), this},
      {MHD_OPTION_NOTIFY_CONNECTION, fn(&MhdCallbacks::Notify), this},
  };
  // A pool of one is no pool (libmicrohttpd wants the option left out).
  if (options_.event_threads > 1) {
    items.push_back({MHD_OPTION_THREAD_POOL_SIZE, n(options_.event_threads), nullptr});
  }
  items.push_back({MHD_OPTION_END, 0, nullptr});
  // The logger first, so that it gets every message.
  daemon_ = MHD_start_daemon(flags, 0, nullptr, nullptr, &MhdCallbacks::Access, this,
                             MHD_OPTION_EXTERNAL_LOGGER, &MhdCallbacks::Logger, this,
                             MHD_OPTION_ARRAY, items.data(), MHD_OPTION_END);
  if (daemon_ == nullptr) {
    close(socket->fd);
    return absl::InternalError(absl::StrCat("the HTTP server (libmicrohttpd) did not start on ",
                                            options_.host, ":", socket->port));
  }
  listen_fd_ = socket->fd;
  ticker_ = std::thread([this] { RunTicker(); });
  return socket->port;
}

void HttpServer::Stop() {
  if (stopping_.exchange(true) || daemon_ == nullptr) return;
  MHD_quiesce_daemon(daemon_);  // no new connections
  ticker_stop_.Notify();
  if (ticker_.joinable()) ticker_.join();
  // libmicrohttpd must not be stopped with a suspended connection: wake
  // them all. Once stopping() is true nothing suspends again; woken
  // requests answer 503 and streams end.
  std::vector<std::weak_ptr<HttpExchange>> alive;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [ptr, weak] : exchanges_) alive.push_back(weak);
  }
  for (const auto& weak : alive) {
    if (auto exchange = weak.lock()) exchange->WakeForShutdown();
  }
  MHD_stop_daemon(daemon_);  // closes every connection: OnCompleted for each
  daemon_ = nullptr;
  close(listen_fd_);
  listen_fd_ = -1;
}

int HttpServer::open_connections() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(connections_.size());
}

void* HttpServer::OnRequestLine(const char* uri, MHD_Connection* connection) {
  auto exchange = std::make_shared<HttpExchange>(this, connection, uri);
  auto* info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  auto* conn = info == nullptr ? nullptr : static_cast<Connection*>(info->socket_context);
  absl::MutexLock lock(&mu_);
  exchanges_.emplace(exchange.get(), exchange);
  if (conn != nullptr) {
    conn->deadline = std::min(conn->deadline, Clock::now() + options_.limits.header_timeout);
  }
  return new std::shared_ptr<HttpExchange>(std::move(exchange));
}

void HttpServer::OnRequestCompleted(MHD_Connection* connection, void** context) {
  auto* holder = static_cast<std::shared_ptr<HttpExchange>*>(*context);
  if (holder == nullptr) return;
  *context = nullptr;
  std::shared_ptr<HttpExchange> exchange = std::move(*holder);
  delete holder;
  auto* info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  auto* conn = info == nullptr ? nullptr : static_cast<Connection*>(info->socket_context);
  {
    absl::MutexLock lock(&mu_);
    exchanges_.erase(exchange.get());
    streams_.erase(exchange.get());
    // Kept alive for a next request: it may idle (idle_timeout), then it
    // has header_timeout for that request's headers.
    if (conn != nullptr) {
      conn->deadline = Clock::now() + options_.limits.idle_timeout + options_.limits.header_timeout;
    }
  }
  exchange->OnCompleted();
}

void HttpServer::OnConnection(MHD_Connection* connection, void** socket_context,
                              MHD_ConnectionNotificationCode code) {
  if (code == MHD_CONNECTION_NOTIFY_STARTED) {
    auto* conn = new Connection();
    const auto* info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    conn->fd = info == nullptr ? -1 : info->connect_fd;
    conn->deadline = Clock::now() + options_.limits.header_timeout;
    *socket_context = conn;
    absl::MutexLock lock(&mu_);
    connections_.emplace(connection, conn);
    return;
  }
  // Closed: libmicrohttpd closes the socket after this returns, so the
  // ticker (which shuts sockets down under mu_) never touches a reused fd.
  auto* conn = static_cast<Connection*>(*socket_context);
  {
    absl::MutexLock lock(&mu_);
    connections_.erase(connection);
  }
  delete conn;
  *socket_context = nullptr;
}

void HttpServer::HeadersArrived(MHD_Connection* connection) {
  absl::MutexLock lock(&mu_);
  auto it = connections_.find(connection);
  if (it != connections_.end()) it->second->deadline = kNoDeadline;
}

void HttpServer::StreamOpened(HttpExchange* exchange) {
  absl::MutexLock lock(&mu_);
  auto it = exchanges_.find(exchange);
  if (it != exchanges_.end()) streams_.emplace(exchange, it->second);
}

void HttpServer::Tick() {
  Clock::time_point now = Clock::now();
  std::vector<std::weak_ptr<HttpExchange>> streams;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [connection, conn] : connections_) {
      if (conn->deadline > now || conn->fd < 0) continue;
      // Counted first: the client may see the close before this returns.
      header_timeouts_++;
      conn->deadline = kNoDeadline;
      // The event loop sees the shut-down socket and closes the connection.
      shutdown(conn->fd, SHUT_RDWR);
    }
    streams.reserve(streams_.size());
    for (const auto& [ptr, weak] : streams_) streams.push_back(weak);
  }
  for (const auto& weak : streams) {
    if (auto stream = weak.lock()) stream->KeepAlive(now);
  }
}

void HttpServer::RunTicker() {
  while (!ticker_stop_.WaitForNotificationWithTimeout(absl::FromChrono(kTick))) Tick();
}

}  // namespace skydeck::web
