// bench/json_mapping_bench: the HTTP bridge's JSON cost per response, the
// bridge's plain JSON (web/bridge/plain_json.h) against protobuf's JSON
// mapping (what the bridge used before), in one process so the ratio holds
// on a busy machine; times are this thread's CPU time. Prints one JSON
// object.
//
//   json_mapping_bench --experiments 1000 --rounds 50
//
// Printing: a ListExperimentsResponse page of --experiments experiments as
// the list route answers it (4 flags, 2 labels, a condition, 3 timestamps
// each), and one GetExperimentResponse. Parsing: a CreateExperimentRequest
// body in each mapping's own form.
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <vector>

#include <google/protobuf/util/json_util.h>

#include "CLI/CLI.hpp"
#include "skydeck/v1/service.pb.h"
#include "web/bridge/plain_json.h"

namespace pb = ::skydeck::v1;
namespace gpb = ::google::protobuf;

namespace {

pb::Experiment MakeExperiment(int i) {
  pb::Experiment e;
  e.set_id(i + 1);
  e.set_name("exp-" + std::to_string(i));
  e.set_base_command("python train.py");
  auto& flags = *e.mutable_flags();
  flags["trainer.lr"].set_double_value(1e-4 * (1 + i % 7));
  flags["model.layers"].set_int_value(1 + i % 64);
  flags["trainer.scale"].set_double_value(1.0);
  flags["run.tag"].set_string_value("sweep");
  (*e.mutable_labels())["bench"] = "load";
  (*e.mutable_labels())["sweep"] = "s" + std::to_string(i % 20);
  e.set_desired_state(pb::DESIRED_STATE_STOPPED);
  e.set_observed_state(pb::OBSERVED_STATE_IDLE);
  e.set_generation(3);
  e.set_observed_generation(3);
  auto* c = e.add_conditions();
  c->set_type("Reconciling");
  c->set_reason("Idle");
  c->mutable_last_transition_time()->set_seconds(1767225600 + i);
  e.set_job_count(10);
  e.mutable_create_time()->set_seconds(1767225600 + i);
  e.mutable_update_time()->set_seconds(1767225600 + i);
  return e;
}

// This thread's CPU time: on a shared machine wall time also counts the
// time slices other processes got, more of them the longer a run lasts.
double ThreadCpuMs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

// Median CPU milliseconds of `rounds` runs of `fn`.
double MedianMs(int rounds, const std::function<void()>& fn) {
  std::vector<double> ms;
  for (int r = 0; r < rounds; ++r) {
    double start = ThreadCpuMs();
    fn();
    ms.push_back(ThreadCpuMs() - start);
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

std::string ProtobufJson(const gpb::Message& m) {
  gpb::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string out;
  if (!gpb::util::MessageToJsonString(m, &out, options).ok()) std::abort();
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"plain JSON vs protobuf JSON, per response"};
  int experiments = 1000, rounds = 50;
  app.add_option("--experiments", experiments, "experiments in the list page");
  app.add_option("--rounds", rounds, "runs per figure (the median is printed)");
  CLI11_PARSE(app, argc, argv);

  pb::ListExperimentsResponse page;
  for (int i = 0; i < experiments; ++i) *page.add_experiments() = MakeExperiment(i);
  pb::GetExperimentResponse one;
  *one.mutable_experiment() = MakeExperiment(7);

  size_t sink = 0;
  double list_protobuf = MedianMs(rounds, [&] { sink += ProtobufJson(page).size(); });
  double list_plain =
      MedianMs(rounds, [&] { sink += skydeck::web::MessageToPlainJson(page)->size(); });
  int small_rounds = rounds * 200;
  double get_protobuf = MedianMs(rounds,
                                 [&] {
                                   for (int k = 0; k < 200; ++k) sink += ProtobufJson(one).size();
                                 }) /
                        200;
  double get_plain = MedianMs(rounds,
                              [&] {
                                for (int k = 0; k < 200; ++k)
                                  sink += skydeck::web::MessageToPlainJson(one)->size();
                              }) /
                     200;

  pb::CreateExperimentRequest create;
  *create.mutable_experiment() = MakeExperiment(3);
  std::string create_protobuf_text = ProtobufJson(create);
  std::string create_plain_text = *skydeck::web::MessageToPlainJson(create);
  double parse_protobuf =
      MedianMs(rounds,
               [&] {
                 for (int k = 0; k < 200; ++k) {
                   pb::CreateExperimentRequest m;
                   if (!gpb::util::JsonStringToMessage(create_protobuf_text, &m).ok()) std::abort();
                 }
               }) /
      200;
  double parse_plain =
      MedianMs(rounds,
               [&] {
                 for (int k = 0; k < 200; ++k) {
                   pb::CreateExperimentRequest m;
                   if (!skydeck::web::PlainJsonTextToMessage(create_plain_text, &m).ok())
                     std::abort();
                 }
               }) /
      200;

  std::printf(
      "{\"experiments\": %d, \"rounds\": %d, \"small_rounds\": %d,\n"
      " \"list_page_ms\": {\"protobuf\": %.3f, \"plain\": %.3f, \"plain_over_protobuf\": %.2f},\n"
      " \"list_page_bytes\": {\"protobuf\": %zu, \"plain\": %zu},\n"
      " \"get_us\": {\"protobuf\": %.2f, \"plain\": %.2f, \"plain_over_protobuf\": %.2f},\n"
      " \"parse_create_us\": {\"protobuf\": %.2f, \"plain\": %.2f, \"plain_over_protobuf\": "
      "%.2f},\n"
      " \"sink\": %zu}\n",
      experiments, rounds, small_rounds, list_protobuf, list_plain, list_plain / list_protobuf,
      ProtobufJson(page).size(), skydeck::web::MessageToPlainJson(page)->size(),
      get_protobuf * 1000, get_plain * 1000, get_plain / get_protobuf, parse_protobuf * 1000,
      parse_plain * 1000, parse_plain / parse_protobuf, sink);
  return 0;
}
