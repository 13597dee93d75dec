// The streaming printers of cli/list_stream.h and TableStream (output.h):
// a list printed piece by piece must read exactly as the whole list
// printed at once, however it is cut into pages.
#include "cli/list_stream.h"

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <yaml-cpp/yaml.h>

#include "cli/output.h"
#include "skydeck/v1/resources.pb.h"

using namespace skydeck::cli;
namespace pb = skydeck::v1;

namespace {

// Experiments with what makes printers stumble: text that needs quoting or
// escaping in YAML and JSON, line breaks, non-ASCII text, maps, repeated
// fields, nested messages, int64 ids, and one with almost nothing set.
std::vector<pb::Experiment> TrickyExperiments() {
  std::vector<pb::Experiment> out;
  for (int i = 1; i <= 7; ++i) {
    pb::Experiment e;
    e.set_id(i * 1000000007LL);
    e.set_name("exp-" + std::to_string(i));
    e.set_base_command("python train.py \\\n  --x \"quoted\" 'single' # not a comment");
    e.set_description(i % 2 ? "two\nlines: - [x] {y}" : "é ünïcode ✓ and a tab\t");
    (*e.mutable_labels())["sweep"] = "s" + std::to_string(i % 3);
    (*e.mutable_labels())["num"] = "42";
    (*e.mutable_flags())["trainer.lr"].set_double_value(3e-4 * i);
    (*e.mutable_flags())["seed"].set_int_value(i);
    (*e.mutable_flags())["name"].set_string_value(i % 2 ? "yes" : "");
    (*e.mutable_flags())["on"].set_bool_value(i % 2 == 0);
    e.add_secrets("HF_TOKEN");
    e.add_secrets("- dash");
    pb::Condition* c = e.add_conditions();
    c->set_type("Ready");
    c->set_status(true);
    c->set_message("  leading spaces, trailing  ");
    c->mutable_last_transition_time()->set_seconds(1700000000 + i);
    e.mutable_create_time()->set_seconds(1700000000);
    e.set_desired_state(pb::DESIRED_STATE_RUNNING);
    out.push_back(e);
  }
  pb::Experiment bare;
  bare.set_id(99);
  bare.set_name("bare");
  out.push_back(bare);
  return out;
}

// The list printed through a ListDocumentStream, `page` items per call as
// `exp list` does with its pages.
std::string Streamed(OutputFormat format, const std::vector<pb::Experiment>& items, size_t page,
                     Int64Encoding encoding) {
  ListDocumentStream stream(format, "experiments");
  std::string out;
  for (size_t i = 0; i < items.size(); i += page) {
    for (size_t j = i; j < std::min(items.size(), i + page); ++j) {
      out += stream.Add(ProtoToJson(items[j], encoding));
    }
  }
  CHECK(stream.count() == items.size());
  return out + stream.Finish();
}

std::vector<pb::Experiment> First(const std::vector<pb::Experiment>& all, size_t n) {
  return {all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n)};
}

}  // namespace

TEST_CASE("a streamed json list is the whole document byte for byte", "[cli][list_stream]") {
  std::vector<pb::Experiment> all = TrickyExperiments();
  for (size_t n : {size_t{0}, size_t{1}, size_t{2}, all.size()}) {
    std::vector<pb::Experiment> items = First(all, n);
    std::string whole = RenderJson(ListDocument("experiments", items, Int64Encoding::kJsonString));
    for (size_t page : {1, 3, 100}) {
      INFO("items " << n << ", page " << page);
      CHECK(Streamed(OutputFormat::kJson, items, page, Int64Encoding::kJsonString) == whole);
    }
  }
  CHECK(Streamed(OutputFormat::kJson, {}, 1, Int64Encoding::kJsonString) ==
        "{\n  \"experiments\": []\n}\n");
}

TEST_CASE("a streamed yaml list is the whole document byte for byte", "[cli][list_stream]") {
  std::vector<pb::Experiment> all = TrickyExperiments();
  for (size_t n : {size_t{0}, size_t{1}, size_t{2}, all.size()}) {
    std::vector<pb::Experiment> items = First(all, n);
    std::string whole = RenderYaml(ListDocument("experiments", items, Int64Encoding::kNumber));
    for (size_t page : {1, 3, 100}) {
      INFO("items " << n << ", page " << page);
      std::string streamed = Streamed(OutputFormat::kYaml, items, page, Int64Encoding::kNumber);
      CHECK(streamed == whole);
      // And a YAML reader gets the items back, in order.
      YAML::Node doc = YAML::Load(streamed);
      REQUIRE(doc["experiments"].IsSequence());
      REQUIRE(doc["experiments"].size() == n);
      for (size_t i = 0; i < n; ++i) {
        CHECK(doc["experiments"][i]["name"].as<std::string>() == items[i].name());
        CHECK(doc["experiments"][i]["description"].as<std::string>("") == items[i].description());
      }
    }
  }
  CHECK(Streamed(OutputFormat::kYaml, {}, 1, Int64Encoding::kNumber) == "experiments: []\n");
}

TEST_CASE("a streamed name list is one name per line", "[cli][list_stream]") {
  std::vector<pb::Experiment> all = TrickyExperiments();
  std::string whole = NamesOf(ListDocument("experiments", all, Int64Encoding::kJsonString));
  CHECK(Streamed(OutputFormat::kName, all, 2, Int64Encoding::kJsonString) == whole);
  CHECK(Streamed(OutputFormat::kName, {}, 2, Int64Encoding::kJsonString).empty());
}

TEST_CASE("a json list cut off before its end is the document's start", "[cli][list_stream]") {
  std::vector<pb::Experiment> all = TrickyExperiments();
  std::string whole = RenderJson(ListDocument("experiments", all, Int64Encoding::kJsonString));
  ListDocumentStream stream(OutputFormat::kJson, "experiments");
  std::string partial = stream.Add(ProtoToJson(all[0], Int64Encoding::kJsonString));
  CHECK(whole.compare(0, partial.size(), partial) == 0);
  CHECK(partial.size() < whole.size());
  CHECK(nlohmann::json::parse(partial, nullptr, false).is_discarded());
}

TEST_CASE("a table stream prints its first batch as the whole table", "[cli][list_stream]") {
  std::vector<std::vector<std::string>> first = {{"1", "lr-a", ""}, {"100", "é", "z"}};
  Table whole({"ID", "NAME", "X"});
  for (const auto& row : first) whole.AddRow(row);
  TableStream stream({"ID", "NAME", "X"});
  CHECK(stream.AddRows(first) == whole.Render());
  CHECK(stream.AddRows(first) == "1     lr-a\n100   é      z\n");  // no second header
  CHECK(stream.size() == 4);
}

TEST_CASE("a table stream widens a column from the batch that needs it", "[cli][list_stream]") {
  TableStream stream({"ID", "NAME", "FLAGS"});
  CHECK(stream.AddRows({{"1", "a", "x=1"}}) == "ID   NAME   FLAGS\n1    a      x=1\n");
  CHECK(stream.AddRows({{"2", "bb", "y=2"}}) == "2    bb     y=2\n");
  // A wider id and name push their columns right, from here on.
  CHECK(stream.AddRows({{"1000", "a-long-name", ""}, {"3", "c", "z"}}) ==
        "1000   a-long-name\n3      c             z\n");
  // Widths never shrink back.
  CHECK(stream.AddRows({{"4", "d", "w"}}) == "4      d             w\n");
  CHECK(stream.AddRows({}).empty());
}

TEST_CASE("a table stream without headers prints only rows", "[cli][list_stream]") {
  TableStream stream({"ID", "NAME"}, /*with_header=*/false);
  // The header still sizes the columns, as --no-headers on a whole table.
  CHECK(stream.AddRows({{"1", "a"}}) == "1    a\n");
  CHECK(stream.AddRows({{"2", "b"}}) == "2    b\n");
}
