// SkyPilotBackend, part 4: code snapshots on the API server. SkyPilot's own
// client uploads a task's local workdir and file mounts before a launch
// (sky/client/common.py, upload_mounts_to_api_server): one zip of them all,
// in chunks, `POST /upload?user_hash=&upload_id=&chunk_index=&total_chunks=`;
// the server joins the chunks, extracts every entry under
// ~/.sky/api_server/clients/<user>/file_mounts/<entry path> and, at launch,
// points each path named in the task's `file_mounts_mapping` there
// (sky/server/common.py, process_mounts_in_task_on_api_server). SkyDeck
// does the same with its snapshots under "skydeck/snapshots/<id>".
//
// The protocol cannot ask whether the server already has a path, and a
// server restart wipes every upload. So a snapshot counts as present while
// the last launch request this process sent with it is still known to the
// server (a restart forgets requests too), or while an active request of
// anyone names it; only then is its upload skipped. Uploads of one snapshot
// are serialised, so concurrent launches of a sweep upload it once.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <random>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"

#include "common/code_manifest.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "daemon/backend/skypilot/skypilot_backend.h"
#include "daemon/snapshots/snapshot_store.h"
#include "daemon/snapshots/snapshot_zip.h"

namespace skydeck::backend::skypilot {
namespace {

// SkyPilot accepts only "sky-YYYY-MM-DD-HH-MM-SS-ffffff-<8 hex>".
std::string NewUploadId() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  absl::Time now = absl::Now();
  return absl::StrCat(absl::FormatTime("sky-%Y-%m-%d-%H-%M-%S-%E6f", now, absl::UTCTimeZone()), "-",
                      absl::StrFormat("%08x", static_cast<uint32_t>(rng())));
}

}  // namespace

absl::StatusOr<std::unique_ptr<SkyPilotBackend::StagedCode>> SkyPilotBackend::StageCode(
    const JobSpec& spec) {
  auto staged = std::make_unique<StagedCode>();
  staged->ids = SnapshotIdsOf(spec);
  if (staged->ids.empty()) return staged;
  if (options_.snapshots == nullptr) {
    return absl::FailedPreconditionError(
        "this daemon keeps no code snapshots; a local workdir or file mount cannot be uploaded");
  }
  for (const std::string& id : staged->ids) {  // sorted: no lock-order inversion
    std::shared_ptr<absl::Mutex> m;
    {
      absl::MutexLock lock(&mu_);
      std::shared_ptr<absl::Mutex>& slot = snapshot_locks_[id];
      if (!slot) slot = std::make_shared<absl::Mutex>();
      m = slot;
    }
    staged->locks.emplace_back(std::move(m));
  }
  ASSIGN_OR_RETURN(std::set<std::string> present, SnapshotsOnServer(staged->ids));
  std::vector<std::string> missing;
  for (const std::string& id : staged->ids) {
    if (present.count(id) == 0) missing.push_back(id);
  }
  if (!missing.empty()) RETURN_IF_ERROR(UploadSnapshots(missing));
  return staged;
}

absl::StatusOr<std::set<std::string>> SkyPilotBackend::SnapshotsOnServer(
    const std::vector<std::string>& ids) {
  std::set<std::string> present;
  std::map<std::string, std::string> witness_of;  // snapshot id -> request id
  {
    absl::MutexLock lock(&mu_);
    for (const std::string& id : ids) {
      auto it = snapshot_witness_.find(id);
      if (it != snapshot_witness_.end()) witness_of[id] = it->second;
    }
  }
  if (!witness_of.empty()) {
    std::set<std::string> requests;  // one launch is often the witness of several
    for (const auto& [id, request] : witness_of) requests.insert(request);
    ASSIGN_OR_RETURN(std::vector<RequestRecord> records,
                     api_->Statuses(std::vector<std::string>(requests.begin(), requests.end())));
    for (const auto& [id, request] : witness_of) {
      if (FindRequest(records, request) != nullptr) present.insert(id);
    }
  }
  if (present.size() == ids.size()) return present;
  // A launch still running (ours from before a restart, or anyone's) may
  // be reading a snapshot: it is there, and must not be rewritten.
  ASSIGN_OR_RETURN(std::vector<RequestRecord> active, api_->Statuses({}));
  for (const RequestRecord& r : active) {
    if (r.body.is_null()) continue;
    std::string body = r.body.dump();
    for (const std::string& id : ids) {
      if (present.count(id) == 0 && absl::StrContains(body, SnapshotServerPath(id))) {
        present.insert(id);
      }
    }
  }
  return present;
}

absl::Status SkyPilotBackend::UploadSnapshots(const std::vector<std::string>& ids) {
  std::vector<snapshots::ZipRoot> roots;
  for (const std::string& id : ids) {
    // Entry paths are relative: the server puts them under its client dir.
    roots.push_back({id, SnapshotServerPath(id).substr(1)});
  }
  std::string upload_id = NewUploadId();
  std::string zip_path = absl::StrCat(options_.snapshots->temp_dir(), "/", upload_id, ".zip");
  absl::Status written = snapshots::WriteSnapshotZip(*options_.snapshots, roots, zip_path);
  if (absl::IsNotFound(written)) {
    std::remove(zip_path.c_str());
    return absl::FailedPreconditionError(written.message());
  }
  if (!written.ok()) {
    std::remove(zip_path.c_str());
    return written;
  }
  // Removed however this ends.
  std::unique_ptr<const char, void (*)(const char*)> cleanup(zip_path.c_str(),
                                                             [](const char* p) { std::remove(p); });
  std::ifstream in(zip_path, std::ios::binary | std::ios::ate);
  int64_t size = static_cast<int64_t>(in.tellg());
  if (!in || size < 0) return absl::InternalError(absl::StrCat("reading ", zip_path));
  int64_t chunk = options_.upload_chunk_bytes;
  int total = static_cast<int>(std::max<int64_t>(1, (size + chunk - 1) / chunk));
  std::string status;
  std::string piece;
  for (int i = 0; i < total; ++i) {
    int64_t start = static_cast<int64_t>(i) * chunk;
    piece.resize(static_cast<size_t>(std::min(chunk, size - start)));
    in.seekg(start);
    in.read(piece.data(), static_cast<std::streamsize>(piece.size()));
    if (!in) return absl::InternalError(absl::StrCat("reading ", zip_path));
    ASSIGN_OR_RETURN(status, api_->Upload(upload_id, i, total, piece));
  }
  if (status != "completed") {
    return absl::UnavailableError(
        absl::StrCat("the SkyPilot API server did not complete upload ", upload_id, " (status \"",
                     status, "\" after the last of ", total, " chunks); uploading again later"));
  }
  LogInfo("skypilot code uploaded", {{"upload_id", upload_id},
                                     {"snapshots", absl::StrJoin(ids, ",")},
                                     {"bytes", absl::StrCat(size)},
                                     {"chunks", absl::StrCat(total)}});
  return absl::OkStatus();
}

void SkyPilotBackend::RecordWitness(const std::vector<std::string>& ids,
                                    const std::string& request_id) {
  absl::MutexLock lock(&mu_);
  for (const std::string& id : ids) snapshot_witness_[id] = request_id;
}

}  // namespace skydeck::backend::skypilot
