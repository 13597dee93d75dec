// File: daemon/prices_and_links.h
//
// skydeckd's --prices files and --link templates, read and checked at
// start-up so a mistake stops the daemon with a message naming the file,
// line or template, rather than showing wrong costs or broken links later.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

#include "common/model/link_template.h"
#include "common/model/price_table.h"

namespace skydeck {

// Reads and merges the price files (common/model/price_table.h; the
// cheaper price wins where two list the same GPU type). No files: an empty
// table. Errors: NOT_FOUND / PERMISSION_DENIED for a file that cannot be
// read, INVALID_ARGUMENT for its contents, each naming the file.
absl::StatusOr<PriceTable> LoadPriceFiles(const std::vector<std::string>& paths);

// Parses each "NAME=TEMPLATE" (LinkTemplate::Parse), in order.
// Errors: INVALID_ARGUMENT for a bad template or a name given twice.
absl::StatusOr<std::vector<LinkTemplate>> ParseLinkFlags(const std::vector<std::string>& flags);

// The default link of the SkyPilot backend: its dashboard's managed job
// page, named "SkyPilot", appended unless a template of that name was given.
void AddSkyPilotDashboardLink(const std::string& endpoint, std::vector<LinkTemplate>* templates);

}  // namespace skydeck
