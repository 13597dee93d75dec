// File: daemon/store/migrations.h
//
// The database schema as an append-only list of migrations. The file's
// `PRAGMA user_version` is the number of migrations applied; opening a
// database applies the missing ones in one transaction each. Never edit a
// migration that has shipped: add a new one.
#pragma once

#include "absl/status/status.h"

#include "daemon/store/sqlite.h"

namespace skydeck::store {

// Number of migrations this binary knows.
int LatestSchemaVersion();

// Brings the database up to LatestSchemaVersion(). Errors: FAILED_PRECONDITION
// when the file is newer than this binary (refuse rather than corrupt it).
absl::Status Migrate(Connection& db);

}  // namespace skydeck::store
