// File: bench/load/ledger.h
//
// What the load clients expect the daemon to hold: for every experiment
// whose writes were acknowledged, the spec fields as the last acknowledged
// write left them. `skydeck_load verify` reads every one back and compares,
// so a write the daemon acknowledged and then lost shows up as a mismatch.
//
// Writes whose outcome is unknown (a timeout, a dropped connection) make
// that experiment `uncertain`: it is reported, not compared.
//
// On disk: one JSON object per line, {"experiment": <Experiment in proto
// JSON>, "uncertain": bool}, so a later `skydeck_load` run (or a person)
// can pick the ledger up.
//
// Thread-safety: none; load phases give each client thread a disjoint set
// of entries (see Entries()) and merge new ones afterwards.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "skydeck/v1/resources.pb.h"

namespace skydeck::bench {

namespace pb = ::skydeck::v1;

struct LedgerEntry {
  // Only the spec fields Differences() compares are meaningful.
  pb::Experiment expected;
  bool uncertain = false;
};

class Ledger {
 public:
  static absl::StatusOr<Ledger> Load(const std::string& path);
  absl::Status Save(const std::string& path) const;

  // Records the experiment as acknowledged by the daemon (its id must be
  // set), replacing an earlier entry.
  void Put(const pb::Experiment& experiment);
  size_t size() const { return entries_.size(); }
  bool contains(int64_t id) const { return entries_.count(id) != 0; }
  std::map<int64_t, LedgerEntry>& entries() { return entries_; }
  const std::map<int64_t, LedgerEntry>& entries() const { return entries_; }

 private:
  std::map<int64_t, LedgerEntry> entries_;
};

// The spec fields the load writes, copied from `from`: name, description,
// base_command, flags, labels, desired_state, max_restarts.
pb::Experiment ExpectedSpec(const pb::Experiment& from);

// Names of the compared fields on which `got` differs from `want`, each
// with both values, e.g. "description: want \"a\", got \"b\"". Empty when
// they agree.
std::vector<std::string> Differences(const pb::Experiment& want, const pb::Experiment& got);

}  // namespace skydeck::bench
