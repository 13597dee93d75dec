// Every backend call of one Reconcile, and of one poll, runs under one
// deadline (ReconcilerOptions::backend_call_timeout, backend/call_deadline.h).
#include <catch2/catch.hpp>

#include "reconcile_fixture.h"

#include "daemon/backend/call_deadline.h"
#include "daemon/reconcile/poller.h"
#include "daemon/reconcile/reconciler.h"

namespace skydeck::reconcile {
namespace {

TEST_CASE_METHOD(ReconcileFixture, "a reconcile's backend calls share its deadline",
                 "[reconcile]") {
  ReconcilerOptions options;
  options.backend_call_timeout = absl::Minutes(2);
  Reconciler bounded(
      store.get(), &backend, "abcd1234", [this] { return now_ms; }, options);
  absl::Time seen = absl::InfinitePast();
  backend.before_launch = [&](const backend::JobSpec&) {
    seen = backend::CallDeadline();
    return absl::OkStatus();
  };
  int64_t id = Create("bounded");
  absl::Time before = absl::Now();
  REQUIRE(bounded.Reconcile(id).ok());
  REQUIRE(backend.launch_calls == 1);
  CHECK(seen >= before + absl::Minutes(2));
  CHECK(seen <= absl::Now() + absl::Minutes(2));
  CHECK(backend::CallDeadline() == absl::InfiniteFuture());  // only during the reconcile

  SECTION("without a timeout, calls have no deadline of the reconciler's") {
    backend.launch_error = absl::OkStatus();
    int64_t other = Create("unbounded");
    REQUIRE(reconciler->Reconcile(other).ok());
    CHECK(seen == absl::InfiniteFuture());
  }
}

}  // namespace
}  // namespace skydeck::reconcile
