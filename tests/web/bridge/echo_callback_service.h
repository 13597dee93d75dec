// File: tests/web/bridge/echo_callback_service.h
//
// The test-only Echo service (testdata/echo.proto) on gRPC's callback API:
// an open Count stream holds no server thread, so a test can open a
// thousand of them and count the bridge's threads alone.
//
// Say: "missing" is NOT_FOUND, else `text` `times` times.
// Count: `text0`, `text1`, ... `times` messages; with times 0, one message
// and then nothing until the client cancels (counted in cancelled()).
#pragma once

#include <atomic>
#include <mutex>
#include <string>

#include "web/bridge/testdata/echo.grpc.pb.h"

namespace skydeck::web::test_support {

class CallbackEcho final : public bridgetest::Echo::CallbackService {
 public:
  grpc::ServerUnaryReactor* Say(grpc::CallbackServerContext* ctx,
                                const bridgetest::EchoRequest* req,
                                bridgetest::EchoResponse* resp) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    if (req->text() == "missing") {
      reactor->Finish(grpc::Status(grpc::StatusCode::NOT_FOUND, "no such echo"));
      return reactor;
    }
    std::string out;
    for (int i = 0; i < std::max(1, req->times()); ++i) out += req->text();
    resp->set_text(out);
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  grpc::ServerWriteReactor<bridgetest::EchoResponse>* Count(
      grpc::CallbackServerContext* ctx, const bridgetest::EchoRequest* req) override {
    return new Counter(this, *req);
  }

  int open() const { return open_.load(); }
  int cancelled() const { return cancelled_.load(); }

 private:
  class Counter final : public grpc::ServerWriteReactor<bridgetest::EchoResponse> {
   public:
    Counter(CallbackEcho* service, const bridgetest::EchoRequest& req)
        : service_(service), text_(req.text()), times_(req.times()) {
      service_->open_++;
      Next();
    }
    void OnWriteDone(bool ok) override {
      if (!ok) {
        FinishOnce(grpc::Status(grpc::StatusCode::CANCELLED, "client gone"));
        return;
      }
      Next();
    }
    void OnCancel() override {
      service_->cancelled_++;
      FinishOnce(grpc::Status::CANCELLED);
    }
    void OnDone() override {
      service_->open_--;
      delete this;
    }

   private:
    void Next() {
      bool endless = times_ == 0;
      if ((!endless && sent_ >= times_) || (endless && sent_ >= 1)) {
        if (!endless) FinishOnce(grpc::Status::OK);
        return;  // endless: wait for OnCancel
      }
      resp_.set_text(text_ + std::to_string(sent_++));
      StartWrite(&resp_);
    }
    void FinishOnce(const grpc::Status& status) {
      std::lock_guard<std::mutex> lock(mu_);
      if (finished_) return;
      finished_ = true;
      Finish(status);
    }

    CallbackEcho* service_;
    std::string text_;
    int times_;
    int sent_ = 0;
    bridgetest::EchoResponse resp_;
    std::mutex mu_;
    bool finished_ = false;
  };

  std::atomic<int> open_{0};
  std::atomic<int> cancelled_{0};
};

}  // namespace skydeck::web::test_support
