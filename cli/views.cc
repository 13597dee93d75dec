// File: cli/views.cc
#include "cli/views.h"

#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

#include "cli/terminal.h"
#include "common/code_manifest.h"
#include "common/model/conditions.h"
#include "common/model/proto_convert.h"
#include "common/time_util.h"

namespace skydeck::cli {
namespace {

std::string OrDash(absl::string_view text) { return text.empty() ? "-" : std::string(text); }

// "5m ago (2026-11-28T14:17:43.123Z)": the age to read, the time to quote.
std::string TimeDetail(const google::protobuf::Timestamp& time, int64_t now_ms) {
  int64_t ms = MillisOf(time);
  if (ms == 0) return "";
  return absl::StrCat(FormatTimeAgo(ms, now_ms), " (", FormatRfc3339(ms), ")");
}

// A starred experiment's name is followed by a star (scripts read names
// with -o name, which prints the bare name).
std::string ExperimentName(const pb::Experiment& e) {
  return absl::StrCat(e.name(), e.has_delete_time() ? " (deleted)" : "",
                      e.starred() ? " \u2605" : "");
}

// "2xH100:4": nodes, then GPUs per node in SkyPilot's accelerator syntax.
std::string NodesByGpus(int32_t nodes, int32_t gpus, absl::string_view gpu_type) {
  if (gpu_type.empty()) return absl::StrCat(nodes, "x", gpus);
  return absl::StrCat(nodes, "x", gpu_type, ":", gpus);
}

std::string Resources(int32_t nodes, int32_t gpus, absl::string_view gpu_type,
                      absl::string_view infra, bool spot) {
  std::string out = absl::StrCat(nodes, nodes == 1 ? " node" : " nodes");
  if (gpus == 0) {
    absl::StrAppend(&out, ", no GPUs");
  } else {
    absl::StrAppend(&out, " x ", gpus, " ", gpu_type.empty() ? "GPU" : gpu_type,
                    gpus == 1 ? "" : "s");
  }
  absl::StrAppend(&out, ", infra ", infra.empty() ? "any" : infra);
  if (spot) absl::StrAppend(&out, ", spot");
  return out;
}

// The observed state, marked when the restart budget is spent: a stalled
// experiment looks FAILED like one about to retry, but needs the user.
std::string ObservedText(const pb::Experiment& e) {
  std::string text = StateName(e.observed_state());
  for (const pb::Condition& c : e.conditions()) {
    if (c.type() == model::condition::kStalled && c.status()) {
      return absl::StrCat(text, " (stalled)");
    }
  }
  return text;
}

std::string Restarts(const pb::Experiment& e) {
  if (!e.has_max_restarts()) return absl::StrCat(e.restart_count());
  return absl::StrCat(e.restart_count(), "/", e.max_restarts());
}

std::string Labels(const google::protobuf::Map<std::string, std::string>& labels) {
  std::map<std::string, std::string> sorted(labels.begin(), labels.end());
  return absl::StrJoin(sorted, ",", absl::PairFormatter("="));
}

std::string Secrets(const google::protobuf::RepeatedPtrField<std::string>& names) {
  return absl::StrJoin(names, ", ");
}

std::string TemplateText(const std::string& name, int64_t version) {
  if (name.empty()) return "";
  return version > 0 ? absl::StrCat(name, " (version ", version, ")") : name;
}

std::string CommitText(const std::string& commit, bool dirty) {
  if (commit.empty()) return "not a git commit";
  return absl::StrCat("commit ", commit, dirty ? " (uncommitted changes)" : "");
}

// "snapshot 9f3c1a2b4c5d, commit 3f2a... (uncommitted changes)": the code
// a job ran (its snapshot, and the git state it was taken at).
std::string CodeText(const pb::Job& job) {
  if (job.code_snapshot().empty() && job.code_commit().empty()) {
    return job.workdir().empty() ? "" : "not a git commit";
  }
  std::string commit = CommitText(job.code_commit(), job.code_dirty());
  if (job.code_snapshot().empty()) return commit;
  return absl::StrCat("snapshot ", ShortSnapshotId(job.code_snapshot()), ", ", commit);
}

// "snapshot 9f3c1a2b4c5d (34 files, 1.2 MiB), commit 3f2a... ": an
// experiment's code snapshot.
std::string CodeText(const pb::Experiment& e) {
  if (!e.has_code_snapshot() || e.code_snapshot().id().empty()) return "";
  const pb::CodeSnapshot& s = e.code_snapshot();
  return absl::StrCat("snapshot ", ShortSnapshotId(s.id()), " (", s.file_count(),
                      s.file_count() == 1 ? " file, " : " files, ", FormatBytes(s.size_bytes()),
                      "), ", CommitText(s.git_commit(), s.git_dirty()));
}

std::string ExitCode(const pb::Job& job) {
  return job.has_exit_code() ? absl::StrCat(job.exit_code()) : "-";
}

std::string JobStatusText(const pb::Job& job) {
  if (job.status() == pb::JOB_STATUS_UNKNOWN && !job.backend_status().empty()) {
    return absl::StrCat("UNKNOWN(", OneLine(job.backend_status()), ")");
  }
  return StateName(job.status());
}

// What a state word means at a glance. Unknown words (a newer daemon's
// state) stay plain.
Color StateColor(absl::string_view word) {
  if (absl::StrContains(word, "(stalled)") || absl::StartsWith(word, "FAILED") || word == "LOST") {
    return Color::kRed;
  }
  if (word == "RUNNING" || word == "SUCCEEDED") return Color::kGreen;
  for (absl::string_view w :
       {"LAUNCHING", "PENDING", "SUBMITTED", "STARTING", "RECOVERING", "STOPPING", "CANCELLING"}) {
    if (word == w) return Color::kYellow;
  }
  if (absl::StartsWith(word, "UNKNOWN")) return Color::kYellow;
  for (absl::string_view w : {"IDLE", "STOPPED", "TERMINATED", "CANCELLED"}) {
    if (word == w) return Color::kDim;
  }
  return Color::kNone;
}

std::string ConditionTable(const pb::Experiment& e, int64_t now_ms) {
  Table table({"TYPE", "STATUS", "REASON", "SINCE", "MESSAGE"});
  for (const pb::Condition& c : e.conditions()) {
    table.AddRow({OneLine(c.type()), c.status() ? "True" : "False", OrDash(OneLine(c.reason())),
                  FormatAge(MillisOf(c.last_transition_time()), now_ms),
                  OrDash(OneLine(c.message()))});
  }
  return table.Render();
}

// A section: "Title:\n" then the body indented, or "Title: <none>" when
// there is nothing to show.
std::string Section(absl::string_view title, absl::string_view body, absl::string_view none) {
  if (body.empty()) return absl::StrCat("\n", title, ": ", none, "\n");
  return absl::StrCat("\n", title, ":\n", Indent(body, 2));
}

}  // namespace

FlagMap FlagsOf(const google::protobuf::Map<std::string, pb::FlagValue>& flags) {
  FlagMap out;
  for (const auto& [key, value] : flags) {
    auto v = FromProto(value);
    out.emplace(key, v.ok() ? *v : FlagValue(std::string("?")));
  }
  return out;
}

int64_t MillisOf(const google::protobuf::Timestamp& time) { return FromProtoTime(time); }

std::string StateName(pb::DesiredState state) {
  return ShortEnumName(pb::DesiredState_descriptor(), state);
}
std::string StateName(pb::ObservedState state) {
  return ShortEnumName(pb::ObservedState_descriptor(), state);
}
std::string StateName(pb::JobStatus status) {
  return ShortEnumName(pb::JobStatus_descriptor(), status);
}

std::string PaintState(absl::string_view word, bool color) {
  return color ? Paint(word, StateColor(word)) : std::string(word);
}

std::vector<std::string> ExperimentColumns(bool wide) {
  if (wide) {
    return {"ID",   "NAME",  "DESIRED", "OBSERVED", "SINCE",  "JOB",   "NODESxGPUS",
            "INFRA", "SPOT", "RESTARTS", "AGE",     "LABELS",   "FLAGS"};
  }
  return {"ID",         "NAME",     "DESIRED", "OBSERVED", "SINCE",
          "JOB",        "NODESxGPUS", "RESTARTS", "AGE",     "FLAGS"};
}

std::vector<std::string> ExperimentRow(const pb::Experiment& e, int64_t now_ms, bool color,
                                       bool wide) {
  std::string id = absl::StrCat(e.id());
  std::string desired = PaintState(StateName(e.desired_state()), color);
  std::string observed = PaintState(ObservedText(e), color);
  // How long it has been in its observed state.
  std::string since = FormatAge(MillisOf(e.state_since()), now_ms);
  std::string job = e.current_job_id() == 0 ? "-" : absl::StrCat(e.current_job_id());
  std::string resources = NodesByGpus(e.nodes(), e.gpus(), OneLine(e.gpu_type()));
  std::string age = FormatAge(MillisOf(e.create_time()), now_ms);
  std::string flags = OneLine(FormatFlags(FlagsOf(e.flags())));
  if (!wide) {
    return {id,
            ExperimentName(e),
            desired,
            observed,
            since,
            job,
            resources,
            Restarts(e),
            age,
            OrDash(Truncate(flags, kMaxFlagsCell))};
  }
  std::map<std::string, std::string> labels(e.labels().begin(), e.labels().end());
  std::string label_text;
  for (const auto& [k, v] : labels) {
    absl::StrAppend(&label_text, label_text.empty() ? "" : ",", k, "=", v);
  }
  return {id,
          ExperimentName(e),
          desired,
          observed,
          since,
          job,
          resources,
          OrDash(OneLine(e.infra())),
          e.spot() ? "yes" : "no",
          Restarts(e),
          age,
          OrDash(OneLine(label_text)),
          OrDash(flags)};
}

std::string ExperimentTable(const std::vector<pb::Experiment>& experiments, int64_t now_ms,
                            bool color) {
  Table table(ExperimentColumns(false));
  for (const pb::Experiment& e : experiments) {
    table.AddRow(ExperimentRow(e, now_ms, color, /*wide=*/false));
  }
  return table.Render();
}

std::string ExperimentWideTable(const std::vector<pb::Experiment>& experiments, int64_t now_ms,
                                bool color) {
  Table table(ExperimentColumns(true));
  for (const pb::Experiment& e : experiments) {
    table.AddRow(ExperimentRow(e, now_ms, color, /*wide=*/true));
  }
  return table.Render();
}

KeyValues ExperimentDetails(const pb::Experiment& e, int64_t now_ms, bool color) {
  std::vector<std::string> conditions;
  for (const pb::Condition& c : e.conditions()) {
    conditions.push_back(absl::StrCat(c.type(), "=", c.status() ? "True" : "False",
                                      c.reason().empty() ? "" : absl::StrCat(" ", c.reason()),
                                      c.message().empty() ? "" : absl::StrCat(": ", c.message())));
  }
  KeyValues rows = {
      {"ID", absl::StrCat(e.id())},
      {"Name", e.name()},
      {"Description", e.description()},
      {"Command", e.base_command()},
      {"Flags", FormatFlags(FlagsOf(e.flags()), "\n")},
      {"Run name", e.run_name().empty() ? absl::StrCat(e.name(), " (the name)") : e.run_name()},
      {"Nodes", absl::StrCat(e.nodes())},
      {"GPUs per node", absl::StrCat(e.gpus())},
      {"GPU type", e.gpu_type()},
      {"Infra", e.infra()},
      {"Spot", e.spot() ? "yes" : "no"},
      {"Labels", Labels(e.labels())},
      {"Template", e.template_()},
      {"Envs", Labels(e.envs())},
      {"Secrets", Secrets(e.secrets())},
      {"Workdir", e.workdir()},
      {"Code", CodeText(e)},
      {"Max restarts", e.has_max_restarts() ? absl::StrCat(e.max_restarts()) : ""},
      {"Desired", PaintState(StateName(e.desired_state()), color)},
      {"Observed", PaintState(StateName(e.observed_state()), color)},
      {"In state since", TimeDetail(e.state_since(), now_ms)},
      {"Starred", e.starred() ? "yes" : "no"},
      {"Position", absl::StrCat(e.position())},
      {"Generation", absl::StrCat(e.generation(), " (observed ", e.observed_generation(), ")")},
      {"Restarts", Restarts(e)},
      {"Next retry", TimeDetail(e.next_retry_time(), now_ms)},
      {"Current job", e.current_job_id() == 0 ? "" : absl::StrCat(e.current_job_id())},
      {"Jobs", absl::StrCat(e.job_count())},
      {"Conditions", absl::StrJoin(conditions, "\n")},
      {"Created", TimeDetail(e.create_time(), now_ms)},
      {"Updated", TimeDetail(e.update_time(), now_ms)},
  };
  if (e.has_delete_time()) rows.push_back({"Deleted", TimeDetail(e.delete_time(), now_ms)});
  return rows;
}

std::string FlagTable(const google::protobuf::Map<std::string, pb::FlagValue>& flags) {
  Table table({"KEY", "TYPE", "VALUE"});
  for (const auto& [key, value] : FlagsOf(flags)) {
    table.AddRow({key, std::string(FlagTypeName(value)), OneLine(FormatFlagValue(value))});
  }
  return table.Render();
}

std::string JobTable(const std::vector<pb::Job>& jobs, int64_t now_ms, bool color) {
  Table table({"JOB", "ATTEMPT", "STATUS", "SINCE", "BACKEND", "BACKEND-ID", "SUBMITTED", "STARTED",
               "ENDED", "EXIT", "REASON"});
  for (const pb::Job& j : jobs) {
    table.AddRow({absl::StrCat(j.id()), absl::StrCat(j.attempt()),
                  PaintState(JobStatusText(j), color),
                  FormatAge(MillisOf(j.status_since()), now_ms), OrDash(OneLine(j.backend())),
                  OrDash(OneLine(j.backend_job_id())), FormatAge(MillisOf(j.submit_time()), now_ms),
                  FormatAge(MillisOf(j.start_time()), now_ms),
                  FormatAge(MillisOf(j.end_time()), now_ms), ExitCode(j),
                  OrDash(Truncate(OneLine(j.failure_reason()), kMaxTextCell))});
  }
  return table.Render();
}

std::string CostText(double usd) { return absl::StrFormat("$%.2f", usd); }

namespace {

std::string GpuHoursText(const pb::Job& j) {
  if (j.gpus() == 0) return "";
  std::string out = absl::StrFormat("%.2f", j.gpu_hours());
  if (j.paused_ms() > 0) {
    absl::StrAppend(&out, " (", FormatDurationRounded(absl::Milliseconds(j.paused_ms())), " paused for recovery not counted)");
  }
  return out;
}

// One "NAME: URL" per line.
std::string LinksText(const google::protobuf::RepeatedPtrField<pb::Link>& links) {
  std::string out;
  for (const pb::Link& l : links) {
    absl::StrAppend(&out, out.empty() ? "" : "\n", OneLine(l.name()), ": ", OneLine(l.url()));
  }
  return out;
}

}  // namespace

KeyValues JobDetails(const pb::Job& j, int64_t now_ms, bool color) {
  return {
      {"Job", absl::StrCat(j.id())},
      {"Experiment", absl::StrCat(j.experiment_id())},
      {"Attempt", absl::StrCat(j.attempt())},
      {"Status", PaintState(JobStatusText(j), color)},
      {"Status since", TimeDetail(j.status_since(), now_ms)},
      {"Backend status", j.backend_status()},
      {"Backend", j.backend()},
      {"Backend name", j.backend_name()},
      {"Backend job id", j.backend_job_id()},
      {"Command", j.command()},
      {"Flags", FormatFlags(FlagsOf(j.flags()), "\n")},
      {"Resources", Resources(j.nodes(), j.gpus(), j.gpu_type(), j.infra(), j.spot())},
      {"Run name", j.run_name()},
      {"Template", TemplateText(j.template_(), j.template_version())},
      {"Envs", Labels(j.envs())},
      {"Secrets", Secrets(j.secrets())},
      {"Workdir", j.workdir()},
      {"Code", CodeText(j)},
      {"Submitted", TimeDetail(j.submit_time(), now_ms)},
      {"Started", TimeDetail(j.start_time(), now_ms)},
      {"Ended", TimeDetail(j.end_time(), now_ms)},
      {"Exit code", j.has_exit_code() ? absl::StrCat(j.exit_code()) : ""},
      {"Failure reason", j.failure_reason()},
      {"Recoveries", absl::StrCat(j.recovery_count())},
      {"GPU-hours", GpuHoursText(j)},
      {"Cost", j.has_cost() ? CostText(j.cost()) : ""},
      {"Links", LinksText(j.links())},
      // The last row: it is long, and multi-line.
      {"Task", std::string(absl::StripTrailingAsciiWhitespace(j.rendered_task()))},
  };
}

std::string EventTable(const std::vector<pb::Event>& events, int64_t now_ms) {
  Table table({"TIME", "TYPE", "REASON", "ACTOR", "MESSAGE"});
  for (const pb::Event& e : events) {
    table.AddRow({FormatTimeAgo(MillisOf(e.time()), now_ms), OrDash(OneLine(e.type())),
                  OrDash(OneLine(e.reason())), OrDash(OneLine(e.actor())),
                  OrDash(OneLine(e.message()))});
  }
  return table.Render();
}

std::string DescribeExperiment(const pb::GetExperimentStatusResponse& status,
                               const std::vector<pb::Event>& events, int64_t now_ms, bool color) {
  const pb::Experiment& e = status.experiment();
  std::string budget = e.has_max_restarts()
                           ? absl::StrCat(e.restart_count(), " of ", e.max_restarts(), " used")
                           : absl::StrCat(e.restart_count(), " used");
  KeyValues spec = {
      {"Name", ExperimentName(e)},
      {"ID", absl::StrCat(e.id())},
      {"Description", e.description()},
      {"Command", e.base_command()},
      {"Run name", e.run_name().empty() ? e.name() : e.run_name()},
      {"Resources", Resources(e.nodes(), e.gpus(), e.gpu_type(), e.infra(), e.spot())},
      {"Template", e.template_()},
      {"Envs", Labels(e.envs())},
      {"Secrets", Secrets(e.secrets())},
      {"Workdir", e.workdir()},
      {"Code", CodeText(e)},
      {"Labels", Labels(e.labels())},
      {"Links", LinksText(e.links())},
      {"Restarts", budget},
      {"Created", TimeDetail(e.create_time(), now_ms)},
      {"Updated", TimeDetail(e.update_time(), now_ms)},
  };
  if (e.has_delete_time()) spec.push_back({"Deleted", TimeDetail(e.delete_time(), now_ms)});
  std::string out = RenderKeyValues(spec);

  std::string flags = FormatFlags(FlagsOf(e.flags()), "\n");
  if (!flags.empty()) flags += "\n";
  absl::StrAppend(&out, Section("Flags", flags, "none"));

  // Desired and observed side by side: the gap between them is the story.
  Table state({"DESIRED", "OBSERVED", "GENERATION", "OBSERVED-GENERATION", "NEXT-RETRY"});
  state.AddRow({PaintState(StateName(e.desired_state()), color),
                PaintState(StateName(e.observed_state()), color), absl::StrCat(e.generation()),
                absl::StrCat(e.observed_generation()),
                FormatAge(MillisOf(e.next_retry_time()), now_ms)});
  absl::StrAppend(&out, Section("State", state.Render(), ""));
  absl::StrAppend(
      &out, Section("Conditions", e.conditions().empty() ? "" : ConditionTable(e, now_ms), "none"));

  std::string current;
  if (status.has_current_job()) {
    current = RenderKeyValues(JobDetails(status.current_job(), now_ms, color));
  }
  absl::StrAppend(&out, Section("Current job", current, "none"));

  std::vector<pb::Job> recent(status.recent_jobs().begin(), status.recent_jobs().end());
  absl::StrAppend(
      &out, Section("Recent jobs", recent.empty() ? "" : JobTable(recent, now_ms, color), "none"));
  absl::StrAppend(&out,
                  Section("Events", events.empty() ? "" : EventTable(events, now_ms), "none"));
  return out;
}

namespace {

// "FAILING · http://127.0.0.1:9/… · 3 delivered, 5 failed attempts · ...".
std::string NotifySinkDetail(const pb::NotifySink& sink, int64_t now_ms) {
  std::string state = sink.failing()                    ? "FAILING"
                      : sink.consecutive_failures() > 0 ? "retrying"
                                                        : "ok";
  std::string text = absl::StrCat(state, " · ", sink.url(), " · ", sink.delivered(), " delivered, ",
                                  sink.failed_attempts(), " failed attempts");
  if (sink.consecutive_failures() > 0) {
    absl::StrAppend(&text, " · ", sink.consecutive_failures(), " in a row, next try ",
                    TimeDetail(sink.next_attempt_time(), now_ms), ": ", OneLine(sink.last_error()));
  }
  return text;
}

}  // namespace

KeyValues HealthDetails(const pb::Health& h, int64_t now_ms) {
  std::map<std::string, int64_t> by_state(h.experiments_by_state().begin(),
                                          h.experiments_by_state().end());
  std::string backend = h.backend();
  if (!backend.empty() && backend != "none") {
    absl::StrAppend(&backend, h.backend_reachable() ? " (reachable)" : " (unreachable)");
  }
  std::string backend_version = h.backend_version();
  if (!h.backend_api_version().empty()) {
    absl::StrAppend(&backend_version, backend_version.empty() ? "" : ", ", "API ",
                    h.backend_api_version());
  }
  KeyValues rows = {
      {"Status", ShortEnumName(pb::Health::Status_descriptor(), h.status())},
      {"Version", h.version()},
      {"Backend", backend},
      {"Backend chosen", h.backend_reason()},
      {"Backend endpoint", h.backend_endpoint()},
      {"Backend version", backend_version},
      {"Last poll", TimeDetail(h.last_successful_poll_time(), now_ms)},
      {"Last poll error", h.last_poll_error()},
      {"Started", TimeDetail(h.start_time(), now_ms)},
      {"Revision", absl::StrCat(h.revision())},
      {"Experiments",
       by_state.empty() ? "none" : absl::StrJoin(by_state, " ", absl::PairFormatter("="))},
  };
  for (const pb::NotifySink& sink : h.notify_sinks()) {
    rows.emplace_back(absl::StrCat("Notify ", sink.name()), NotifySinkDetail(sink, now_ms));
  }
  return rows;
}

}  // namespace skydeck::cli
