// File: daemon/store/seed_database.h
//
// Recognises a database written by SkyDeck's predecessor (the Python
// dashboard at github.com/Metta-AI/skydeck: `experiments` with
// `current_state`/`tags`, `jobs` with `cluster_name`, no schema version).
// Its tables share names with ours, so opening it as ours would add our
// tables beside its own and start with an empty dashboard: skydeckd refuses
// it instead and points to `skydeck import --seed-db`.
#pragma once

#include <string>

#include "absl/status/status.h"

namespace skydeck::store {

// RefuseSeedDatabase()
//
// OK when `path` does not exist, is not an SQLite file, or is not the
// predecessor's database (those cases are for Store::Open to judge).
// Reads only: a file in WAL mode (all of ours) is recognised from its
// header and never opened here (a read-only open would create its
// "-shm"); any other is opened read-only and nothing is written to it.
// Errors: FAILED_PRECONDITION naming the file and the import command.
absl::Status RefuseSeedDatabase(const std::string& path);

}  // namespace skydeck::store
