#include "daemon/metrics/grpc_metrics_interceptor.h"

#include <atomic>
#include <chrono>
#include <string>
#include <utility>

#include <grpcpp/server_context.h>

namespace skydeck::metrics {
namespace {

using grpc::experimental::InterceptionHookPoints;

// Calls to methods the server does not serve share this label.
constexpr char kUnknownMethod[] = "unknown";

// "/pkg.Service/Method" -> "pkg.Service/Method"; anything not served ->
// "unknown".
std::string MethodLabel(const char* method, const ServedMethods& served) {
  if (method == nullptr || served.count(method) == 0) return kUnknownMethod;
  return std::string(method + 1);
}

bool IsStreaming(const grpc::experimental::ServerRpcInfo& info, const std::string& label) {
  return label != kUnknownMethod && info.type() != grpc::experimental::ServerRpcInfo::Type::UNARY;
}

class MetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  MetricsInterceptor(GrpcServerMetrics* metrics, const ServedMethods& served,
                     grpc::experimental::ServerRpcInfo* info)
      : metrics_(metrics),
        context_(info->server_context()),
        method_(MethodLabel(info->method(), served)),
        streaming_(IsStreaming(*info, method_)),
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
  MetricsInterceptorFactory(GrpcServerMetrics* metrics, ServedMethods served)
      : metrics_(metrics), served_(std::move(served)) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new MetricsInterceptor(metrics_, served_, info);  // owned by gRPC (ServerRpcInfo)
  }

 private:
  GrpcServerMetrics* const metrics_;
  const ServedMethods served_;  // read-only once built: shared by gRPC's threads
};

}  // namespace

ServedMethods MethodsOf(const google::protobuf::ServiceDescriptor& service) {
  ServedMethods out;
  for (int i = 0; i < service.method_count(); ++i) {
    out.insert("/" + service.full_name() + "/" + service.method(i)->name());
  }
  return out;
}

ServedMethods GrpcInfrastructureMethods() {
  return {"/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/Watch",
          "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"};
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> NewMetricsInterceptorFactory(
    GrpcServerMetrics* metrics, ServedMethods served) {
  return std::make_unique<MetricsInterceptorFactory>(metrics, std::move(served));
}

}  // namespace skydeck::metrics
