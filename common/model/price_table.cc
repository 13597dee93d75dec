#include "common/model/price_table.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace skydeck {
namespace {

// One CSV record: RFC 4180 quoting ("a,b" and "" for a quote). SkyPilot's
// catalogs quote their GpuInfo column, which holds commas.
absl::StatusOr<std::vector<std::string>> SplitCsvLine(absl::string_view line) {
  std::vector<std::string> cells(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cells.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cells.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      cells.emplace_back();
    } else {
      cells.back() += c;
    }
  }
  if (quoted) return absl::InvalidArgumentError("a quoted cell is not closed");
  for (std::string& cell : cells) cell = std::string(absl::StripAsciiWhitespace(cell));
  return cells;
}

// "" -> unset; else a finite number >= 0.
absl::StatusOr<std::optional<double>> ParsePrice(const std::string& cell, absl::string_view column) {
  if (cell.empty()) return std::optional<double>();
  double value = 0;
  if (!absl::SimpleAtod(cell, &value) || !std::isfinite(value) || value < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("column ", column, ": \"", cell, "\" is not a price (a number >= 0)"));
  }
  return std::optional<double>(value);
}

std::optional<double> Cheaper(std::optional<double> a, std::optional<double> b) {
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}

struct Columns {
  std::map<std::string, size_t> index;
  std::optional<size_t> Find(const std::string& name) const {
    auto it = index.find(name);
    if (it == index.end()) return std::nullopt;
    return it->second;
  }
};

absl::Status LineError(absl::string_view source, size_t line, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(source, ":", line, ": ", what));
}

}  // namespace

void PriceTable::Offer(const std::string& gpu_type, std::optional<double> on_demand,
                       std::optional<double> spot) {
  GpuPrice& p = prices_[absl::AsciiStrToUpper(gpu_type)];
  p.on_demand = Cheaper(p.on_demand, on_demand);
  p.spot = Cheaper(p.spot, spot);
}

absl::StatusOr<PriceTable> PriceTable::Parse(absl::string_view text, absl::string_view source) {
  std::vector<absl::string_view> lines = absl::StrSplit(text, '\n');
  size_t header_line = 0;
  while (header_line < lines.size() &&
         absl::StripAsciiWhitespace(lines[header_line]).empty()) {
    ++header_line;
  }
  if (header_line == lines.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": empty; expected a CSV header \"gpu_type,on_demand,spot\" or a SkyPilot "
                "catalog's (InstanceType,AcceleratorName,AcceleratorCount,...,Price,SpotPrice)"));
  }
  auto header = SplitCsvLine(absl::StripTrailingAsciiWhitespace(lines[header_line]));
  if (!header.ok()) return LineError(source, header_line + 1, header.status().message());
  Columns cols;
  for (size_t i = 0; i < header->size(); ++i) cols.index.emplace((*header)[i], i);

  const bool catalog = cols.Find("AcceleratorName").has_value();
  std::vector<std::string> required =
      catalog ? std::vector<std::string>{"AcceleratorName", "AcceleratorCount", "Price",
                                         "SpotPrice"}
              : std::vector<std::string>{"gpu_type", "on_demand", "spot"};
  for (const std::string& name : required) {
    if (!cols.Find(name)) {
      return LineError(
          source, header_line + 1,
          absl::StrCat("the header has no column \"", name, "\"; expected ",
                       catalog ? "a SkyPilot catalog (InstanceType,AcceleratorName,"
                                 "AcceleratorCount,...,Price,SpotPrice)"
                               : "\"gpu_type,on_demand,spot\" (prices per GPU per hour) or a "
                                 "SkyPilot catalog's header",
                       "; got \"", absl::StrJoin(*header, ","), "\""));
    }
  }

  PriceTable table;
  std::map<std::string, size_t> seen;  // SkyDeck's format: type -> line
  for (size_t n = header_line + 1; n < lines.size(); ++n) {
    absl::string_view raw = absl::StripTrailingAsciiWhitespace(lines[n]);
    if (absl::StripAsciiWhitespace(raw).empty() || raw.front() == '#') continue;
    auto cells = SplitCsvLine(raw);
    if (!cells.ok()) return LineError(source, n + 1, cells.status().message());
    auto cell = [&](const std::string& name) -> std::string {
      size_t i = *cols.Find(name);
      return i < cells->size() ? (*cells)[i] : "";
    };
    auto on_demand = ParsePrice(cell(catalog ? "Price" : "on_demand"), catalog ? "Price" : "on_demand");
    if (!on_demand.ok()) return LineError(source, n + 1, on_demand.status().message());
    auto spot = ParsePrice(cell(catalog ? "SpotPrice" : "spot"), catalog ? "SpotPrice" : "spot");
    if (!spot.ok()) return LineError(source, n + 1, spot.status().message());

    if (catalog) {
      std::string gpu = cell("AcceleratorName");
      std::string count_text = cell("AcceleratorCount");
      if (gpu.empty() || count_text.empty()) continue;  // a CPU-only instance type
      double count = 0;
      if (!absl::SimpleAtod(count_text, &count) || !std::isfinite(count) || count < 0) {
        return LineError(source, n + 1,
                         absl::StrCat("AcceleratorCount \"", count_text, "\" is not a number"));
      }
      if (count <= 0) continue;
      auto per_gpu = [count](std::optional<double> p) {
        return p ? std::optional<double>(*p / count) : std::nullopt;
      };
      table.Offer(gpu, per_gpu(*on_demand), per_gpu(*spot));
    } else {
      std::string gpu = cell("gpu_type");
      if (gpu.empty()) return LineError(source, n + 1, "gpu_type is empty");
      auto [it, inserted] = seen.emplace(absl::AsciiStrToUpper(gpu), n + 1);
      if (!inserted) {
        return LineError(source, n + 1,
                         absl::StrCat("GPU type \"", gpu, "\" is already priced on line ",
                                      it->second));
      }
      if (!*on_demand && !*spot) {
        return LineError(source, n + 1, absl::StrCat("GPU type \"", gpu, "\" has no price"));
      }
      table.Offer(gpu, *on_demand, *spot);
    }
  }
  return table;
}

std::optional<double> PriceTable::PerGpuHour(absl::string_view gpu_type, bool spot) const {
  auto it = prices_.find(absl::AsciiStrToUpper(gpu_type));
  if (it == prices_.end()) return std::nullopt;
  return spot ? it->second.spot : it->second.on_demand;
}

void PriceTable::Merge(const PriceTable& other) {
  for (const auto& [gpu, price] : other.prices_) Offer(gpu, price.on_demand, price.spot);
}

}  // namespace skydeck
