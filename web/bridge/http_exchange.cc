#include "web/bridge/http_exchange.h"

#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"

#include "web/bridge/http_errors.h"
#include "web/bridge/http_server.h"

namespace skydeck::web {
namespace {

MHD_Result CollectHeader(void* cls, MHD_ValueKind, const char* key, const char* value) {
  auto* headers = static_cast<std::vector<std::pair<std::string, std::string>>*>(cls);
  headers->emplace_back(key, value == nullptr ? "" : value);
  return MHD_YES;
}

ssize_t ReadStreamTrampoline(void* cls, uint64_t, char* buf, size_t max) {
  return static_cast<HttpExchange*>(cls)->ReadStream(buf, max);
}

// Response headers; false when libmicrohttpd refuses one (e.g. a newline
// in a value).
bool AddHeaders(MHD_Response* r, const HttpResponse& response) {
  bool ok = true;
  if (!response.content_type.empty()) {
    ok &= MHD_add_response_header(r, "Content-Type", response.content_type.c_str()) == MHD_YES;
  }
  for (const auto& [name, value] : response.headers) {
    ok &= MHD_add_response_header(r, name.c_str(), value.c_str()) == MHD_YES;
  }
  return ok;
}

HttpResponse JsonError(int status, grpc::StatusCode code, const std::string& message) {
  return HttpResponse{status, "application/json", {}, ErrorBody(code, message)};
}

HttpResponse TooLarge() {
  return JsonError(413, grpc::StatusCode::RESOURCE_EXHAUSTED, "request body too large");
}

}  // namespace

std::string HttpRequest::Header(absl::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, name)) return value;
  }
  return "";
}

HttpExchange::HttpExchange(HttpServer* server, MHD_Connection* connection, std::string target)
    : server_(server), connection_(connection) {
  size_t q = target.find('?');
  request_.path = target.substr(0, q);
  if (q != std::string::npos) request_.query = target.substr(q + 1);
}

void HttpExchange::Respond(HttpResponse response) {
  absl::MutexLock lock(&mu_);
  if (closed_ || response_ || stream_head_) return;
  response_ = std::move(response);
  WakeLocked();
}

bool HttpExchange::OpenStream(HttpResponse head, StreamHooks hooks,
                              std::unique_ptr<StreamCompressor> compressor) {
  absl::MutexLock encode(&encode_mu_);
  absl::MutexLock lock(&mu_);
  if (closed_ || response_ || stream_head_) return false;
  if (compressor) {
    head.headers.emplace_back("Content-Encoding", std::string(CodingName(compressor->coding())));
    compressor_ = std::move(compressor);
  }
  stream_head_ = std::move(head);
  hooks_ = std::move(hooks);
  last_write_ = std::chrono::steady_clock::now();
  WakeLocked();
  return true;
}

std::optional<size_t> HttpExchange::Write(std::string data) {
  absl::MutexLock encode(&encode_mu_);
  {
    // finished_ cannot change while encode_mu_ is held (Finish takes it).
    absl::MutexLock lock(&mu_);
    if (closed_ || finished_ || broken_) return std::nullopt;
  }
  std::optional<std::string> wire = Encode(std::move(data));
  absl::MutexLock lock(&mu_);
  if (!wire || closed_) return std::nullopt;
  EnqueueLocked(*std::move(wire));
  last_write_ = std::chrono::steady_clock::now();
  WakeLocked();
  return out_bytes_;
}

void HttpExchange::Finish() {
  absl::MutexLock encode(&encode_mu_);
  std::string tail;
  if (compressor_) {
    absl::StatusOr<std::string> end = compressor_->Finish();
    compressor_.reset();  // a second Finish adds nothing
    if (end.ok()) {
      tail = *std::move(end);
    } else {
      absl::MutexLock lock(&mu_);
      broken_ = true;
    }
  }
  absl::MutexLock lock(&mu_);
  if (!closed_) EnqueueLocked(std::move(tail));
  finished_ = true;
  WakeLocked();
}

std::optional<std::string> HttpExchange::Encode(std::string data) {
  if (!compressor_ || data.empty()) return data;
  absl::StatusOr<std::string> wire = compressor_->Flush(data);
  if (wire.ok()) return *std::move(wire);
  absl::MutexLock lock(&mu_);
  broken_ = true;
  WakeLocked();
  return std::nullopt;
}

void HttpExchange::EnqueueLocked(std::string data) {
  if (data.empty()) return;
  out_bytes_ += data.size();
  out_.push_back(std::move(data));
}

size_t HttpExchange::unsent_bytes() const {
  absl::MutexLock lock(&mu_);
  return out_bytes_;
}

bool HttpExchange::closed() const {
  absl::MutexLock lock(&mu_);
  return closed_;
}

void HttpExchange::WakeLocked() {
  if (suspended_ && !closed_) {
    suspended_ = false;
    MHD_resume_connection(connection_);
  }
}

void HttpExchange::ReadHeaders() {
  MHD_get_connection_values(connection_, MHD_HEADER_KIND, &CollectHeader, &request_.headers);
}

bool HttpExchange::HasBody() const {
  if (!request_.Header("Transfer-Encoding").empty()) return true;
  uint64_t length = 0;
  return absl::SimpleAtoi(request_.Header("Content-Length"), &length) && length > 0;
}

MHD_Result HttpExchange::OnAccess(const char* method, const char* upload_data,
                                  size_t* upload_data_size) {
  switch (phase_) {
    case Phase::kHeaders: {
      request_.method = method;
      ReadHeaders();
      server_->HeadersArrived(connection_);
      uint64_t length = 0;
      bool has_length = absl::SimpleAtoi(request_.Header("Content-Length"), &length);
      bool expects_continue = absl::EqualsIgnoreCase(request_.Header("Expect"), "100-continue");
      std::optional<HttpResponse> early = server_->handler()->OnHeaders(request_);
      uint64_t discard_limit = kMaxRefusedDiscardBytes;
      if (!early && has_length && length > server_->max_body_bytes()) {
        early = TooLarge();
        discard_limit = kMaxDiscardBytes;
      }
      if (early && HasBody()) {
        // The body is not wanted. A client that sends it before reading
        // the answer would see the connection reset instead of the answer
        // if it were left unread, so a short one is read and dropped.
        // Anything else is never read: libmicrohttpd answers and closes.
        if (!has_length || expects_continue || length > discard_limit) {
          phase_ = Phase::kAnswered;
          return Queue(*early);
        }
        discarding_ = true;
        discard_limit_ = discard_limit;
      }
      // Without a body, answer at the final call: the connection then
      // stays open for the next request.
      early_ = std::move(early);
      phase_ = Phase::kBody;
      return MHD_YES;
    }
    case Phase::kBody:
      if (*upload_data_size > 0) {
        size_t size = *upload_data_size;
        *upload_data_size = 0;
        if (!discarding_ && request_.body.size() + size <= server_->max_body_bytes()) {
          request_.body.append(upload_data, size);
          return MHD_YES;
        }
        // Over the limit (a chunked body has no length up front): drop
        // what comes, answer 413 at the end, or cut a body that goes on.
        if (!discarding_) {
          discarding_ = true;
          discard_limit_ = kMaxDiscardBytes;
          discarded_ = request_.body.size();
          request_.body = std::string();
          early_ = TooLarge();
        }
        discarded_ += size;
        return discarded_ > discard_limit_ ? MHD_NO : MHD_YES;
      }
      if (early_) {
        phase_ = Phase::kAnswered;
        return Queue(*early_);
      }
      phase_ = Phase::kWaiting;
      server_->handler()->OnRequest(shared_from_this());
      return AnswerOrSuspend();
    case Phase::kWaiting:
      return AnswerOrSuspend();
    case Phase::kAnswered:
      return MHD_YES;
  }
  return MHD_NO;
}

MHD_Result HttpExchange::AnswerOrSuspend() {
  std::optional<HttpResponse> response, head;
  {
    // A moved-from optional stays engaged: Respond/OpenStream after this
    // answer still see one and do nothing.
    absl::MutexLock lock(&mu_);
    if (response_) {
      response = std::move(response_);
    } else if (stream_head_) {
      head = std::move(stream_head_);
      streaming_ = true;
    } else if (!server_->stopping()) {
      // Woken by Respond/OpenStream (WakeLocked), or by Stop().
      suspended_ = true;
      MHD_suspend_connection(connection_);
      return MHD_YES;
    }
  }
  phase_ = Phase::kAnswered;
  if (response) return Queue(*response);
  if (head) {
    server_->StreamOpened(this);
    return QueueStream(*head);
  }
  return Queue(JsonError(503, grpc::StatusCode::UNAVAILABLE, "the server is shutting down"));
}

MHD_Result HttpExchange::Queue(const HttpResponse& response) {
  MHD_Response* r = MHD_create_response_from_buffer(
      response.body.size(), const_cast<char*>(response.body.data()), MHD_RESPMEM_MUST_COPY);
  if (r == nullptr) return MHD_NO;
  MHD_Result rc =
      AddHeaders(r, response) ? MHD_queue_response(connection_, response.status, r) : MHD_NO;
  MHD_destroy_response(r);
  return rc;
}

MHD_Result HttpExchange::QueueStream(const HttpResponse& head) {
  // The reader's cls is this exchange: libmicrohttpd reads only while the
  // request is alive, and MHD's own reference (the request context) is
  // dropped after its last read (OnCompleted).
  MHD_Response* r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024,
                                                      &ReadStreamTrampoline, this, nullptr);
  if (r == nullptr) return MHD_NO;
  MHD_Result rc = AddHeaders(r, head) ? MHD_queue_response(connection_, head.status, r) : MHD_NO;
  MHD_destroy_response(r);
  return rc;
}

ssize_t HttpExchange::ReadStream(char* buf, size_t max) {
  size_t n = 0;
  std::function<void()> drained;
  {
    absl::MutexLock lock(&mu_);
    // A compressed stream missing a piece cannot be decoded past it: end
    // the connection so that the client sees a failure, not a clean end.
    if (broken_) return MHD_CONTENT_READER_END_WITH_ERROR;
    if (out_bytes_ == 0) {
      if (finished_ || closed_ || server_->stopping()) return MHD_CONTENT_READER_END_OF_STREAM;
      suspended_ = true;  // Write/Finish/KeepAlive/Stop resume it
      MHD_suspend_connection(connection_);
      return 0;
    }
    // Whole writes where they fit, so that a chunk rarely splits an event.
    while (!out_.empty() && n < max) {
      const std::string& front = out_.front();
      size_t left = front.size() - out_offset_;
      size_t take = std::min(left, max - n);
      if (n > 0 && take < left) break;
      std::memcpy(buf + n, front.data() + out_offset_, take);
      n += take;
      out_offset_ += take;
      if (out_offset_ == front.size()) {
        out_.pop_front();
        out_offset_ = 0;
      }
    }
    out_bytes_ -= n;
    if (out_bytes_ == 0) drained = hooks_.on_drained;
  }
  if (drained) drained();
  return static_cast<ssize_t>(n);
}

void HttpExchange::OnCompleted() {
  StreamHooks hooks;
  {
    absl::MutexLock lock(&mu_);
    closed_ = true;
    suspended_ = false;
    hooks = std::move(hooks_);
    hooks_ = StreamHooks();
    out_.clear();
    out_bytes_ = 0;
  }
  if (hooks.on_closed) hooks.on_closed();
}

void HttpExchange::KeepAlive(std::chrono::steady_clock::time_point now) {
  // A write holding encode_mu_ is being compressed: the stream is not
  // quiet, and the event loop does not wait for it.
  if (!encode_mu_.TryLock()) return;
  KeepAliveEncoding(now);
  encode_mu_.Unlock();
}

void HttpExchange::KeepAliveEncoding(std::chrono::steady_clock::time_point now) {
  std::string text;
  {
    absl::MutexLock lock(&mu_);
    if (!streaming_ || closed_ || finished_ || broken_ || hooks_.keepalive.count() <= 0) return;
    if (now - last_write_ < hooks_.keepalive) return;
    text = hooks_.keepalive_text;
  }
  // No write can come between the check and the queueing: they would need
  // encode_mu_. Compressing a short comment takes microseconds.
  std::optional<std::string> wire = Encode(std::move(text));
  absl::MutexLock lock(&mu_);
  if (!wire || closed_) return;
  EnqueueLocked(*std::move(wire));
  last_write_ = now;
  WakeLocked();
}

void HttpExchange::WakeForShutdown() {
  absl::MutexLock lock(&mu_);
  WakeLocked();
}

}  // namespace skydeck::web
