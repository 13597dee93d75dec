// File: tests/common/grpc_callback_queue_pin.h
//
// Works around a teardown race in gRPC 1.51 for test binaries that create
// and destroy callback-API channels and servers test after test.
//
// Without a background poller (Debian's build), gRPC serves the callback
// API from one process-wide completion queue polled by its own threads. A
// channel or server takes a reference on it with its first callback call
// and drops it when destroyed; at zero gRPC shuts the queue down, joins
// its threads and deletes it, and the next callback call builds a new one.
// Repeating that between test cases now and then aborts the process with
// "ref_counted.h:183 assertion failed: prior > 0" (grpc_cq_internal_unref
// on one of gRPC's threads, no frame of ours); seen in 2 of 71 runs of
// bridge_test. A daemon takes its reference once and drops it at exit.
//
// PinGrpcCallbackQueue() makes one callback call on a channel that lives
// until the process exits, so the count never returns to zero between
// test cases. Call it before a fixture builds a callback channel/server.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

namespace skydeck::testing {

inline void PinGrpcCallbackQueue() {
  static const bool pinned = [] {
    // Never destroyed: its reference on the callback queue lives until exit.
    auto* channel = new std::shared_ptr<grpc::Channel>(
        grpc::CreateChannel("127.0.0.1:1", grpc::InsecureChannelCredentials()));
    auto* stub = new grpc::GenericStub(*channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(100));
    grpc::Slice empty("");
    grpc::ByteBuffer request(&empty, 1), response;
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    stub->UnaryCall(&ctx, "/skydeck.test.Pin/Pin", grpc::StubOptions(), &request, &response,
                    [&](grpc::Status) {
                      std::lock_guard<std::mutex> lock(mu);
                      done = true;
                      cv.notify_all();
                    });
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return done; });
    return true;
  }();
  (void)pinned;
}

}  // namespace skydeck::testing
