// File: web/bridge/http_exchange.h
//
// One HTTP request and its answer, as HttpServer (http_server.h) hands it
// to the application. The event loop reads the request; the application
// answers whenever it is ready, from any thread, with one response or with
// a stream of unknown length (Server-Sent Events). While the application
// works, the connection is suspended: it costs no thread and no polling.
//
//   void OnRequest(std::shared_ptr<HttpExchange> exchange) override {
//     pool.Post([exchange] { exchange->Respond({.status = 200, .body = "{}"}); });
//   }
//
// A stream may be compressed (stream_compressor.h): then every byte of it
// goes through the one compressor in the order it is queued — writes, the
// keep-alive text, the coding's end at Finish — so the client can decode
// it, and each write still reaches the client at once.
//
// Thread-safety: Respond, OpenStream, Write, Finish and closed() may be
// called from any thread. request() is immutable once OnRequest runs.
#pragma once

#include <microhttpd.h>

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

#include "web/bridge/stream_compressor.h"

namespace skydeck::web {

class HttpServer;

struct HttpRequest {
  std::string method;
  std::string path;   // as sent: percent-encoded, without the query
  std::string query;  // after '?', percent-encoded; "" when none
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // The first value of header `name` (any case); "" when absent.
  std::string Header(absl::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// How an open stream hears from the server. Callbacks run on event-loop
// threads and must not block.
struct StreamHooks {
  // Everything written so far has gone to the socket: a producer that
  // paused on a full buffer may go on.
  std::function<void()> on_drained;
  // The client left or the server stops; nothing written from now on is
  // sent. Runs once.
  std::function<void()> on_closed;
  // When nothing was written for this long, `keepalive_text` is written
  // (an SSE comment): proxies keep the stream open, and a client that
  // vanished is noticed when the write fails. Zero: never. Skipped while
  // a write is being compressed (the stream is not quiet then).
  std::chrono::milliseconds keepalive{0};
  std::string keepalive_text;
};

class HttpExchange : public std::enable_shared_from_this<HttpExchange> {
 public:
  // A body over the limit is read and dropped up to this size, so that
  // its client (still sending) sees the 413; a longer one is cut off.
  static constexpr uint64_t kMaxDiscardBytes = 8 << 20;
  // The body of a request refused at its headers (401, 403, 404, ...) is
  // dropped unread when its Content-Length is at most this (the answer
  // reaches a client still sending), else never read.
  static constexpr uint64_t kMaxRefusedDiscardBytes = 64 << 10;

  // Created by HttpServer when a request line arrives.
  HttpExchange(HttpServer* server, MHD_Connection* connection, std::string target);

  const HttpRequest& request() const { return request_; }

  // Answers with one response. At most once per exchange (or OpenStream);
  // ignored after the client left.
  void Respond(HttpResponse response);

  // Answers with a stream: `head`'s status, content type and headers (its
  // body is ignored), then whatever Write() appends until Finish(). With a
  // `compressor`, everything written is sent through it and the head gets
  // its `Content-Encoding`. False when the client has already left (the
  // hooks will never run) or the exchange was answered.
  bool OpenStream(HttpResponse head, StreamHooks hooks,
                  std::unique_ptr<StreamCompressor> compressor = nullptr);

  // Appends to the open stream (compressed and flushed first, when the
  // stream is compressed: on the caller's thread, not the event loop's).
  // Returns the bytes queued and not yet sent — compressed bytes — (the
  // caller pauses above its own high-water mark until on_drained), or
  // nullopt once the client has left, the stream is finished, or the
  // compressor failed (the connection is then cut: what was sent cannot
  // be continued).
  std::optional<size_t> Write(std::string data);

  // Ends the stream after what was written (and the coding's end, when
  // compressed).
  void Finish();

  // The bytes queued and not yet sent, as Write() returns them.
  size_t unsent_bytes() const;

  // The client left (or the server stopped) before the answer was sent.
  bool closed() const;

  // --- For HttpServer (event-loop threads), not for applications. ---

  // The access handler's work for this request: MHD's return value.
  MHD_Result OnAccess(const char* method, const char* upload_data, size_t* upload_data_size);
  // MHD's content reader for a stream response.
  ssize_t ReadStream(char* buf, size_t max);
  // The request is over (answered, or the connection closed).
  void OnCompleted();
  // Writes the keep-alive text if the stream has been quiet long enough.
  void KeepAlive(std::chrono::steady_clock::time_point now);
  // Wakes a suspended exchange so that it ends (server shutdown).
  void WakeForShutdown();

 private:
  enum class Phase { kHeaders, kBody, kWaiting, kAnswered };

  void ReadHeaders();
  bool HasBody() const;
  // Answers now if an answer is ready, else suspends the connection.
  MHD_Result AnswerOrSuspend();
  MHD_Result Queue(const HttpResponse& response);
  MHD_Result QueueStream(const HttpResponse& head);
  // REQUIRES: mu_ held. Resumes the connection if it is suspended.
  void WakeLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Queues `data` for the client. REQUIRES: mu_ held.
  void EnqueueLocked(std::string data) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // `data` as it goes on the wire: compressed and flushed when the stream
  // is compressed; nullopt (and the stream is cut) when compression fails.
  std::optional<std::string> Encode(std::string data) ABSL_EXCLUSIVE_LOCKS_REQUIRED(encode_mu_);
  void KeepAliveEncoding(std::chrono::steady_clock::time_point now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(encode_mu_);

  HttpServer* const server_;
  // Event-loop state: touched only by the connection's event-loop thread.
  MHD_Connection* const connection_;
  Phase phase_ = Phase::kHeaders;
  HttpRequest request_;
  std::optional<HttpResponse> early_;  // the answer, decided before the body
  bool discarding_ = false;            // the body is not wanted: drop it
  uint64_t discard_limit_ = 0;         // ... up to this many bytes, then close
  uint64_t discarded_ = 0;

  // Held from compressing a write until it is queued, so that compressed
  // bytes reach the queue in the order the compressor made them; never
  // waited for by the event loop (KeepAlive only tries it). Taken before
  // mu_. Compression runs outside mu_: the event loop reading the queue
  // does not wait for it.
  absl::Mutex encode_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  std::unique_ptr<StreamCompressor> compressor_ ABSL_GUARDED_BY(encode_mu_);

  mutable absl::Mutex mu_;
  bool suspended_ ABSL_GUARDED_BY(mu_) = false;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<HttpResponse> response_ ABSL_GUARDED_BY(mu_);
  std::optional<HttpResponse> stream_head_ ABSL_GUARDED_BY(mu_);
  StreamHooks hooks_ ABSL_GUARDED_BY(mu_);
  bool streaming_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool broken_ ABSL_GUARDED_BY(mu_) = false;          // compression failed: cut the connection
  std::deque<std::string> out_ ABSL_GUARDED_BY(mu_);  // whole writes, first may be part-sent
  size_t out_offset_ ABSL_GUARDED_BY(mu_) = 0;        // bytes of out_.front() already sent
  size_t out_bytes_ ABSL_GUARDED_BY(mu_) = 0;         // not yet sent
  std::chrono::steady_clock::time_point last_write_ ABSL_GUARDED_BY(mu_);
};

}  // namespace skydeck::web
