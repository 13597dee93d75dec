// The event-driven HTTP server on its own, with a test handler and raw
// sockets: answers from other threads, no thread per waiting request,
// refusals before the body, body limits for every encoding, header and
// idle timeouts, per-client limits, streams, and shutdown.
#include "web/bridge/http_server.h"

#include <httplib.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <sys/socket.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "raw_http_client.h"

namespace skydeck::web {
namespace {

using namespace std::chrono_literals;
using test_support::Eventually;
using test_support::RawClient;

class TestHandler : public HttpHandler {
 public:
  std::function<std::optional<HttpResponse>(const HttpRequest&)> on_headers =
      [](const HttpRequest&) { return std::nullopt; };
  // Default: answer at once with the path.
  std::function<void(std::shared_ptr<HttpExchange>)> on_request =
      [](std::shared_ptr<HttpExchange> e) {
        e->Respond({200, "text/plain", {}, "path=" + e->request().path});
      };
  std::atomic<int> requests{0};

  std::optional<HttpResponse> OnHeaders(const HttpRequest& r) override { return on_headers(r); }
  void OnRequest(std::shared_ptr<HttpExchange> e) override {
    requests++;
    on_request(std::move(e));
  }
};

struct ServerFixture {
  TestHandler handler;
  std::unique_ptr<HttpServer> server;
  int port = 0;

  explicit ServerFixture(HttpServerOptions options = {}) { Start(std::move(options)); }
  void Start(HttpServerOptions options) {
    options.port = 0;
    server = std::make_unique<HttpServer>(options, &handler);
    auto started = server->Start();
    REQUIRE(started.ok());
    port = *started;
  }
  ~ServerFixture() { server->Stop(); }
  httplib::Client Client() {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(10s);
    return c;
  }
};

// Exchanges the test answers later, from its own thread.
class Parked {
 public:
  void Add(std::shared_ptr<HttpExchange> e) {
    absl::MutexLock lock(&mu_);
    exchanges_.push_back(std::move(e));
  }
  size_t size() {
    absl::MutexLock lock(&mu_);
    return exchanges_.size();
  }
  void RespondAll(int status) {
    absl::MutexLock lock(&mu_);
    for (auto& e : exchanges_) e->Respond({status, "text/plain", {}, "late"});
    exchanges_.clear();
  }

 private:
  absl::Mutex mu_;
  std::vector<std::shared_ptr<HttpExchange>> exchanges_;
};

std::string Get(const std::string& path) {
  return absl::StrCat("GET ", path, " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
}

TEST_CASE("requests are answered from any thread, later", "[bridge][server]") {
  ServerFixture f;
  f.handler.on_request = [](std::shared_ptr<HttpExchange> e) {
    std::thread([e] {
      std::this_thread::sleep_for(20ms);
      e->Respond({201, "application/json", {{"X-Test", "yes"}}, R"({"ok":true})"});
    }).detach();
  };
  auto c = f.Client();
  auto res = c.Get("/later?x=1");
  REQUIRE(res);
  CHECK(res->status == 201);
  CHECK(res->body == R"({"ok":true})");
  CHECK(res->get_header_value("Content-Type") == "application/json");
  CHECK(res->get_header_value("X-Test") == "yes");
}

// The old server gave each connection a pool thread until its answer:
// 96 waiting requests took every thread and nothing else was served.
TEST_CASE("requests waiting for an answer hold no thread", "[bridge][server]") {
  HttpServerOptions options;
  options.limits.max_connections_per_client = 0;  // all from 127.0.0.1
  ServerFixture f(options);
  Parked parked;
  f.handler.on_request = [&](std::shared_ptr<HttpExchange> e) {
    if (e->request().path == "/now") {
      e->Respond({200, "text/plain", {}, "now"});
    } else {
      parked.Add(std::move(e));
    }
  };
  std::vector<std::unique_ptr<RawClient>> waiting;
  for (int i = 0; i < 300; ++i) {
    waiting.push_back(std::make_unique<RawClient>(f.port));
    REQUIRE(waiting.back()->Send(Get("/wait")));
  }
  REQUIRE(Eventually([&] { return parked.size() == 300; }));
  auto c = f.Client();
  auto now = c.Get("/now");
  REQUIRE(now);
  CHECK(now->body == "now");
  parked.RespondAll(200);
  for (auto& w : waiting) CHECK_THAT(w->ReadUntil("late"), Catch::StartsWith("HTTP/1.1 200"));
}

TEST_CASE("the raw path and query reach the handler", "[bridge][server]") {
  ServerFixture f;
  HttpRequest seen;
  f.handler.on_request = [&](std::shared_ptr<HttpExchange> e) {
    seen = e->request();
    e->Respond({200, "text/plain", {}, "ok"});
  };
  RawClient raw(f.port);
  REQUIRE(raw.Send("GET /api/a%2Fb/c?x=a+b&y=%3D HTTP/1.1\r\nHost: h\r\nX-Two: 2\r\n\r\n"));
  raw.ReadUntil("ok");
  CHECK(seen.method == "GET");
  CHECK(seen.path == "/api/a%2Fb/c");
  CHECK(seen.query == "x=a+b&y=%3D");
  CHECK(seen.Header("x-two") == "2");
  CHECK(seen.Header("Host") == "h");
  CHECK(seen.Header("missing").empty());
}

TEST_CASE("a request refused at its headers never has its body read", "[bridge][server]") {
  HttpServerOptions options;
  options.max_body_bytes = 1 << 20;
  ServerFixture f(options);
  f.handler.on_headers = [](const HttpRequest&) {
    return HttpResponse{401, "text/plain", {}, "no token"};
  };
  SECTION("chunked, unfinished") {
    RawClient raw(f.port);
    REQUIRE(
        raw.Send("POST /api/x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "10000\r\n" +
                 std::string(0x10000, 'x') + "\r\n"));
    CHECK_THAT(raw.ReadUntil("no token"), Catch::StartsWith("HTTP/1.1 401"));
    CHECK(raw.WaitClosed());
  }
  SECTION("a huge Content-Length") {
    RawClient raw(f.port);
    REQUIRE(raw.Send("POST /api/x HTTP/1.1\r\nHost: h\r\nContent-Length: 314572800\r\n\r\n" +
                     std::string(1000, 'x')));
    CHECK_THAT(raw.ReadUntil("no token"), Catch::StartsWith("HTTP/1.1 401"));
    CHECK(raw.WaitClosed());
  }
  SECTION("a short body is dropped and the connection stays usable") {
    RawClient raw(f.port);
    REQUIRE(raw.Send("POST /api/x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello" +
                     Get("/again")));
    // Both requests answered on the one connection.
    CHECK(raw.ReadUntilCount("no token", 2));
  }
  CHECK(f.handler.requests == 0);
}

TEST_CASE("bodies over the limit get 413, whatever their encoding", "[bridge][server]") {
  HttpServerOptions options;
  options.max_body_bytes = 1024;
  ServerFixture f(options);
  SECTION("Content-Length over the limit: read, dropped, answered") {
    RawClient raw(f.port);
    REQUIRE(raw.Send("POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 4096\r\n\r\n" +
                     std::string(4096, 'x') + Get("/next")));
    CHECK_THAT(raw.ReadUntil("path=/next"), Catch::StartsWith("HTTP/1.1 413"));
    CHECK(f.handler.requests == 1);  // only /next
  }
  SECTION("a Content-Length too long to drop: answered, never read") {
    RawClient raw(f.port);
    REQUIRE(raw.Send("POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 104857600\r\n\r\nxx"));
    CHECK_THAT(raw.ReadUntil("too large"), Catch::StartsWith("HTTP/1.1 413"));
    CHECK(raw.WaitClosed());
    CHECK(f.handler.requests == 0);
  }
  SECTION("chunked over the limit") {
    RawClient raw(f.port);
    REQUIRE(
        raw.Send("POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "800\r\n" +
                 std::string(0x800, 'x') + "\r\n0\r\n\r\n"));
    CHECK_THAT(raw.ReadUntil("too large"), Catch::StartsWith("HTTP/1.1 413"));
    CHECK(f.handler.requests == 0);
  }
  SECTION("chunked that goes on and on is cut off") {
    RawClient raw(f.port);
    REQUIRE(raw.Send("POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"));
    std::string chunk = "10000\r\n" + std::string(0x10000, 'x') + "\r\n";
    int sent = 0;
    while (sent < 1000 && raw.Send(chunk)) ++sent;  // 64 MiB at most
    CHECK(sent < 1000);
    CHECK(raw.WaitClosed());
    CHECK(f.handler.requests == 0);
  }
  SECTION("at the limit is fine") {
    auto c = f.Client();
    auto res = c.Post("/x", std::string(1024, 'x'), "text/plain");
    REQUIRE(res);
    CHECK(res->status == 200);
  }
}

TEST_CASE("headers must be complete in time (slowloris)", "[bridge][server]") {
  HttpServerOptions options;
  options.limits.header_timeout = 300ms;
  ServerFixture f(options);
  RawClient slow(f.port);
  REQUIRE(slow.Send("GET / HTTP/1.1\r\n"));
  // Dribble a header byte at a time; never finish.
  std::atomic<bool> stop{false};
  std::thread dribbler([&] {
    while (!stop && slow.Send("X")) std::this_thread::sleep_for(50ms);
  });
  CHECK(slow.WaitClosed());
  stop = true;
  dribbler.join();
  CHECK(f.server->header_timeouts() == 1);
  CHECK(f.handler.requests == 0);
  // A prompt client is served meanwhile and after.
  auto c = f.Client();
  auto res = c.Get("/fine");
  REQUIRE(res);
  CHECK(res->body == "path=/fine");
}

TEST_CASE("connections per client address are limited", "[bridge][server]") {
  HttpServerOptions options;
  options.limits.max_connections_per_client = 2;
  ServerFixture f(options);
  RawClient a(f.port), b(f.port);
  REQUIRE(a.Send(Get("/a")));
  REQUIRE(b.Send(Get("/b")));
  a.ReadUntil("path=/a");
  b.ReadUntil("path=/b");
  RawClient third(f.port);
  third.Send(Get("/c"));
  CHECK(third.WaitClosed());
  CHECK_FALSE(absl::StrContains(third.received(), "path=/c"));
}

TEST_CASE("idle connections are closed", "[bridge][server]") {
  HttpServerOptions options;
  options.limits.idle_timeout = 1s;
  ServerFixture f(options);
  RawClient raw(f.port);
  REQUIRE(raw.Send(Get("/a")));
  raw.ReadUntil("path=/a");
  CHECK(raw.WaitClosed());
}

TEST_CASE("streams send what is written, keep-alives, then end", "[bridge][server][sse]") {
  std::atomic<bool> late_write_refused{false};
  std::atomic<bool> ping_seen{false};
  ServerFixture f;
  f.handler.on_request = [&](std::shared_ptr<HttpExchange> e) {
    StreamHooks hooks;
    hooks.keepalive = 20ms;
    hooks.keepalive_text = ": ping\n\n";
    e->OpenStream({200, "text/event-stream", {{"Cache-Control", "no-store"}}, ""},
                  std::move(hooks));
    std::thread([e, &late_write_refused, &ping_seen] {
      e->Write("data: one\n\n");
      // Quiet until the client has seen a keep-alive.
      Eventually([&] { return ping_seen.load(); });
      e->Write("data: two\n\n");
      e->Finish();
      late_write_refused = !e->Write("late").has_value();
    }).detach();
  };
  auto c = f.Client();
  std::string body;
  httplib::Headers response_headers;
  auto res = c.Get(
      "/stream",
      [&](const httplib::Response& r) {
        response_headers = r.headers;
        return true;
      },
      [&](const char* data, size_t len) {
        body.append(data, len);
        if (absl::StrContains(body, ": ping")) ping_seen = true;
        return true;
      });
  REQUIRE(res);
  CHECK(res->get_header_value("Content-Type") == "text/event-stream");
  CHECK(res->get_header_value("Cache-Control") == "no-store");
  CHECK_THAT(body, Catch::StartsWith("data: one\n\n"));
  CHECK_THAT(body, Catch::Contains(": ping\n\n") && Catch::EndsWith("data: two\n\n"));
  CHECK(Eventually([&] { return late_write_refused.load(); }));
}

// Fails from its second piece on, as zlib would out of memory.
class FailingCompressor final : public StreamCompressor {
 public:
  ContentCoding coding() const override { return ContentCoding::kGzip; }
  absl::StatusOr<std::string> Flush(absl::string_view piece) override {
    if (++pieces_ > 1) return absl::InternalError("out of memory");
    return std::string(piece);
  }
  absl::StatusOr<std::string> Finish() override { return std::string(); }

 private:
  int pieces_ = 0;
};

// A compressed stream cannot go on past a lost piece: the client must see
// a broken connection (EventSource reconnects), not a clean end.
TEST_CASE("a stream whose compressor fails is cut off", "[bridge][server][sse]") {
  ServerFixture f;
  std::atomic<bool> write_refused{false};
  f.handler.on_request = [&](std::shared_ptr<HttpExchange> e) {
    e->OpenStream({200, "text/event-stream", {}, ""}, StreamHooks(),
                  std::make_unique<FailingCompressor>());
    e->Write("data: one\n\n");
    write_refused = !e->Write("data: two\n\n").has_value();
    e->Finish();
  };
  RawClient raw(f.port);
  REQUIRE(raw.Send(Get("/stream")));
  CHECK(raw.WaitClosed());
  CHECK(write_refused);
  CHECK_THAT(raw.received(), Catch::Contains("Content-Encoding: gzip") &&
                                 !Catch::Contains("data: two") && !Catch::EndsWith("0\r\n\r\n"));
}

TEST_CASE("a client that leaves closes its stream", "[bridge][server][sse]") {
  ServerFixture f;
  std::atomic<bool> closed{false};
  std::shared_ptr<HttpExchange> stream;
  f.handler.on_request = [&](std::shared_ptr<HttpExchange> e) {
    StreamHooks hooks;
    hooks.keepalive = 20ms;
    hooks.keepalive_text = ": ping\n\n";
    hooks.on_closed = [&] { closed = true; };
    e->OpenStream({200, "text/event-stream", {}, ""}, std::move(hooks));
    e->Write(": connected\n\n");
    stream = e;
  };
  {
    RawClient raw(f.port);
    REQUIRE(raw.Send(Get("/stream")));
    raw.ReadUntil(": connected");
  }
  CHECK(Eventually([&] { return closed.load(); }));
  CHECK(stream->closed());
  CHECK_FALSE(stream->Write("data: x\n\n"));
}

TEST_CASE("Stop ends waiting requests and open streams", "[bridge][server]") {
  ServerFixture f;
  Parked parked;
  std::atomic<bool> stream_closed{false};
  f.handler.on_request = [&](std::shared_ptr<HttpExchange> e) {
    if (e->request().path == "/stream") {
      StreamHooks hooks;
      hooks.on_closed = [&] { stream_closed = true; };
      e->OpenStream({200, "text/event-stream", {}, ""}, std::move(hooks));
      e->Write(": connected\n\n");
    }
    parked.Add(std::move(e));
  };
  RawClient waiting(f.port), streaming(f.port);
  REQUIRE(waiting.Send(Get("/wait")));
  REQUIRE(streaming.Send(Get("/stream")));
  streaming.ReadUntil(": connected");
  REQUIRE(Eventually([&] { return parked.size() == 2; }));
  f.server->Stop();
  CHECK(stream_closed);
  // Woken by Stop, the waiting request answers 503 if the event loop still
  // runs, else its connection just closes; it never hangs.
  CHECK(waiting.WaitClosed());
  CHECK((waiting.received().empty() || absl::StartsWith(waiting.received(), "HTTP/1.1 503")));
  CHECK(streaming.WaitClosed());
  parked.RespondAll(200);  // too late: dropped
}

}  // namespace
}  // namespace skydeck::web
