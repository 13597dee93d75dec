// File: tests/daemon/service/service_fixture.h
//
// A real gRPC server around SkyDeckService on an in-memory store, reached
// through an in-process channel: requests go through gRPC's full stack
// (message size limits, metadata, status codes) without a socket.
#pragma once

#include <memory>

#include <catch2/catch.hpp>
#include <grpcpp/grpcpp.h>

#include "daemon/service/skydeck_service.h"
#include "daemon/service/watch_hub.h"
#include "daemon/store/store.h"

namespace skydeck::service {

class ServiceFixture {
 public:
  explicit ServiceFixture(ControlPlane* control = nullptr) {
    auto opened = store::Store::Open(":memory:");
    REQUIRE(opened.ok());
    store_ = std::move(*opened);
    store_->SetCommitListener([this](int64_t rev) { hub_.Publish(rev); });
    service_ = std::make_unique<SkyDeckService>(store_.get(), &hub_, control, "test", 1);
    grpc::ServerBuilder builder;
    builder.SetMaxReceiveMessageSize(8 * 1024 * 1024);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    grpc::ChannelArguments args;
    args.SetMaxSendMessageSize(64 * 1024 * 1024);
    stub_ = pb::SkyDeck::NewStub(server_->InProcessChannel(args));
  }
  ~ServiceFixture() {
    hub_.Close();
    server_->Shutdown();
  }

  pb::SkyDeck::Stub& stub() { return *stub_; }
  store::Store& store() { return *store_; }

  // A context with the actor metadata set.
  static std::unique_ptr<grpc::ClientContext> Ctx(const std::string& actor = "tester") {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->AddMetadata("x-skydeck-actor", actor);
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return ctx;
  }

  static pb::Experiment Experiment(const std::string& name) {
    pb::Experiment e;
    e.set_name(name);
    e.set_base_command("python train.py");
    (*e.mutable_flags())["trainer.lr"].set_double_value(3e-4);
    (*e.mutable_labels())["sweep"] = "lr";
    return e;
  }

  pb::Experiment Create(const std::string& name) {
    pb::CreateExperimentRequest req;
    *req.mutable_experiment() = Experiment(name);
    pb::CreateExperimentResponse resp;
    grpc::Status s = stub_->CreateExperiment(Ctx().get(), req, &resp);
    REQUIRE(s.ok());
    return resp.experiment();
  }

  WatchHub& hub() { return hub_; }
  SkyDeckService& service() { return *service_; }

  // Stops serving, waiting for every handler still running (e.g. one whose
  // caller already gave up); the store stays readable.
  void StopServer() { server_->Shutdown(); }

 private:
  std::unique_ptr<store::Store> store_;
  WatchHub hub_;
  std::unique_ptr<SkyDeckService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<pb::SkyDeck::Stub> stub_;
};

}  // namespace skydeck::service
