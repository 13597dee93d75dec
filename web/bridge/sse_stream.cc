#include "web/bridge/sse_stream.h"

#include <google/protobuf/message.h>

#include "absl/strings/str_cat.h"

#include "web/bridge/compression.h"
#include "web/bridge/http_errors.h"

namespace skydeck::web {

SseStream::SseStream(std::shared_ptr<HttpExchange> exchange,
                     const google::protobuf::MethodDescriptor* method, WorkPool* pool,
                     std::function<void(bool error)> on_end)
    : exchange_(std::move(exchange)),
      method_(method),
      pool_(pool),
      on_end_(std::move(on_end)),
      encoder_(method->output_type()) {}

bool SseStream::Start(GrpcCaller& caller, const std::string& grpc_path, const std::string& request,
                      const CallOptions& options, std::chrono::milliseconds keepalive) {
  std::weak_ptr<SseStream> weak = weak_from_this();
  StreamHooks hooks;
  hooks.on_drained = [weak] {
    if (auto self = weak.lock()) self->Drained();
  };
  hooks.on_closed = [weak] {
    if (auto self = weak.lock()) self->Cancel();
  };
  hooks.keepalive = keepalive;
  hooks.keepalive_text = ": ping\n\n";
  HttpResponse head{
      200,
      "text/event-stream",
      {{"Cache-Control", "no-store"}, {"X-Accel-Buffering", "no"}, {"Vary", "Accept-Encoding"}},
      ""};
  if (!exchange_->OpenStream(std::move(head), std::move(hooks), NewCompressor())) return false;
  // The headers and this comment go out at once, before the first event.
  exchange_->Write(": connected\n\n");
  // The handle is kept before the call starts: its first message may be
  // written (and drained, asking for the next) before Start returns.
  std::shared_ptr<ServerStreamCall> call =
      caller.PrepareServerStream(grpc_path, request, options, shared_from_this());
  bool cancel;
  {
    absl::MutexLock lock(&mu_);
    call_ = call;
    cancel = cancelled_;  // the client has left already
  }
  call->Start();
  if (cancel) call->Cancel();
  return true;
}

std::unique_ptr<StreamCompressor> SseStream::NewCompressor() const {
  ContentCoding coding = ChooseStreamCoding(exchange_->request().Header("Accept-Encoding"));
  if (coding == ContentCoding::kIdentity) return nullptr;
  absl::StatusOr<std::unique_ptr<StreamCompressor>> compressor = StreamCompressor::Create(coding);
  return compressor.ok() ? *std::move(compressor) : nullptr;  // no memory: send it plain
}

std::shared_ptr<ServerStreamCall> SseStream::call() const {
  absl::MutexLock lock(&mu_);
  return call_;
}

void SseStream::Cancel() {
  std::shared_ptr<ServerStreamCall> call;
  {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
    call = call_;
  }
  if (call) call->Cancel();
}

void SseStream::OnMessage(std::string bytes) {
  pool_->Post([self = shared_from_this(), bytes = std::move(bytes)] { self->WriteEvent(bytes); });
}

void SseStream::WriteEvent(const std::string& bytes) {
  std::unique_ptr<google::protobuf::Message> msg(
      google::protobuf::MessageFactory::generated_factory()
          ->GetPrototype(method_->output_type())
          ->New());
  absl::StatusOr<std::string> event = absl::InternalError("unparsable message from the daemon");
  if (msg->ParseFromString(bytes)) {
    absl::MutexLock lock(&encoder_mu_);
    event = encoder_.Encode(*msg);
  }
  if (!event.ok()) {
    Cancel();
    return;
  }
  if (event->empty()) {  // nothing to send yet (a held-back carriage return)
    if (auto c = call()) c->RequestNext();
    return;
  }
  std::optional<size_t> buffered = exchange_->Write(*event);
  if (!buffered) {
    Cancel();  // the client left
    return;
  }
  // The next message is asked for only once this one is queued: asked
  // for earlier (by a drain of the bytes before it), it could be written
  // first, from another pool thread.
  if (*buffered < kHighWaterBytes) {
    if (auto c = call()) c->RequestNext();
    return;
  }
  paused_ = true;
  // The drain may have come before paused_ was set: then look again. If
  // both this and Drained() see the buffer low, exchange() lets one ask.
  if (exchange_->unsent_bytes() < kHighWaterBytes && paused_.exchange(false)) {
    if (auto c = call()) c->RequestNext();
  }
}

void SseStream::Drained() {
  if (paused_.exchange(false)) {
    if (auto c = call()) c->RequestNext();
  }
}

void SseStream::OnDone(grpc::Status status) {
  pool_->Post([self = shared_from_this(), status = std::move(status)] {
    bool error = !status.ok() && status.error_code() != grpc::StatusCode::CANCELLED;
    std::string rest;
    {
      absl::MutexLock lock(&self->encoder_mu_);
      rest = self->encoder_.Finish();
    }
    if (!rest.empty()) self->exchange_->Write(rest);
    if (error) {
      self->exchange_->Write(absl::StrCat(
          "event: error\ndata: ", ErrorBody(status.error_code(), status.error_message()), "\n\n"));
    }
    self->on_end_(error);  // before the end reaches the client (metrics)
    self->exchange_->Finish();
  });
}

}  // namespace skydeck::web
