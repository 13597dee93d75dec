#include <catch2/catch.hpp>

#include "store_fixture.h"

namespace skydeck::store {
namespace {

FlagSchema Schema(const std::string& command, bool strict = false) {
  return {.base_command = command,
          .strict = strict,
          .flags = {{.name = "model.layers",
                     .type = FlagType::kInt,
                     .default_value = std::string("4"),
                     .min = 1}}};
}

TEST_CASE_METHOD(StoreFixture, "applying a schema bumps its version", "[store][schema]") {
  auto v1 = store->ApplyFlagSchema(Schema("python train.py"), "tester");
  REQUIRE(v1.ok());
  CHECK(v1->version == 1);
  CHECK(*v1->flags[0].default_value == FlagValue(int64_t{4}));  // normalised

  auto v2 = store->ApplyFlagSchema(Schema("python train.py", true), "tester");
  REQUIRE(v2.ok());
  CHECK(v2->version == 2);
  auto other = store->ApplyFlagSchema(Schema("python eval.py"), "tester");
  REQUIRE(other.ok());
  CHECK(other->version == 1);

  auto current = store->GetFlagSchema("python train.py");
  REQUIRE(current.ok());
  REQUIRE(current->has_value());
  CHECK((*current)->version == 2);
  CHECK((*current)->strict);

  auto old = store->GetFlagSchemaVersion("python train.py", 1);
  REQUIRE(old.ok());
  CHECK_FALSE(old->strict);
  CHECK(store->GetFlagSchemaVersion("python train.py", 9).status().code() ==
        absl::StatusCode::kNotFound);

  auto all = store->ListFlagSchemas();
  REQUIRE(all.ok());
  REQUIRE(all->size() == 2);
  CHECK((*all)[0].base_command == "python eval.py");
  CHECK((*all)[1].version == 2);
}

TEST_CASE_METHOD(StoreFixture, "deleting keeps the numbering going", "[store][schema]") {
  REQUIRE(store->ApplyFlagSchema(Schema("cmd"), "tester").ok());
  auto deleted = store->DeleteFlagSchema("cmd", "tester");
  REQUIRE(deleted.ok());
  CHECK(*deleted == 2);
  auto none = store->GetFlagSchema("cmd");
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
  CHECK(store->ListFlagSchemas()->empty());
  CHECK(store->DeleteFlagSchema("cmd", "tester").status().code() == absl::StatusCode::kNotFound);
  CHECK(store->GetFlagSchemaVersion("cmd", 2).status().code() == absl::StatusCode::kNotFound);
  CHECK(store->GetFlagSchemaVersion("cmd", 1).ok());

  auto again = store->ApplyFlagSchema(Schema("cmd"), "tester");
  REQUIRE(again.ok());
  CHECK(again->version == 3);
}

TEST_CASE_METHOD(StoreFixture, "schema changes are daemon-wide events", "[store][schema]") {
  auto before = store->LatestRevision();
  REQUIRE(before.ok());
  REQUIRE(store->ApplyFlagSchema(Schema("cmd", true), "alice").ok());
  REQUIRE(store->DeleteFlagSchema("cmd", "bob").ok());
  auto events = store->EventsAfter(*before, 0, 10);
  REQUIRE(events.ok());
  REQUIRE(events->size() == 2);
  CHECK((*events)[0].type == "FlagSchemaApplied");
  CHECK((*events)[0].experiment_id == 0);
  CHECK((*events)[0].actor == "alice");
  CHECK((*events)[0].message == "flag schema for \"cmd\" version 1 (1 flags, strict)");
  CHECK((*events)[1].type == "FlagSchemaDeleted");
  CHECK((*events)[1].actor == "bob");
  CHECK((*events)[1].message == "flag schema for \"cmd\" deleted (version 2)");
}

TEST_CASE_METHOD(StoreFixture, "invalid schemas are not stored", "[store][schema]") {
  FlagSchema bad = Schema("cmd");
  bad.flags[0].default_value = std::string("four");
  CHECK(store->ApplyFlagSchema(bad, "tester").status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(store->ListFlagSchemas()->empty());
}

}  // namespace
}  // namespace skydeck::store
