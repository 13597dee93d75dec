#include "daemon/metrics/grpc_metrics_interceptor.h"

#include <grpcpp/server_context.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <string>

namespace skydeck::metrics {
namespace {

using grpc::experimental::InterceptionHookPoints;

// gRPC's server hands every call to a method it does not serve to one
// handler named "unknown" (and typed bidi-streaming), so whatever names
// clients make up, they share one series; they are not streams.
constexpr char kUnknownMethod[] = "unknown";

bool IsUnknown(const char* method) {
  return method == nullptr || *method == '\0' || std::strcmp(method, kUnknownMethod) == 0;
}

// "/pkg.Service/Method" -> "pkg.Service/Method".
std::string MethodLabel(const char* method) {
  if (IsUnknown(method)) return kUnknownMethod;
  return method[0] == '/' ? std::string(method + 1) : std::string(method);
}

bool IsStreaming(const grpc::experimental::ServerRpcInfo& info) {
  return !IsUnknown(info.method()) &&
         info.type() != grpc::experimental::ServerRpcInfo::Type::UNARY;
}

class MetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  MetricsInterceptor(GrpcServerMetrics* metrics, grpc::experimental::ServerRpcInfo* info)
      : metrics_(metrics),
        context_(info->server_context()),
        method_(MethodLabel(info->method())),
        streaming_(IsStreaming(*info)),
        started_(std::chrono::steady_clock::now()) {
    metrics_->CallStarted(method_, streaming_);
  }

  ~MetricsInterceptor() override { Finish(grpc::StatusCode::CANCELLED); }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      Finish(CodeSeenByClient(methods->GetSendStatus().error_code()));
    }
    methods->Proceed();
  }

 private:
  // Records the end once, whichever of status and destruction comes first.
  void Finish(grpc::StatusCode code) {
    if (finished_.exchange(true)) return;
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    metrics_->CallFinished(method_, streaming_, code, seconds);
  }

  // A handler may return OK after its client left (Watch does): the client
  // saw the call fail, and the status is never delivered. Count what the
  // client saw. IsCancelled is safe here: sync and callback servers only.
  grpc::StatusCode CodeSeenByClient(grpc::StatusCode sent) const {
    if (context_ == nullptr || !context_->IsCancelled()) return sent;
    return context_->deadline() <= std::chrono::system_clock::now()
               ? grpc::StatusCode::DEADLINE_EXCEEDED
               : grpc::StatusCode::CANCELLED;
  }

  GrpcServerMetrics* const metrics_;
  grpc::ServerContextBase* const context_;
  const std::string method_;
  const bool streaming_;
  const std::chrono::steady_clock::time_point started_;
  std::atomic<bool> finished_{false};
};

class MetricsInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit MetricsInterceptorFactory(GrpcServerMetrics* metrics) : metrics_(metrics) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new MetricsInterceptor(metrics_, info);  // owned by gRPC (ServerRpcInfo)
  }

 private:
  GrpcServerMetrics* const metrics_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewMetricsInterceptorFactory(GrpcServerMetrics* metrics) {
  return std::make_unique<MetricsInterceptorFactory>(metrics);
}

}  // namespace skydeck::metrics
