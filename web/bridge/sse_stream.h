// File: web/bridge/sse_stream.h
//
// One server-streaming RPC (Watch, job logs) served as Server-Sent Events:
// each message becomes `data: <JSON>\n\n`, a failed call ends with an
// `event: error` carrying the JSON error body, and quiet streams get a
// `: ping` comment every keep-alive interval. For a client that accepts it
// (Accept-Encoding: gzip, else br), the whole stream is compressed, each
// event flushed at once (stream_compressor.h). It holds
// no thread: the gRPC call runs on the callback API, the connection is
// suspended while nothing is to be sent, and JSON (and its compression) is
// made on the bridge's work pool.
//
// Flow control: the next message is read only when the client has taken
// what was written (below kHighWaterBytes of bytes on the wire, compressed
// or not), so a slow reader slows its own stream and the bridge never
// buffers more than one message over the mark.
// A client that leaves cancels the call.
//
// Thread-safety: internal; callbacks arrive on gRPC, event-loop and pool
// threads.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <google/protobuf/descriptor.h>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

#include "web/bridge/grpc_caller.h"
#include "web/bridge/http_exchange.h"
#include "web/bridge/sse_encoder.h"
#include "web/bridge/stream_compressor.h"
#include "web/bridge/work_pool.h"

namespace skydeck::web {

class SseStream final : public StreamObserver, public std::enable_shared_from_this<SseStream> {
 public:
  static constexpr size_t kHighWaterBytes = 64 * 1024;

  // `on_end(error)` runs once, on a pool thread, when the stream is over;
  // `error` is true when the call failed other than by being cancelled.
  SseStream(std::shared_ptr<HttpExchange> exchange,
            const google::protobuf::MethodDescriptor* method, WorkPool* pool,
            std::function<void(bool error)> on_end);

  // Answers the exchange with the event stream and starts the call
  // (`grpc_path` is "/package.Service/Method"). False when the client had
  // already left: nothing was started and on_end will not run.
  bool Start(GrpcCaller& caller, const std::string& grpc_path, const std::string& request,
             const CallOptions& options, std::chrono::milliseconds keepalive);

  void OnMessage(std::string bytes) override;
  void OnDone(grpc::Status status) override;

 private:
  void WriteEvent(const std::string& bytes);  // pool thread
  void Drained();                             // event-loop thread
  void Cancel();
  std::shared_ptr<ServerStreamCall> call() const;
  // For the client's Accept-Encoding; null: plain.
  std::unique_ptr<StreamCompressor> NewCompressor() const;

  const std::shared_ptr<HttpExchange> exchange_;
  const google::protobuf::MethodDescriptor* const method_;
  WorkPool* const pool_;
  std::function<void(bool)> on_end_;
  // Set after a written event left the buffer above the high-water mark:
  // the next read waits for Drained().
  std::atomic<bool> paused_{false};
  mutable absl::Mutex mu_;
  std::shared_ptr<ServerStreamCall> call_ ABSL_GUARDED_BY(mu_);
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  // Messages are encoded one at a time (the next is read only after the
  // last is written), but on whichever pool thread runs them.
  absl::Mutex encoder_mu_;
  SseEncoder encoder_ ABSL_GUARDED_BY(encoder_mu_);
};

}  // namespace skydeck::web
