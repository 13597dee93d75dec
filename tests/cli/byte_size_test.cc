#include "cli/byte_size.h"

#include <catch2/catch.hpp>

#include "absl/strings/match.h"

#include "cli/command.h"
#include "cli/log_options.h"

namespace skydeck::cli {
namespace {

int64_t Bytes(const char* text) {
  absl::StatusOr<int64_t> bytes = ParseByteSize("--tail-bytes", text);
  REQUIRE(bytes.ok());
  return *bytes;
}

TEST_CASE("sizes take binary and decimal suffixes", "[cli]") {
  CHECK(Bytes("0") == 0);
  CHECK(Bytes("4096") == 4096);
  CHECK(Bytes("10B") == 10);
  CHECK(Bytes("64K") == 64 * 1024);
  CHECK(Bytes("10KiB") == 10 * 1024);
  CHECK(Bytes("10kib") == 10 * 1024);
  CHECK(Bytes("10KB") == 10'000);
  CHECK(Bytes("1M") == 1 << 20);
  CHECK(Bytes("1MiB") == 1 << 20);
  CHECK(Bytes("1MB") == 1'000'000);
  CHECK(Bytes("2G") == int64_t{2} << 30);
  CHECK(Bytes("3GB") == 3'000'000'000);
  CHECK(Bytes("1TiB") == int64_t{1} << 40);
}

TEST_CASE("sizes refuse what they cannot read and say what they take", "[cli]") {
  for (const char* bad :
       {"", "-1", "1.5M", "10XB", "M", "ten", "1 M B", "99999999999999999999", "9000000T"}) {
    absl::StatusOr<int64_t> bytes = ParseByteSize("--tail-bytes", bad);
    INFO(bad);
    REQUIRE_FALSE(bytes.ok());
    CHECK(absl::IsInvalidArgument(bytes.status()));
    CHECK(absl::StrContains(bytes.status().message(), "--tail-bytes"));
    CHECK(absl::StrContains(bytes.status().message(), "KiB"));
    CHECK(bytes.status().message().size() < 300);  // no 309-digit range
  }
}

TEST_CASE("log options fill lines and bytes of the request", "[cli]") {
  LogOptions options;
  options.follow = true;
  options.tail_lines = 20;
  options.tail_bytes = "64KiB";
  skydeck::v1::GetJobLogsRequest request;
  REQUIRE(FillLogsRequest(options, &request).ok());
  CHECK(request.follow());
  CHECK(request.tail_lines() == 20);
  CHECK(request.tail_bytes() == 64 * 1024);

  options.tail_bytes = "lots";
  absl::Status bad = FillLogsRequest(options, &request);
  CHECK(IsUsageError(bad));
}

}  // namespace
}  // namespace skydeck::cli
