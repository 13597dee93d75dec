// File: web/bridge/grpc_caller.h
//
// Calls any method of a gRPC channel by name with serialized messages: the
// bridge knows messages only through descriptors, never generated stubs.
//
// Thread-safety: safe for concurrent calls; each call has its own
// completion queue.
#pragma once

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace skydeck::web {

struct CallOptions {
  // Metadata to forward (e.g. authorization, x-skydeck-actor).
  std::multimap<std::string, std::string> metadata;
  std::chrono::milliseconds timeout{30000};
};

class GrpcCaller {
 public:
  explicit GrpcCaller(std::shared_ptr<grpc::Channel> channel);

  // `method` is "/package.Service/Method". Returns the serialized response.
  grpc::Status Unary(const std::string& method, const std::string& request,
                     const CallOptions& options, std::string* response);

  // Server-streaming call: `on_message` gets each serialized message and
  // returns false to stop. `keep_going` is asked about every `tick` while no
  // message arrives (to send keep-alives and notice dropped clients); false
  // cancels the call. Returns the call's final status (CANCELLED when we
  // stopped it).
  grpc::Status ServerStream(const std::string& method, const std::string& request,
                            const CallOptions& options,
                            const std::function<bool(const std::string&)>& on_message,
                            const std::function<bool()>& keep_going,
                            std::chrono::milliseconds tick);

 private:
  std::shared_ptr<grpc::Channel> channel_;
  grpc::GenericStub stub_;
};

}  // namespace skydeck::web
