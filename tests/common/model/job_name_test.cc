// File: tests/common/model/job_name_test.cc
#include "common/model/job_name.h"

#include <catch2/catch.hpp>

namespace skydeck::model {
namespace {

TEST_CASE("a backend job name names the installation, experiment and attempt", "[model]") {
  CHECK(BackendJobName("ab12", 7, 2) == "skydeck-ab12-7-2");
  CHECK(BackendJobNamePattern("ab12", 7) == "skydeck-ab12-7-{attempt}");
  CHECK(FillAttempt(BackendJobNamePattern("ab12", 7), 3) == BackendJobName("ab12", 7, 3));
}

TEST_CASE("a name without the placeholder is kept as given", "[model]") {
  CHECK(FillAttempt("my-job", 4) == "my-job");
  CHECK(FillAttempt("", 1).empty());
}

}  // namespace
}  // namespace skydeck::model
