// Store method for the user's position mark on an experiment (its order
// within a dashboard group); the star is a bulk change (store_bulk.cc).
// See store.h for the contracts. It writes only its own column, so a
// concurrent spec or observed change is never overwritten, and bumps no
// generation: nothing is relaunched and nothing is Outdated.
#include <cmath>

#include "absl/strings/str_cat.h"

#include "common/model/event_types.h"
#include "common/status_macros.h"
#include "daemon/store/rows.h"
#include "daemon/store/store.h"

namespace skydeck::store {

absl::StatusOr<ExperimentRecord> Store::SetPosition(int64_t id, double position,
                                                    absl::string_view actor) {
  if (!std::isfinite(position)) {
    return absl::InvalidArgumentError("position: must be a finite number");
  }
  ExperimentRecord out;
  RETURN_IF_ERROR(Transaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
    ASSIGN_OR_RETURN(ExperimentRecord r, LoadExperiment(*db_, id));
    if (r.deleted()) return absl::NotFoundError(absl::StrCat("experiment ", id, " is deleted"));
    if (r.position == position) {
      out = std::move(r);
      return absl::OkStatus();
    }
    ASSIGN_OR_RETURN(Statement * update,
                     db_->Prepare("UPDATE experiments SET position = ?2 WHERE id = ?1"));
    update->Bind(1, id);
    update->Bind(2, position);
    RETURN_IF_ERROR(update->Run());
    RETURN_IF_ERROR(InsertEvent(NewEvent{id, 0, model::event::kMoved, "Moved",
                                         absl::StrCat("position ", position),
                                         std::string(actor)}));
    ASSIGN_OR_RETURN(out, LoadExperiment(*db_, id));
    return absl::OkStatus();
  }));
  return out;
}

}  // namespace skydeck::store
