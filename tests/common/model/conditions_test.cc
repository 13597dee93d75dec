#include "common/model/conditions.h"

#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "common/model/proto_comment_list.h"

namespace skydeck::model {
namespace {

const std::string kResourcesProto =
    std::string(SKYDECK_SOURCE_DIR) + "/proto/skydeck/v1/resources.proto";

TEST_CASE("the proto documents exactly the condition types the code writes", "[model]") {
  std::vector<std::string> documented =
      testing::ProtoCommentList(kResourcesProto, "message Condition {");
  std::vector<std::string> named(condition::kAll.begin(), condition::kAll.end());
  CHECK(documented == named);
}

TEST_CASE("condition types are distinct", "[model]") {
  std::set<std::string_view> distinct(condition::kAll.begin(), condition::kAll.end());
  CHECK(distinct.size() == condition::kAll.size());
}

}  // namespace
}  // namespace skydeck::model
