// File: cli/seed_import.h
//
// Reads a database written by SkyDeck's predecessor (the Python dashboard,
// github.com/Metta-AI/skydeck: tables `experiments`, `jobs`,
// `experiment_groups`, `experiment_group_members`) into an
// ImportExperimentsRequest for `skydeck import --seed-db`.
//
// How its fields land here:
//   name, description, nodes, gpus, spot, cloud (-> infra), flags (JSON
//   scalars keep their type; anything else becomes its JSON text);
//   base_command plus tool_path -> base_command; run_name (else the name);
//   exp_group -> label group=G; each group it is a member of -> label
//   group/G; each tag -> label tag/T; git_branch -> label git-branch;
//   starred -> a star (and label starred=true); every one gets imported-from=seed.
//   (Label keys and values are made valid by replacing other characters
//   with '-'.)
//   desired_state: STOPPED and TERMINATED as they are. RUNNING only with
//   `keep_running`; otherwise STOPPED with label seed-desired=RUNNING, so
//   nothing is launched before its old cluster is known to be gone.
//   Jobs: oldest first; SUCCEEDED, FAILED, CANCELLED as they are, any other
//   status (INIT, PENDING, STARTING, RUNNING, UNKNOWN) as LOST with a
//   reason naming it: SkyDeck does not follow the old dashboard's jobs.
//   Soft-deleted experiments are left out.
#pragma once

#include <string>

#include "absl/status/statusor.h"

#include "skydeck/v1/service.pb.h"

namespace skydeck::cli {

struct SeedImport {
  skydeck::v1::ImportExperimentsRequest request;
  int skipped_deleted = 0;
};

// Opens `path` read-only. Errors: NOT_FOUND for a missing file;
// INVALID_ARGUMENT for a file that is not the predecessor's database (the
// message says what was expected).
absl::StatusOr<SeedImport> ReadSeedDatabase(const std::string& path, bool keep_running);

}  // namespace skydeck::cli
