// gRPC transport of ApiClient (see api_client.h).
#include <chrono>

#include <grpcpp/grpcpp.h>

#include "bench/load/api_client.h"
#include "common/grpc_status.h"

namespace skydeck::bench {
namespace {

constexpr int kMaxMessageBytes = 64 * 1024 * 1024;

class GrpcApiClient final : public ApiClient {
 public:
  GrpcApiClient(const std::string& target, absl::Duration deadline) : deadline_(deadline) {
    grpc::ChannelArguments args;
    // Without this, channels with equal arguments share one connection
    // process-wide; separate clients must not.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetMaxReceiveMessageSize(kMaxMessageBytes);
    stub_ = pb::SkyDeck::NewStub(
        grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args));
  }

  const char* transport() const override { return "grpc"; }

  absl::Status CreateExperiment(const pb::CreateExperimentRequest& req,
                                pb::CreateExperimentResponse* resp) override {
    return Call(&pb::SkyDeck::Stub::CreateExperiment, req, resp);
  }
  absl::Status GetExperiment(const pb::GetExperimentRequest& req,
                             pb::GetExperimentResponse* resp) override {
    return Call(&pb::SkyDeck::Stub::GetExperiment, req, resp);
  }
  absl::Status UpdateExperiment(const pb::UpdateExperimentRequest& req,
                                pb::UpdateExperimentResponse* resp) override {
    return Call(&pb::SkyDeck::Stub::UpdateExperiment, req, resp);
  }
  absl::Status UpdateFlags(const pb::UpdateFlagsRequest& req,
                           pb::UpdateFlagsResponse* resp) override {
    return Call(&pb::SkyDeck::Stub::UpdateFlags, req, resp);
  }
  absl::Status SetDesiredState(const pb::SetDesiredStateRequest& req,
                               pb::SetDesiredStateResponse* resp) override {
    return Call(&pb::SkyDeck::Stub::SetDesiredState, req, resp);
  }
  absl::Status ListExperiments(const pb::ListExperimentsRequest& req,
                               pb::ListExperimentsResponse* resp) override {
    return Call(&pb::SkyDeck::Stub::ListExperiments, req, resp);
  }

 private:
  template <typename Req, typename Resp>
  absl::Status Call(grpc::Status (pb::SkyDeck::Stub::*method)(grpc::ClientContext*, const Req&,
                                                              Resp*),
                    const Req& req, Resp* resp) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(deadline_));
    ctx.AddMetadata("x-skydeck-actor", "bench-load");
    return FromGrpcStatus((stub_.get()->*method)(&ctx, req, resp));
  }

  absl::Duration deadline_;
  std::unique_ptr<pb::SkyDeck::Stub> stub_;
};

}  // namespace

std::unique_ptr<ApiClient> MakeGrpcClient(const std::string& target, absl::Duration deadline) {
  return std::make_unique<GrpcApiClient>(target, deadline);
}

}  // namespace skydeck::bench
