#include "common/model/event_types.h"

#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "common/model/proto_comment_list.h"

namespace skydeck::model {
namespace {

const std::string kResourcesProto =
    std::string(SKYDECK_SOURCE_DIR) + "/proto/skydeck/v1/resources.proto";

TEST_CASE("the proto documents exactly the event types the code writes", "[model]") {
  // Event.type's comment, the only `string type = 5;` in resources.proto.
  std::vector<std::string> documented =
      testing::ProtoCommentList(kResourcesProto, "string type = 5;");
  std::vector<std::string> named(event::kAll.begin(), event::kAll.end());
  CHECK(documented == named);
}

TEST_CASE("event types are distinct", "[model]") {
  std::set<std::string_view> distinct(event::kAll.begin(), event::kAll.end());
  CHECK(distinct.size() == event::kAll.size());
}

}  // namespace
}  // namespace skydeck::model
