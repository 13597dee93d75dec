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

// One unary call: gRPC needs the context and both buffers until it
// completes.
class UnaryCall final : public GrpcCaller::Call {
 public:
  explicit UnaryCall(const std::string& request) : request_(ToBuffer(request)) {}
  void Cancel() override { ctx_.TryCancel(); }

  grpc::ClientContext ctx_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
};

// One server-streaming call, driven as gRPC's generic bidi reactor (the
// generic stub has no server-streaming reactor): write the request and
// half-close, then read one message at a time when the observer asks.
//
// A hold keeps OnDone away while RequestNext may still start a read from
// outside a reaction; it is released when no read will follow (the stream
// ended or was cancelled).
class StreamCall final : public GrpcCaller::Call,
                         public ServerStreamCall,
                         public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  StreamCall(grpc::GenericStub* stub, std::string method, const std::string& request,
             const CallOptions& options, std::shared_ptr<StreamObserver> observer)
      : stub_(stub),
        method_(std::move(method)),
        request_(ToBuffer(request)),
        options_(options),
        observer_(std::move(observer)) {}

  // Set once registered; without it (the caller shut down) Start refuses.
  void SetFinished(std::function<void()> finished) { finished_ = std::move(finished); }

  void Start() override {
    if (!finished_) {
      Refuse();
      return;
    }
    Prepare(&ctx_, options_, /*with_deadline=*/false);
    stub_->PrepareBidiStreamingCall(&ctx_, method_, grpc::StubOptions(), this);
    StartWriteLast(&request_, grpc::WriteOptions());
    AddHold();
    StartRead(&message_);
    StartCall();
    bool cancelled;
    {
      absl::MutexLock lock(&mu_);
      started_ = true;
      cancelled = cancelled_;
    }
    // Cancelled while starting (shutdown): the first read then fails and
    // releases the hold.
    if (cancelled) ctx_.TryCancel();
  }

  // Never started (the caller shut down): report it, and make
  // RequestNext and Cancel no-ops.
  void Refuse() {
    if (!observer_) return;  // Start() twice
    {
      absl::MutexLock lock(&mu_);
      cancelled_ = true;
      holding_ = false;
      read_pending_ = false;
    }
    std::shared_ptr<StreamObserver> observer = std::move(observer_);
    observer->OnDone(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the bridge is shutting down"));
  }

  void RequestNext() override {
    {
      absl::MutexLock lock(&mu_);
      if (cancelled_ || !holding_ || read_pending_) return;
      read_pending_ = true;
    }
    StartRead(&message_);
  }

  void Cancel() override {
    bool release = false;
    {
      absl::MutexLock lock(&mu_);
      if (cancelled_) return;
      cancelled_ = true;
      if (!started_) return;  // Start() sees cancelled_
      // With a read outstanding, the cancelled read releases the hold.
      release = holding_ && !read_pending_;
      if (release) holding_ = false;
    }
    ctx_.TryCancel();
    if (release) RemoveHold();
  }

  void OnReadDone(bool ok) override {
    bool deliver = false, release = false;
    {
      absl::MutexLock lock(&mu_);
      read_pending_ = false;
      deliver = ok && !cancelled_;
      release = !deliver && holding_;
      if (release) holding_ = false;
    }
    if (deliver) observer_->OnMessage(FromBuffer(message_));
    if (release) RemoveHold();
  }

  void OnDone(const grpc::Status& status) override {
    bool cancelled;
    {
      absl::MutexLock lock(&mu_);
      cancelled = cancelled_;
    }
    std::shared_ptr<StreamObserver> observer = std::move(observer_);
    observer->OnDone(cancelled ? grpc::Status(grpc::StatusCode::CANCELLED, "stopped by the client")
                               : status);
    std::function<void()> finished = std::move(finished_);
    finished();  // may destroy this object: nothing after it
  }

 private:
  grpc::GenericStub* const stub_;
  const std::string method_;
  grpc::ClientContext ctx_;
  grpc::ByteBuffer request_;
  const CallOptions options_;
  grpc::ByteBuffer message_;
  std::shared_ptr<StreamObserver> observer_;
  std::function<void()> finished_;
  absl::Mutex mu_;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool holding_ ABSL_GUARDED_BY(mu_) = true;
  bool read_pending_ ABSL_GUARDED_BY(mu_) = true;  // Start() reads the first message
};

}  // namespace

GrpcCaller::GrpcCaller(std::shared_ptr<grpc::Channel> channel)
    : channel_(std::move(channel)), stub_(channel_) {}

GrpcCaller::~GrpcCaller() {
  Shutdown();
  WaitIdle();
}

uint64_t GrpcCaller::Register(std::shared_ptr<Call> call) {
  absl::MutexLock lock(&mu_);
  if (shut_down_) return 0;
  uint64_t id = next_id_++;
  running_.emplace(id, std::move(call));
  return id;
}

void GrpcCaller::Finished(uint64_t id) {
  std::shared_ptr<Call> call;
  {
    absl::MutexLock lock(&mu_);
    auto it = running_.find(id);
    if (it == running_.end()) return;
    call = std::move(it->second);
    running_.erase(it);
  }
  // `call` may be the last reference: it goes here, outside the lock.
}

void GrpcCaller::StartUnary(const std::string& method, const std::string& request,
                            const CallOptions& options, UnaryDone done) {
  auto call = std::make_shared<UnaryCall>(request);
  Prepare(&call->ctx_, options, /*with_deadline=*/true);
  uint64_t id = Register(call);
  if (id == 0) {
    done(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the bridge is shutting down"), "");
    return;
  }
  stub_.UnaryCall(&call->ctx_, method, grpc::StubOptions(), &call->request_, &call->response_,
                  [this, id, call, done = std::move(done)](grpc::Status status) mutable {
                    std::string bytes;
                    if (status.ok()) bytes = FromBuffer(call->response_);
                    done(std::move(status), std::move(bytes));
                    call.reset();
                    Finished(id);
                  });
}

std::shared_ptr<ServerStreamCall> GrpcCaller::PrepareServerStream(
    const std::string& method, const std::string& request, const CallOptions& options,
    std::shared_ptr<StreamObserver> observer) {
  auto call = std::make_shared<StreamCall>(&stub_, method, request, options, std::move(observer));
  uint64_t id = Register(call);
  if (id != 0) call->SetFinished([this, id] { Finished(id); });
  return call;
}

void GrpcCaller::Shutdown() {
  std::vector<std::shared_ptr<Call>> calls;
  {
    absl::MutexLock lock(&mu_);
    shut_down_ = true;
    for (auto& [id, call] : running_) calls.push_back(call);
  }
  for (auto& call : calls) call->Cancel();
}

void GrpcCaller::WaitIdle() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(this, &GrpcCaller::Idle));
}

bool GrpcCaller::Idle() const { return running_.empty(); }

int GrpcCaller::running() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(running_.size());
}

}  // namespace skydeck::web
