#include "daemon/store/reader_pool.h"

#include <utility>

#include "common/status_macros.h"

namespace skydeck::store {

absl::StatusOr<std::unique_ptr<ReaderPool>> ReaderPool::Open(const std::string& path, int size) {
  std::vector<std::unique_ptr<Connection>> connections;
  for (int i = 0; i < size; ++i) {
    ASSIGN_OR_RETURN(std::unique_ptr<Connection> db, Connection::Open(path, OpenMode::kExisting));
    RETURN_IF_ERROR(db->Exec("PRAGMA query_only=1"));
    connections.push_back(std::move(db));
  }
  return std::unique_ptr<ReaderPool>(new ReaderPool(std::move(connections)));
}

ReaderPool::ReaderPool(std::vector<std::unique_ptr<Connection>> connections)
    : connections_(std::move(connections)) {
  absl::MutexLock lock(&mu_);
  for (const std::unique_ptr<Connection>& db : connections_) free_.push_back(db.get());
}

Connection* ReaderPool::Take() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](std::vector<Connection*>* free) { return !free->empty(); }, &free_));
  Connection* db = free_.back();
  free_.pop_back();
  return db;
}

void ReaderPool::Give(Connection* connection) {
  absl::MutexLock lock(&mu_);
  free_.push_back(connection);
}

absl::Status ReaderPool::Read(const std::function<absl::Status(Connection&)>& body) {
  Connection* db = Take();
  // Cached statements: BEGIN/COMMIT are parsed once per connection.
  absl::Status status = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(Statement * begin, db->Prepare("BEGIN"));
    RETURN_IF_ERROR(begin->Run());
    absl::Status result = body(*db);
    // Ending a read transaction writes nothing; a failure here (it should
    // not happen) must still not leave the snapshot open, which would stop
    // checkpoints and keep the WAL growing.
    absl::StatusOr<Statement*> end = db->Prepare(result.ok() ? "COMMIT" : "ROLLBACK");
    absl::Status ended = end.ok() ? (*end)->Run() : end.status();
    if (!ended.ok() && sqlite3_get_autocommit(db->raw()) == 0) (void)db->Exec("ROLLBACK");
    return result.ok() ? ended : result;
  }();
  Give(db);
  return status;
}

absl::Status ReaderPool::ForEachConnectionForTesting(
    const std::function<absl::Status(Connection&)>& each) {
  std::vector<Connection*> taken;
  for (size_t i = 0; i < connections_.size(); ++i) taken.push_back(Take());
  absl::Status status;
  for (Connection* db : taken) {
    if (status.ok()) status = each(*db);
    Give(db);
  }
  return status;
}

}  // namespace skydeck::store
