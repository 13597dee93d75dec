import { describe, expect, expectTypeOf, it } from "vitest";
import type { DesiredState, Experiment, FlagSchemaType, FlagValue, HealthStatus, JobStatus, ShortEnum } from "./types";
import { DESIRED_STATES, isJobStatus, OBSERVED_STATES } from "./types";

// The API types are generated from proto/ (scripts/gen-api-types.sh); these
// pin what types.ts makes of them. The type assertions are checked by tsc
// (npm run typecheck), the rest by vitest.
describe("the API types", () => {
  it("name enum values by the short names the bridge writes", () => {
    expectTypeOf<DesiredState>().toEqualTypeOf<"UNSPECIFIED" | "RUNNING" | "STOPPED" | "TERMINATED">();
    expectTypeOf<FlagSchemaType>().toEqualTypeOf<"UNSPECIFIED" | "STRING" | "INT" | "FLOAT" | "BOOL" | "CHOICE">();
    expectTypeOf<HealthStatus>().toEqualTypeOf<"UNSPECIFIED" | "SERVING" | "DEGRADED">();
    expectTypeOf<ShortEnum<string>>().toEqualTypeOf<string>();
    expectTypeOf<Experiment["desired_state"]>().toEqualTypeOf<DesiredState | undefined>();
    expectTypeOf<Experiment["id"]>().toEqualTypeOf<string | undefined>(); // int64
    expectTypeOf<Experiment["create_time"]>().toEqualTypeOf<string | undefined>(); // RFC 3339
    expectTypeOf<FlagValue["int_value"]>().toEqualTypeOf<string | undefined>();
  });

  it("lists the states a user picks and sees", () => {
    expect(DESIRED_STATES).toEqual(["RUNNING", "STOPPED", "TERMINATED"]);
    expect(OBSERVED_STATES).toHaveLength(9);
  });

  it("knows the job statuses by short name", () => {
    expect(isJobStatus("FAILED_SETUP")).toBe(true);
    expect(isJobStatus("JOB_STATUS_FAILED_SETUP")).toBe(false);
    expect(isJobStatus("running")).toBe(false);
    expectTypeOf<"FAILED_SETUP">().toMatchTypeOf<JobStatus>();
  });
});
