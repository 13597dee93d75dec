#include "web/bridge/grpc_caller.h"

#include <vector>

namespace skydeck::web {
namespace {

grpc::ByteBuffer ToBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

std::string FromBuffer(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  (void)buffer.Dump(&slices);
  std::string out;
  out.reserve(buffer.Length());
  for (const grpc::Slice& s : slices) {
    out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return out;
}

void Prepare(grpc::ClientContext* ctx, const CallOptions& options, bool with_deadline) {
  for (const auto& [key, value] : options.metadata) ctx->AddMetadata(key, value);
  if (with_deadline) ctx->set_deadline(std::chrono::system_clock::now() + options.timeout);
}

// Waits for the one operation outstanding on `cq`.
bool Await(grpc::CompletionQueue& cq) {
  void* tag;
  bool ok = false;
  return cq.Next(&tag, &ok) && ok;
}

}  // namespace

GrpcCaller::GrpcCaller(std::shared_ptr<grpc::Channel> channel)
    : channel_(std::move(channel)), stub_(channel_) {}

grpc::Status GrpcCaller::Unary(const std::string& method, const std::string& request,
                               const CallOptions& options, std::string* response) {
  grpc::ClientContext ctx;
  Prepare(&ctx, options, /*with_deadline=*/true);
  grpc::CompletionQueue cq;
  grpc::ByteBuffer req = ToBuffer(request);
  auto call = stub_.PrepareUnaryCall(&ctx, method, req, &cq);
  call->StartCall();
  grpc::ByteBuffer resp;
  grpc::Status status;
  call->Finish(&resp, &status, reinterpret_cast<void*>(1));
  Await(cq);
  cq.Shutdown();
  void* tag;
  bool ok;
  while (cq.Next(&tag, &ok)) {
  }
  if (status.ok()) *response = FromBuffer(resp);
  return status;
}

grpc::Status GrpcCaller::ServerStream(const std::string& method, const std::string& request,
                                      const CallOptions& options,
                                      const std::function<bool(const std::string&)>& on_message,
                                      const std::function<bool()>& keep_going,
                                      std::chrono::milliseconds tick) {
  grpc::ClientContext ctx;
  Prepare(&ctx, options, /*with_deadline=*/false);
  grpc::CompletionQueue cq;
  auto call = stub_.PrepareCall(&ctx, method, &cq);
  void* tag;
  bool ok = false;
  auto drain = [&] {
    cq.Shutdown();
    while (cq.Next(&tag, &ok)) {
    }
  };
  call->StartCall(reinterpret_cast<void*>(1));
  bool started = Await(cq);
  grpc::ByteBuffer req = ToBuffer(request);
  if (started) {
    call->WriteLast(req, grpc::WriteOptions(), reinterpret_cast<void*>(2));
    started = Await(cq);
  }
  bool stopped_by_us = false;
  while (started) {
    grpc::ByteBuffer msg;
    call->Read(&msg, reinterpret_cast<void*>(3));
    bool got = false;
    while (true) {
      auto deadline = std::chrono::system_clock::now() + tick;
      auto next = cq.AsyncNext(&tag, &ok, deadline);
      if (next == grpc::CompletionQueue::GOT_EVENT) {
        got = ok;
        break;
      }
      if (next == grpc::CompletionQueue::SHUTDOWN) break;
      if (!keep_going()) {
        stopped_by_us = true;
        ctx.TryCancel();  // the pending Read then completes with !ok
      }
    }
    if (!got) break;
    if (!stopped_by_us && !on_message(FromBuffer(msg))) {
      stopped_by_us = true;
      ctx.TryCancel();
    }
    if (stopped_by_us) {
      // Let the cancelled Read (if any) complete before finishing.
      continue;
    }
  }
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(4));
  Await(cq);
  drain();
  if (stopped_by_us) return grpc::Status(grpc::StatusCode::CANCELLED, "stopped by the client");
  return status;
}

}  // namespace skydeck::web
