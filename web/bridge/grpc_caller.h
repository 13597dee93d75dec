// File: web/bridge/grpc_caller.h
//
// Calls any method of a gRPC channel by name with serialized messages: the
// bridge knows messages only through descriptors, never generated stubs.
// Every call is asynchronous (gRPC's callback API): no thread waits for a
// unary answer, and an open server stream holds no thread at all, so a
// thousand open /api/watch streams cost memory, not threads.
//
//   caller.StartUnary("/skydeck.v1.SkyDeck/GetHealth", bytes, options,
//                     [](grpc::Status s, std::string response) { ... });
//
// Thread-safety: every method may be called from any thread. Completions
// run on gRPC's threads and must not block.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace skydeck::web {

struct CallOptions {
  // Metadata to forward (e.g. authorization, x-skydeck-actor).
  std::multimap<std::string, std::string> metadata;
  // Unary calls only: a stream lasts as long as its client wants.
  std::chrono::milliseconds timeout{30000};
};

// What a server-streaming call reports. Both methods run on gRPC threads
// and must not block.
class StreamObserver {
 public:
  virtual ~StreamObserver() = default;
  // One serialized message. No further message is read until the call's
  // RequestNext(): a slow HTTP client slows the stream instead of making
  // the bridge buffer without bound.
  virtual void OnMessage(std::string bytes) = 0;
  // The call ended; the last call on this observer. CANCELLED when
  // Cancel() ended it.
  virtual void OnDone(grpc::Status status) = 0;
};

// A server-streaming call.
class ServerStreamCall {
 public:
  virtual ~ServerStreamCall() = default;
  // Starts the call and reads its first message. Once: messages can arrive
  // before Start returns, so the caller keeps this handle first.
  virtual void Start() = 0;
  // Reads the next message (after OnMessage). No effect once cancelled or
  // ended, or while a read is outstanding.
  virtual void RequestNext() = 0;
  // Ends the call (the client left); OnDone follows with CANCELLED.
  // Idempotent.
  virtual void Cancel() = 0;
};

class GrpcCaller {
 public:
  explicit GrpcCaller(std::shared_ptr<grpc::Channel> channel);
  // Shuts down and waits for the running calls to end.
  ~GrpcCaller();

  using UnaryDone = std::function<void(grpc::Status status, std::string response)>;

  // `method` is "/package.Service/Method". `done` gets the status and, when
  // OK, the serialized response; it runs once, on a gRPC thread.
  void StartUnary(const std::string& method, const std::string& request, const CallOptions& options,
                  UnaryDone done);

  // A server-streaming call, to be started with Start(). After Shutdown,
  // Start reports UNAVAILABLE to the observer at once.
  std::shared_ptr<ServerStreamCall> PrepareServerStream(const std::string& method,
                                                        const std::string& request,
                                                        const CallOptions& options,
                                                        std::shared_ptr<StreamObserver> observer);

  // Cancels every running call and refuses new ones: a call started
  // afterwards completes at once with UNAVAILABLE. Idempotent.
  void Shutdown();
  // Blocks until no call is running.
  void WaitIdle();
  int running() const;

  // A call the registry can cancel; implementations live in the .cc.
  class Call {
   public:
    virtual ~Call() = default;
    virtual void Cancel() = 0;
  };

 private:
  // The call's id, or 0 after Shutdown (the call must not start).
  uint64_t Register(std::shared_ptr<Call> call);
  // The registry's reference goes; may destroy the call.
  void Finished(uint64_t id);
  bool Idle() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::shared_ptr<grpc::Channel> channel_;
  grpc::GenericStub stub_;
  mutable absl::Mutex mu_;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  std::unordered_map<uint64_t, std::shared_ptr<Call>> running_ ABSL_GUARDED_BY(mu_);
};

}  // namespace skydeck::web
