// Claim 1: the same model and weights run natively (torch::nn) and as TorchScript loaded from
// a file, under each executor setting, in three scenarios:
//
//   cold    the first `calls` calls after loading, in this (fresh) process: round = the
//           first round given (--first-round: the cell's round, one per process), call = the
//           call index after loading
//   steady  one fixed input shape after `warmup_rounds` untimed calls of every variant;
//           `rounds` rounds of `calls_per_round` calls, variants interleaved, order rotating
//   shapes  after the warm-up at the base shape, `shape_count` batch sizes never seen before,
//           each called `shape_repeats` times in a row, then every size seen (base included)
//           again in another order; one variant after the other, call = index in the sequence,
//           round = the first round given; the order of the sizes is drawn from the process
//           index (--process), so each process of a cell meets the new shapes in its own order
//           and every variant of that process in the same one
//
// Every row carries the input shape and what the graph executor did in that call (see
// ExecutorProbe). Outputs are compared with the native module's (within models::tolerance of
// the device): before and after timing in steady, after timing in cold and shapes (a check
// before would warm the process up).
//
// Parameters: model, scenario and the model's sizes (the CSV's params); variants ('+'-separated,
// default: every variant available here), model_dir (exported files; default: TorchScript is
// saved to a temporary file and loaded back), calls, shape_count, shape_repeats,
// bailout_depth (torchscript_low_bailout), budget_seconds, probe (0: no mechanism hooks, to
// measure what they cost; events are then empty).
//
// budget_seconds (default 0: none) bounds a variant whose calls take seconds (NNC fusion
// forced on a CPU build without LLVM interprets its kernels): once its timed calls in this
// process add up past the budget it stops, after at least kMinCalls calls; the message goes
// to stderr and the CSV simply has fewer rows for it. Warm-up calls are not counted.
#include <algorithm>
#include <chrono>
#include <iostream>
#include <random>
#include <sstream>

#include "harness/device.h"
#include "techniques/model_variants.h"
#include "techniques/techniques.h"

namespace bench {
namespace {

using Clock = std::chrono::steady_clock;
const char* const kTechnique = "model_inference";
const int kMinCalls = 3;

struct Plan {
  models::ModelConfig config;
  std::string scenario;
  std::vector<std::string> variants;
  models::ModelFiles files;
  int64_t calls = 50;
  int64_t shape_count = 30;
  int64_t shape_repeats = 2;
  int64_t bailout_depth = 1;
  int64_t budget_ns = 0;  // 0: no budget
  bool probe = true;
  std::string csv_params;  // model, scenario and sizes only
};

int64_t optional_integer(const Params& params, const std::string& key, int64_t fallback, int64_t minimum) {
  if (!params.has(key)) return fallback;
  const int64_t value = params.integer(key);
  if (value < minimum)
    throw std::invalid_argument(std::string(kTechnique) + ": " + key + " must be >= " + std::to_string(minimum));
  return value;
}

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, sep))
    if (!part.empty()) parts.push_back(part);
  return parts;
}

Plan make_plan(const Params& params, const at::Device& device) {
  Plan plan;
  plan.config = models::model_config(params);
  plan.scenario = params.str("scenario");
  if (plan.scenario != "cold" && plan.scenario != "steady" && plan.scenario != "shapes")
    throw std::invalid_argument(std::string(kTechnique) + ": scenario must be cold, steady or shapes (got '" +
                                plan.scenario + "')");
  plan.files = models::ModelFiles{params.has("model_dir") ? params.str("model_dir") : "", plan.config.name};
  plan.calls = optional_integer(params, "calls", 50, 1);
  plan.shape_count = optional_integer(params, "shape_count", 30, 1);
  plan.shape_repeats = optional_integer(params, "shape_repeats", 2, 1);
  plan.bailout_depth = optional_integer(params, "bailout_depth", 1, 0);
  plan.probe = optional_integer(params, "probe", 1, 0) != 0;
  if (params.has("budget_seconds")) {
    const double budget = params.real("budget_seconds");
    if (budget < 0) throw std::invalid_argument(std::string(kTechnique) + ": budget_seconds must be >= 0");
    plan.budget_ns = static_cast<int64_t>(budget * 1e9);
  }
  if (params.has("variants")) {
    plan.variants = split(params.str("variants"), '+');
  } else {
    for (const auto& v : models::variant_names())
      if (models::unavailable_reason(v, device, plan.files).empty()) plan.variants.push_back(v);
  }
  if (plan.variants.empty()) throw std::invalid_argument(std::string(kTechnique) + ": no variant to run");
  if (plan.scenario == "cold" && plan.variants.size() != 1)
    throw std::invalid_argument(std::string(kTechnique) + ": a cold start runs one variant per process");

  Params shown;
  shown.set("model", plan.config.name);
  shown.set("scenario", plan.scenario);
  for (const auto& key : models::size_keys(plan.config.name)) shown.set(key, params.str(key));
  plan.csv_params = shown.canonical();
  return plan;
}

// Whether a variant that made `calls` calls taking `spent_ns` in total may go on.
bool within_budget(const Plan& plan, const std::string& scenario, const std::string& variant, int64_t calls,
                   int64_t spent_ns) {
  if (plan.budget_ns <= 0 || calls < kMinCalls || spent_ns <= plan.budget_ns) return true;
  std::cerr << kTechnique << ": " << plan.config.name << " " << scenario << " " << variant << " stopped after " << calls
            << " calls (" << spent_ns / 1e9 << " s > budget_seconds)" << std::endl;
  return false;
}

struct TimedCall {
  at::Tensor out;
  int64_t ns;
  std::string event;
};

TimedCall timed_call(models::LoadedVariant& v, const at::Tensor& x, const at::Device& device,
                     models::ExecutorProbe& probe) {
  synchronize(device);  // earlier work must not spill into this sample
  if (v.torchscript) probe.before_call();
  const auto start = Clock::now();
  at::Tensor out = v.forward(x);
  synchronize(device);
  const auto stop = Clock::now();
  std::string event = v.torchscript ? probe.after_call() : std::string();
  return {out, std::chrono::duration_cast<std::chrono::nanoseconds>(stop - start).count(), event};
}

Sample make_sample(const Plan& plan, const std::string& variant, int round, int call, const TimedCall& t,
                   const std::string& shape, int process) {
  Sample s{kTechnique, variant, plan.csv_params, round, call, static_cast<double>(t.ns)};
  s.shape = shape;
  s.event = t.event;
  s.process = process;
  return s;
}

// Throws MismatchError unless `out` agrees with native's `expected` (models::tolerance).
void check_against_native(const Plan& plan, const std::string& variant, const at::Tensor& expected,
                          const at::Tensor& out, const std::string& when) {
  const models::Tolerance tol = models::tolerance(expected.device());
  if (!outputs_agree(expected, out, tol.rtol, tol.atol))
    throw MismatchError(std::string(kTechnique) + ", variant " + variant + ", params " + plan.csv_params + when +
                        ": output differs from native, " + describe_difference(expected, out, tol.rtol, tol.atol));
}

// Each kept output against the native module's output for the same batch size.
void verify(const Plan& plan, const std::string& variant, const at::Device& device,
            const std::map<int64_t, at::Tensor>& outputs) {
  auto native = models::load_variant("native", plan.config, plan.files, device, plan.bailout_depth);
  for (const auto& kv : outputs)
    check_against_native(plan, variant, native.forward(models::make_input(plan.config, kv.first, device)), kv.second,
                         ", batch " + std::to_string(kv.first));
}

std::vector<Sample> run_cold(const Plan& plan, const at::Device& device, const Options& options) {
  models::ExecutorProbe probe(plan.probe);
  const std::string& name = plan.variants.front();
  models::LoadedVariant v = models::load_variant(name, plan.config, plan.files, device, plan.bailout_depth);
  const at::Tensor x = models::make_input(plan.config, plan.config.batch, device);
  const std::string shape = models::shape_string(x.sizes());
  std::vector<Sample> samples;
  at::Tensor last;
  int64_t spent = 0;
  for (int64_t call = 0; call < plan.calls && within_budget(plan, "cold", name, call, spent); ++call) {
    TimedCall t = timed_call(v, x, device, probe);
    spent += t.ns;
    samples.push_back(make_sample(plan, name, options.first_round, static_cast<int>(call), t, shape, options.process));
    last = std::move(t.out);
  }
  verify(plan, name, device, {{plan.config.batch, last}});
  return samples;
}

std::vector<Sample> run_steady(const Plan& plan, const at::Device& device, const Options& options) {
  models::ExecutorProbe probe(plan.probe);
  std::vector<models::LoadedVariant> variants;
  for (const auto& name : plan.variants)
    variants.push_back(models::load_variant(name, plan.config, plan.files, device, plan.bailout_depth));
  const at::Tensor x = models::make_input(plan.config, plan.config.batch, device);
  const std::string shape = models::shape_string(x.sizes());
  auto native = models::load_variant("native", plan.config, plan.files, device, plan.bailout_depth);
  const at::Tensor expected = native.forward(x);
  for (auto& v : variants) check_against_native(plan, v.name, expected, v.forward(x), "");
  for (int w = 0; w < options.warmup_rounds; ++w)
    for (auto& v : variants) v.forward(x);

  const size_t n = variants.size();
  std::vector<Sample> samples;
  std::vector<int64_t> calls(n, 0), spent(n, 0);
  std::vector<bool> going(n, true);
  std::vector<at::Tensor> last(n);
  for (int round = 0; round < options.rounds; ++round) {
    for (size_t i : round_order(options.first_round + round, n)) {
      models::LoadedVariant& v = variants[i];
      going[i] = going[i] && within_budget(plan, "steady", v.name, calls[i], spent[i]);
      if (!going[i]) continue;
      for (int call = 0; call < options.calls_per_round; ++call) {
        TimedCall t = timed_call(v, x, device, probe);
        ++calls[i];
        spent[i] += t.ns;
        samples.push_back(make_sample(plan, v.name, options.first_round + round, call, t, shape, options.process));
        last[i] = std::move(t.out);  // the previous result is freed here, outside the sample
      }
    }
  }
  // Again after timing: the optimized (or fused) graphs compute what the first call did.
  for (size_t i = 0; i < n; ++i)
    if (last[i].defined()) check_against_native(plan, variants[i].name, expected, last[i], " after the timed calls");
  return samples;
}

// shape_count batch sizes other than the base one, in an order seeded by the process index, each
// shape_repeats times; then every size seen, the base included, again in another order.
std::vector<int64_t> shape_sequence(const Plan& plan, int process) {
  std::vector<int64_t> fresh;
  for (int64_t b = 1; static_cast<int64_t>(fresh.size()) < plan.shape_count; ++b)
    if (b != plan.config.batch) fresh.push_back(b);
  const auto seed = static_cast<uint32_t>(process) * 2654435761u;
  std::shuffle(fresh.begin(), fresh.end(), std::mt19937(seed ^ 7u));
  std::vector<int64_t> seen = fresh;
  seen.push_back(plan.config.batch);
  std::shuffle(seen.begin(), seen.end(), std::mt19937(seed ^ 11u));
  std::vector<int64_t> sequence;
  for (const auto* part : {&fresh, &seen})
    for (int64_t b : *part)
      for (int64_t r = 0; r < plan.shape_repeats; ++r) sequence.push_back(b);
  return sequence;
}

std::vector<Sample> run_shapes(const Plan& plan, const at::Device& device, const Options& options) {
  models::ExecutorProbe probe(plan.probe);
  const std::vector<int64_t> sequence = shape_sequence(plan, options.process);
  std::map<int64_t, at::Tensor> inputs;
  for (int64_t b : sequence) inputs.emplace(b, models::make_input(plan.config, b, device));
  std::vector<Sample> samples;
  for (const auto& name : plan.variants) {
    models::LoadedVariant v = models::load_variant(name, plan.config, plan.files, device, plan.bailout_depth);
    const at::Tensor& base = inputs.at(plan.config.batch);
    for (int w = 0; w < options.warmup_rounds; ++w) v.forward(base);
    std::map<int64_t, at::Tensor> outputs;
    int64_t spent = 0;
    for (size_t call = 0; call < sequence.size() && within_budget(plan, "shapes", name, call, spent); ++call) {
      const at::Tensor& x = inputs.at(sequence[call]);
      TimedCall t = timed_call(v, x, device, probe);
      spent += t.ns;
      samples.push_back(make_sample(plan, name, options.first_round, static_cast<int>(call), t,
                                    models::shape_string(x.sizes()), options.process));
      outputs[sequence[call]] = std::move(t.out);
    }
    verify(plan, name, device, outputs);
  }
  return samples;
}

std::vector<Sample> time_models(const Params& params, const at::Device& device, const Options& options) {
  torch::NoGradGuard no_grad;
  const Plan plan = make_plan(params, device);
  if (plan.scenario == "cold") return run_cold(plan, device, options);
  if (plan.scenario == "steady") return run_steady(plan, device, options);
  return run_shapes(plan, device, options);
}

// For checks (tests, the Python module): every requested variant's output at the base shape.
Case prepare_model_case(const Params& params, const at::Device& device) {
  const Plan plan = make_plan(params, device);
  const at::Tensor x = models::make_input(plan.config, plan.config.batch, device);
  Case c;
  const models::Tolerance tol = models::tolerance(device);
  c.rtol = tol.rtol;
  c.atol = tol.atol;
  c.inputs.push_back({"x", x});
  std::vector<std::string> names = {"native"};
  for (const auto& name : plan.variants)
    if (name != "native") names.push_back(name);
  for (const auto& name : names) {
    auto v = std::make_shared<models::LoadedVariant>(
        models::load_variant(name, plan.config, plan.files, device, plan.bailout_depth));
    c.variants.push_back({name, [v, x] { return v->forward(x); }});
  }
  return c;
}

}  // namespace

Technique model_inference() {
  Technique t{kTechnique, "1", {"model", "scenario"}, models::variant_names(), prepare_model_case};
  t.time = time_models;
  return t;
}

}  // namespace bench
