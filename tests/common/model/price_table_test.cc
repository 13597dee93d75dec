#include "common/model/price_table.h"

#include <catch2/catch.hpp>

namespace skydeck {
namespace {

TEST_CASE("SkyDeck's price CSV gives prices per GPU per hour", "[cost]") {
  auto t = PriceTable::Parse(
      "gpu_type,on_demand,spot\n"
      "H100, 2.49, 0.99\n"
      "# a comment\n"
      "\n"
      "A100-80GB,1.79,\n",
      "prices.csv");
  REQUIRE(t.ok());
  CHECK(t->PerGpuHour("H100", false) == 2.49);
  CHECK(t->PerGpuHour("h100", true) == 0.99);  // GPU types compared without case
  CHECK(t->PerGpuHour("A100-80GB", false) == 1.79);
  CHECK_FALSE(t->PerGpuHour("A100-80GB", true).has_value());  // no spot price given
  CHECK_FALSE(t->PerGpuHour("L4", false).has_value());
}

TEST_CASE("a SkyPilot catalog's rows are priced per GPU, the cheapest kept", "[cost]") {
  // Columns as in skypilot-catalog's catalogs/v7/aws/vms.csv (GpuInfo quoted, with commas).
  auto t = PriceTable::Parse(
      "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,"
      "Region,AvailabilityZone\n"
      "p5.48xlarge,H100,8.0,192.0,2048.0,\"{'Gpus': [{'Name': 'H100', 'Count': 8}], "
      "'TotalGpuMemoryInMiB': 655360}\",98.32,39.33,us-east-1,us-east-1a\n"
      "p5.48xlarge,H100,8.0,192.0,2048.0,\"{'Gpus': []}\",110.0,30.0,us-west-2,us-west-2a\n"
      "m6i.large,,,2.0,8.0,,0.096,0.03,us-east-1,us-east-1a\n"
      "g5.xlarge,A10G,1.0,4.0,16.0,,1.006,,us-east-1,us-east-1a\n",
      "vms.csv");
  REQUIRE(t.ok());
  CHECK(t->PerGpuHour("H100", false) == Approx(98.32 / 8));
  CHECK(t->PerGpuHour("H100", true) == Approx(30.0 / 8));  // cheapest spot: us-west-2
  CHECK(t->PerGpuHour("A10G", false) == Approx(1.006));
  CHECK_FALSE(t->PerGpuHour("A10G", true).has_value());
  CHECK(t->prices().size() == 2);  // the CPU-only row is skipped
}

TEST_CASE("price files with mistakes are refused, naming file and line", "[cost]") {
  auto unknown = PriceTable::Parse("gpu,price\nH100,2\n", "p.csv");
  REQUIRE(unknown.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(unknown.status().message()),
             Catch::Contains("p.csv:1") && Catch::Contains("gpu_type"));

  auto bad_price = PriceTable::Parse("gpu_type,on_demand,spot\nH100,two,1\n", "p.csv");
  REQUIRE(bad_price.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(bad_price.status().message()),
             Catch::Contains("p.csv:2") && Catch::Contains("\"two\""));

  auto negative = PriceTable::Parse("gpu_type,on_demand,spot\nH100,-1,1\n", "p.csv");
  CHECK(negative.status().code() == absl::StatusCode::kInvalidArgument);

  auto twice = PriceTable::Parse("gpu_type,on_demand,spot\nH100,2,1\nh100,3,1\n", "p.csv");
  REQUIRE(twice.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(twice.status().message()), Catch::Contains("line 2"));

  auto none = PriceTable::Parse("gpu_type,on_demand,spot\nH100,,\n", "p.csv");
  CHECK(none.status().code() == absl::StatusCode::kInvalidArgument);

  auto empty = PriceTable::Parse("\n\n", "p.csv");
  CHECK(empty.status().code() == absl::StatusCode::kInvalidArgument);

  auto unclosed = PriceTable::Parse(
      "InstanceType,AcceleratorName,AcceleratorCount,Price,SpotPrice\nx,H100,8,\"1,2\n", "v.csv");
  CHECK(unclosed.status().code() == absl::StatusCode::kInvalidArgument);

  auto catalog_missing = PriceTable::Parse("InstanceType,AcceleratorName,Price\n", "v.csv");
  REQUIRE(catalog_missing.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(catalog_missing.status().message()), Catch::Contains("AcceleratorCount"));
}

TEST_CASE("merged tables keep the cheaper price of each kind", "[cost]") {
  auto a = PriceTable::Parse("gpu_type,on_demand,spot\nH100,3,1\n", "a.csv");
  auto b = PriceTable::Parse("gpu_type,on_demand,spot\nH100,2,\nL4,0.5,0.2\n", "b.csv");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  a->Merge(*b);
  CHECK(a->PerGpuHour("H100", false) == 2);
  CHECK(a->PerGpuHour("H100", true) == 1);
  CHECK(a->PerGpuHour("L4", true) == 0.2);
}

}  // namespace
}  // namespace skydeck
