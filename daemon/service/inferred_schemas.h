// File: daemon/service/inferred_schemas.h
//
// Flag schemas inferred from the flags experiments already use, so flag
// autocomplete works before anyone declares a schema: per base command,
// every flag name seen, its type (the most common one when experiments
// disagree) and up to 20 distinct values seen.
#pragma once

#include <vector>

#include "common/model/records.h"
#include "skydeck/v1/resources.pb.h"

namespace skydeck::service {

std::vector<skydeck::v1::CommandFlagSchema> InferFlagSchemas(
    const std::vector<ExperimentRecord>& experiments);

}  // namespace skydeck::service
