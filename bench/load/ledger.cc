#include "bench/load/ledger.h"

#include <fstream>

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace skydeck::bench {
namespace {

std::string ToJson(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, options);
  return out;
}

std::string Quoted(const std::string& s) { return nlohmann::json(s).dump(); }

}  // namespace

absl::StatusOr<Ledger> Ledger::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ledger ", path));
  Ledger ledger;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    nlohmann::json row = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    LedgerEntry entry;
    if (!row.is_object() || !row.contains("experiment") ||
        !google::protobuf::util::JsonStringToMessage(row["experiment"].dump(), &entry.expected)
             .ok()) {
      return absl::DataLossError(absl::StrCat(path, ":", n, ": not a ledger row"));
    }
    entry.uncertain = row.value("uncertain", false);
    ledger.entries_[entry.expected.id()] = std::move(entry);
  }
  return ledger;
}

absl::Status Ledger::Save(const std::string& path) const {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    for (const auto& [id, entry] : entries_) {
      out << "{\"experiment\":" << ToJson(entry.expected)
          << ",\"uncertain\":" << (entry.uncertain ? "true" : "false") << "}\n";
    }
    if (!out) return absl::UnavailableError(absl::StrCat("cannot write ledger ", tmp));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::UnavailableError(absl::StrCat("cannot rename ledger to ", path));
  }
  return absl::OkStatus();
}

void Ledger::Put(const pb::Experiment& experiment) {
  entries_[experiment.id()] = LedgerEntry{ExpectedSpec(experiment), false};
}

pb::Experiment ExpectedSpec(const pb::Experiment& from) {
  pb::Experiment e;
  e.set_id(from.id());
  e.set_name(from.name());
  e.set_description(from.description());
  e.set_base_command(from.base_command());
  *e.mutable_flags() = from.flags();
  *e.mutable_labels() = from.labels();
  e.set_desired_state(from.desired_state());
  if (from.has_max_restarts()) e.set_max_restarts(from.max_restarts());
  return e;
}

std::vector<std::string> Differences(const pb::Experiment& want, const pb::Experiment& got) {
  std::vector<std::string> out;
  auto text = [&](const char* field, const std::string& a, const std::string& b) {
    if (a != b) out.push_back(absl::StrCat(field, ": want ", Quoted(a), ", got ", Quoted(b)));
  };
  text("name", want.name(), got.name());
  text("description", want.description(), got.description());
  text("base_command", want.base_command(), got.base_command());
  if (want.desired_state() != got.desired_state()) {
    out.push_back(absl::StrCat("desired_state: want ", pb::DesiredState_Name(want.desired_state()),
                               ", got ", pb::DesiredState_Name(got.desired_state())));
  }
  if (want.has_max_restarts() && want.max_restarts() != got.max_restarts()) {
    out.push_back(
        absl::StrCat("max_restarts: want ", want.max_restarts(), ", got ", got.max_restarts()));
  }
  // Maps compare as maps: order on the wire is unspecified.
  pb::Experiment want_maps, got_maps;
  *want_maps.mutable_flags() = want.flags();
  *got_maps.mutable_flags() = got.flags();
  if (!google::protobuf::util::MessageDifferencer::Equals(want_maps, got_maps)) {
    out.push_back(absl::StrCat("flags: want ", ToJson(want_maps), ", got ", ToJson(got_maps)));
  }
  want_maps.Clear();
  got_maps.Clear();
  *want_maps.mutable_labels() = want.labels();
  *got_maps.mutable_labels() = got.labels();
  if (!google::protobuf::util::MessageDifferencer::Equals(want_maps, got_maps)) {
    out.push_back(absl::StrCat("labels: want ", ToJson(want_maps), ", got ", ToJson(got_maps)));
  }
  return out;
}

}  // namespace skydeck::bench
