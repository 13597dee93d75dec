// The per-sink cursors of the notifier (daemon/notify/notifier.h) over the
// events table, which is its durable outbox.
#include "absl/strings/str_cat.h"

#include "common/status_macros.h"
#include "daemon/store/rows.h"
#include "daemon/store/store.h"

namespace skydeck::store {

absl::StatusOr<std::optional<int64_t>> Store::GetNotifyCursor(absl::string_view sink) {
  return Read([&](Connection& db) -> absl::StatusOr<std::optional<int64_t>> {
    ASSIGN_OR_RETURN(Statement * st,
                     db.Prepare("SELECT event_id FROM notify_cursors WHERE sink = ?"));
    st->Bind(1, std::string(sink));
    return st->ReadFirst(IntColumn(0));
  });
}

absl::Status Store::SetNotifyCursor(absl::string_view sink, int64_t event_id) {
  return Transaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
    ASSIGN_OR_RETURN(Statement * st,
                     db_->Prepare("INSERT INTO notify_cursors (sink, event_id, updated_at) "
                                  "VALUES (?1, ?2, ?3) ON CONFLICT (sink) DO UPDATE "
                                  "SET event_id = ?2, updated_at = ?3"));
    st->Bind(1, std::string(sink));
    st->Bind(2, event_id);
    st->Bind(3, clock_());
    return st->Run();
  });
}

}  // namespace skydeck::store
