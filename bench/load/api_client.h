// File: bench/load/api_client.h
//
// The slice of the SkyDeck API a load client drives, behind one interface
// with two transports: gRPC straight to skydeckd, and HTTP/JSON through the
// bridge (the routes of the proto's `http` options, bodies in protobuf's
// JSON mapping). A load phase is written once and runs over either.
//
//   std::unique_ptr<ApiClient> c = MakeHttpClient("127.0.0.1:8000", absl::Seconds(60));
//   pb::GetExperimentRequest req;
//   req.set_id("42");
//   pb::GetExperimentResponse resp;
//   absl::Status s = c->GetExperiment(req, &resp);
//
// Thread-safety: one ApiClient per thread (each owns its own connection, as
// separate clients of a real daemon would).
#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

#include "skydeck/v1/service.grpc.pb.h"

namespace skydeck::bench {

namespace pb = ::skydeck::v1;

class ApiClient {
 public:
  virtual ~ApiClient() = default;

  // "grpc" or "http".
  virtual const char* transport() const = 0;

  // Each call returns OK only when the daemon acknowledged the request;
  // any other status (including a transport failure or timeout) leaves
  // `resp` unspecified.
  virtual absl::Status CreateExperiment(const pb::CreateExperimentRequest& req,
                                        pb::CreateExperimentResponse* resp) = 0;
  virtual absl::Status GetExperiment(const pb::GetExperimentRequest& req,
                                     pb::GetExperimentResponse* resp) = 0;
  virtual absl::Status UpdateExperiment(const pb::UpdateExperimentRequest& req,
                                        pb::UpdateExperimentResponse* resp) = 0;
  virtual absl::Status UpdateFlags(const pb::UpdateFlagsRequest& req,
                                   pb::UpdateFlagsResponse* resp) = 0;
  virtual absl::Status SetDesiredState(const pb::SetDesiredStateRequest& req,
                                       pb::SetDesiredStateResponse* resp) = 0;
  virtual absl::Status ListExperiments(const pb::ListExperimentsRequest& req,
                                       pb::ListExperimentsResponse* resp) = 0;
};

// A client with its own gRPC connection to `target` ("host:port"); every
// call has `deadline`.
std::unique_ptr<ApiClient> MakeGrpcClient(const std::string& target, absl::Duration deadline);

// A client with its own keep-alive HTTP connection to the bridge at
// `host_port`; every call has `timeout`.
std::unique_ptr<ApiClient> MakeHttpClient(const std::string& host_port, absl::Duration timeout);

}  // namespace skydeck::bench
