// File: common/model/price_table.h
//
// What a GPU costs per hour, by GPU type, on demand and on spot: the table
// skydeckd --prices loads to put a cost on GPU-hours (cost_report.h).
// Two CSV formats are read, told apart by their header row:
//
//   - SkyDeck's own, one row per GPU type, prices per GPU per hour (USD):
//
//       gpu_type,on_demand,spot
//       H100,2.49,0.99
//       A100-80GB,1.79,          <- an empty cell: no price for that kind
//
//   - SkyPilot's catalog files (skypilot-catalog's catalogs/v*/<cloud>/vms.csv):
//     columns InstanceType, AcceleratorName, AcceleratorCount, Price,
//     SpotPrice, Region, ... (any order, others ignored). A row's price per
//     GPU is Price / AcceleratorCount; rows without an accelerator are
//     skipped. Several rows for one GPU type (instance types, regions):
//     the cheapest per GPU is kept, the one SkyPilot's optimizer would pick.
//
// GPU types are compared without ASCII case, as SkyPilot compares
// accelerator names. Merge() combines files (e.g. one catalog per cloud),
// keeping the cheaper price of each.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace skydeck {

struct GpuPrice {
  // USD per GPU per hour; unset: unknown.
  std::optional<double> on_demand;
  std::optional<double> spot;
};

class PriceTable {
 public:
  // Parses one file's text; `source` names it in errors ("prices.csv").
  // Errors: INVALID_ARGUMENT naming the source, the line and what is
  // wrong (unknown header, a missing column, a price that is not a
  // non-negative number, a GPU type listed twice in SkyDeck's format).
  static absl::StatusOr<PriceTable> Parse(absl::string_view text, absl::string_view source);

  // The price per GPU per hour of `gpu_type` (spot or on demand); unset
  // when the table has none.
  std::optional<double> PerGpuHour(absl::string_view gpu_type, bool spot) const;

  // Adds `other`'s prices, keeping the cheaper of two for the same kind.
  void Merge(const PriceTable& other);

  bool empty() const { return prices_.empty(); }
  // By GPU type in upper case.
  const std::map<std::string, GpuPrice>& prices() const { return prices_; }

 private:
  // Keeps the cheaper of the stored and the given price.
  void Offer(const std::string& gpu_type, std::optional<double> on_demand,
             std::optional<double> spot);

  std::map<std::string, GpuPrice> prices_;
};

}  // namespace skydeck
