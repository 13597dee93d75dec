#include "daemon/prices_and_links.h"

#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace skydeck {

absl::StatusOr<PriceTable> LoadPriceFiles(const std::vector<std::string>& paths) {
  PriceTable merged;
  for (const std::string& path : paths) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      return absl::NotFoundError(absl::StrCat("--prices ", path, ": cannot be read"));
    }
    std::stringstream text;
    text << in.rdbuf();
    absl::StatusOr<PriceTable> table = PriceTable::Parse(text.str(), path);
    if (!table.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--prices ", table.status().message()));
    }
    merged.Merge(*table);
  }
  return merged;
}

absl::StatusOr<std::vector<LinkTemplate>> ParseLinkFlags(const std::vector<std::string>& flags) {
  std::vector<LinkTemplate> out;
  std::set<std::string> names;
  for (const std::string& flag : flags) {
    absl::StatusOr<LinkTemplate> t = LinkTemplate::Parse(flag);
    if (!t.ok()) return absl::InvalidArgumentError(absl::StrCat("--", t.status().message()));
    if (!names.insert(t->name()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("--link: the name \"", t->name(), "\" is given twice"));
    }
    out.push_back(*std::move(t));
  }
  return out;
}

void AddSkyPilotDashboardLink(const std::string& endpoint, std::vector<LinkTemplate>* templates) {
  for (const LinkTemplate& t : *templates) {
    if (t.name() == "SkyPilot") return;
  }
  absl::StatusOr<LinkTemplate> t =
      LinkTemplate::Parse(absl::StrCat("SkyPilot=", SkyPilotJobPageTemplate(endpoint)));
  if (t.ok()) templates->push_back(*std::move(t));
}

}  // namespace skydeck
