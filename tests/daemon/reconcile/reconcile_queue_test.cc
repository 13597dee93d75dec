#include "daemon/reconcile/reconcile_queue.h"

#include <algorithm>
#include <atomic>
#include <thread>

#include <catch2/catch.hpp>

namespace skydeck::reconcile {
namespace {

TEST_CASE("the queue holds each id once", "[reconcile][queue]") {
  ReconcileQueue q;
  q.Add(1);
  q.Add(1);
  q.Add(2);
  CHECK(q.Depth() == 2);
  CHECK(q.Get() == 1);
  CHECK(q.Get() == 2);
  CHECK(q.Depth() == 0);
}

TEST_CASE("an id added while processing is requeued after Done", "[reconcile][queue]") {
  ReconcileQueue q;
  q.Add(7);
  auto id = q.Get();
  REQUIRE(id == 7);
  q.Add(7);  // not handed to another worker meanwhile
  CHECK(q.Depth() == 0);
  q.Done(7);
  CHECK(q.Depth() == 1);
  CHECK(q.Get() == 7);
}

TEST_CASE("user writes go first but resyncs are not starved", "[reconcile][queue]") {
  ReconcileQueue q;
  for (int i = 100; i < 110; ++i) q.Add(i, ReconcileQueue::Priority::kResync);
  for (int i = 1; i <= 10; ++i) q.Add(i);
  std::vector<int64_t> order;
  for (int i = 0; i < 8; ++i) {
    order.push_back(*q.Get());
    q.Done(order.back());
  }
  // Three urgent, then one resync, repeatedly.
  CHECK(order == std::vector<int64_t>{1, 2, 3, 100, 4, 5, 6, 101});
}

TEST_CASE("a user write promotes a waiting resync", "[reconcile][queue]") {
  ReconcileQueue q;
  q.Add(5, ReconcileQueue::Priority::kResync);
  q.Add(6, ReconcileQueue::Priority::kResync);
  q.Add(6);
  CHECK(q.Get() == 6);
}

TEST_CASE("a bulk add queues each id once, promotes resyncs and marks ids in process",
          "[reconcile][queue]") {
  ReconcileQueue q;
  for (int64_t i = 1; i <= 6; ++i) q.Add(i, ReconcileQueue::Priority::kResync);
  auto busy = q.Get();  // 1, in process
  REQUIRE(busy == 1);
  q.AddMany({5, 3, 3, 1, 9});
  // 5 and 3 promoted (once each), 9 new, 1 dirty; 2, 4, 6 still resyncs.
  CHECK(q.Depth() == 6);
  std::vector<int64_t> first = {*q.Get(), *q.Get(), *q.Get()};
  CHECK(first == std::vector<int64_t>{5, 3, 9});
  q.Done(1);
  std::vector<int64_t> rest;
  for (int i = 0; i < 4; ++i) rest.push_back(*q.Get());
  std::sort(rest.begin(), rest.end());
  CHECK(rest == std::vector<int64_t>{1, 2, 4, 6});
  CHECK(q.Depth() == 0);
}

TEST_CASE("delayed adds arrive after their delay", "[reconcile][queue]") {
  ReconcileQueue q;
  auto start = std::chrono::steady_clock::now();
  q.AddAfter(3, absl::Milliseconds(50));
  q.AddAfter(3, absl::Seconds(60));  // the earlier one wins
  CHECK(q.DelayedCount() == 1);
  CHECK(q.Get() == 3);
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(50));
}

TEST_CASE("shutdown wakes blocked workers", "[reconcile][queue]") {
  ReconcileQueue q;
  std::atomic<bool> woke{false};
  std::thread worker([&] {
    CHECK_FALSE(q.Get().has_value());
    woke = true;
  });
  q.ShutDown();
  worker.join();
  CHECK(woke);
}

}  // namespace
}  // namespace skydeck::reconcile
