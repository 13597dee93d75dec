// File: web/bridge/query_string.h
//
// The parameters of a URL's query string, in order, decoded the way HTML
// forms and browsers encode them: "+" is a space, "%XX" a byte. A
// malformed escape is kept as written (a value is never refused here;
// request_mapping.h judges values).
//
//   ParseQueryString("label_selector=team%3Dml&x=a+b&flag")
//   // {{"label_selector", "team=ml"}, {"x", "a b"}, {"flag", ""}}
#pragma once

#include "absl/strings/string_view.h"

#include "web/bridge/request_mapping.h"

namespace skydeck::web {

QueryParams ParseQueryString(absl::string_view query);

}  // namespace skydeck::web
