#include "daemon/notify/backend_watch.h"

#include <catch2/catch.hpp>

#include "common/model/event_types.h"

namespace skydeck::notify {
namespace {

reconcile::BackendHealth Health(bool reachable) {
  reconcile::BackendHealth h;
  h.backend = "skypilot";
  h.endpoint = "http://127.0.0.1:46580";
  h.reachable = reachable;
  if (!reachable) h.last_poll_error = "cannot connect";
  return h;
}

TEST_CASE("an outage longer than the threshold is announced once, then its end", "[notify]") {
  BackendWatch watch(absl::Minutes(5), false);
  const int64_t t0 = 1'700'000'000'000;
  CHECK_FALSE(watch.Observe(Health(true), t0));
  CHECK_FALSE(watch.Observe(Health(false), t0 + 1000));
  CHECK_FALSE(watch.Observe(Health(false), t0 + 1000 + 299'000));
  auto down = watch.Observe(Health(false), t0 + 1000 + 300'000);
  REQUIRE(down);
  CHECK(down->type == model::event::kBackendUnreachable);
  CHECK(down->message ==
        "the skypilot backend at http://127.0.0.1:46580 has been unreachable since "
        "2023-11-14T22:13:21.000Z: cannot connect");
  CHECK(watch.announced());
  CHECK_FALSE(watch.Observe(Health(false), t0 + 900'000));
  auto up = watch.Observe(Health(true), t0 + 901'000);
  REQUIRE(up);
  CHECK(up->type == model::event::kBackendReachable);
  CHECK_FALSE(watch.Observe(Health(true), t0 + 902'000));
}

TEST_CASE("a short blip makes no event", "[notify]") {
  BackendWatch watch(absl::Minutes(5), false);
  CHECK_FALSE(watch.Observe(Health(false), 0 + 1));
  CHECK_FALSE(watch.Observe(Health(true), 60'000));
  CHECK_FALSE(watch.Observe(Health(false), 120'000));
  CHECK_FALSE(watch.Observe(Health(false), 120'000 + 299'000));  // the clock restarted
}

TEST_CASE("an outage announced before a restart ends with the next reachable sample", "[notify]") {
  BackendWatch watch(absl::Minutes(5), true);
  auto up = watch.Observe(Health(true), 1);
  REQUIRE(up);
  CHECK(up->type == model::event::kBackendReachable);
}

}  // namespace
}  // namespace skydeck::notify
