#include "harness/harness.h"

#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>
#include <torch/version.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <numeric>
#include <random>
#include <sstream>
#include <thread>

#include "harness/device.h"

namespace bench {

const char* const kEmptyVariant = "harness_empty";
const char* const kControlSame = "control_same";
const char* const kControlTwice = "control_twice";
const char* const kControlPlus20 = "control_plus20";

namespace {

using Clock = std::chrono::steady_clock;

at::Tensor flat_cpu(const at::Tensor& t) { return t.detach().cpu().contiguous().reshape(-1); }

bool comparable(const at::Tensor& reference, const at::Tensor& out) {
  return out.defined() && out.numel() == reference.numel() && out.scalar_type() == reference.scalar_type();
}

void require_params(const Technique& technique, const Params& params) {
  for (const auto& name : technique.param_names) {
    if (!params.has(name))
      throw std::invalid_argument("technique " + technique.name + " needs parameter '" + name + "' (got " +
                                  params.canonical() + ")");
  }
}

}  // namespace

std::string libtorch_version() {
  return std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
         std::to_string(TORCH_VERSION_PATCH);
}

std::vector<size_t> round_order(int64_t round_index, size_t n) {
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::mt19937_64 generator(0x9E3779B97F4A7C15ull ^ static_cast<uint64_t>(round_index));
  std::shuffle(order.begin(), order.end(), generator);
  return order;
}

bool outputs_agree(const at::Tensor& reference, const at::Tensor& out, double rtol, double atol) {
  if (!comparable(reference, out)) return false;
  const at::Tensor a = flat_cpu(reference), b = flat_cpu(out);
  return (rtol == 0 && atol == 0) ? at::equal(b, a) : at::allclose(b, a, rtol, atol);
}

std::string describe_difference(const at::Tensor& reference, const at::Tensor& out, double rtol, double atol) {
  std::ostringstream why;
  if (!out.defined()) return "it returned no tensor";
  if (out.numel() != reference.numel()) {
    why << "it has " << out.numel() << " elements, the reference " << reference.numel();
  } else if (out.scalar_type() != reference.scalar_type()) {
    why << "its dtype is " << out.scalar_type() << ", the reference's " << reference.scalar_type();
  } else {
    const at::Tensor diff = (flat_cpu(out).to(at::kDouble) - flat_cpu(reference).to(at::kDouble)).abs();
    why << "max |difference| " << (diff.numel() ? diff.max().item<double>() : 0.0) << " (rtol " << rtol << ", atol "
        << atol << ")";
  }
  return why.str();
}

namespace {

int64_t elapsed_ns(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count();
}

// A busy wait; returns the clock's last reading (the first at or past `until`).
Clock::time_point spin_until(Clock::time_point until) {
  auto now = Clock::now();
  while (now < until) now = Clock::now();
  return now;
}

// A sample stretched by `stretch` (Variant::stretch): after its calls, which began at `start`, a
// busy wait of `stretch` times their duration less what the stretching costs (`overhead_ns`: its
// clock reads), so that the sample lasts (1 + stretch) times its calls, whatever state the machine
// and the allocator were in. (Doing the work twice would not make exactly 2x: the second pass
// finds its data in the cache.)
void stretch_sample(Clock::time_point start, double stretch, int64_t overhead_ns) {
  const auto done = Clock::now();
  const auto calls_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(done - start).count();
  const auto until =
      done + std::chrono::nanoseconds(std::max<int64_t>(0, static_cast<int64_t>(stretch * calls_ns) - overhead_ns));
  spin_until(until);
}

// What stretching adds to a sample with nothing to wait for (its clock reads), the median of many.
int64_t stretch_overhead_ns() {
  std::vector<int64_t> times;
  for (int i = 0; i < 201; ++i) {
    const auto start = Clock::now();
    stretch_sample(start, 0.0, 0);
    times.push_back(elapsed_ns(start));
  }
  std::nth_element(times.begin(), times.begin() + times.size() / 2, times.end());
  return times[times.size() / 2];
}

}  // namespace

int64_t busy_wait_ns(int64_t ns) {
  const auto start = Clock::now();
  return std::chrono::duration_cast<std::chrono::nanoseconds>(spin_until(start + std::chrono::nanoseconds(ns)) - start)
      .count();
}

void add_controls(Case& c, const std::string& base) {
  const auto it = std::find_if(c.variants.begin(), c.variants.end(), [&](const Variant& v) { return v.name == base; });
  if (it == c.variants.end()) throw std::invalid_argument("control base '" + base + "' is not a variant here");
  const std::function<at::Tensor()> run = it->run;
  c.variants.push_back({kControlSame, run});
  c.variants.push_back({kControlTwice, run, 1.0});
  c.variants.push_back({kControlPlus20, run, 0.2});
}

int batch_size(double fastest_call_ns, double harness_ns, double target) {
  if (target <= 1 || !(fastest_call_ns > 0) || fastest_call_ns >= target * harness_ns) return 1;
  int batch = 1;
  while (batch < kMaxBatch && batch * fastest_call_ns < target * harness_ns) batch *= 2;
  return batch;
}

namespace {

// The median time of `calls` untimed-looking calls of one variant (for calibration only).
double median_call_ns(Variant& v, const at::Device& device, int calls) {
  std::vector<int64_t> times;
  for (int i = 0; i < calls; ++i) {
    synchronize(device);
    const auto start = Clock::now();
    at::Tensor out = v.run();
    synchronize(device);
    times.push_back(elapsed_ns(start));
  }
  std::nth_element(times.begin(), times.begin() + times.size() / 2, times.end());
  return static_cast<double>(times[times.size() / 2]);
}

// The case's calls per sample, from its fastest variant and the empty variant (the harness's cost).
int calibrate_batch(Case& c, const at::Device& device, double target) {
  if (target <= 1) return 1;
  double fastest = 0, harness = 0;
  for (Variant& v : c.variants) {
    const double t = median_call_ns(v, device, 9);
    if (v.name == kEmptyVariant)
      harness = t;
    else if (fastest == 0 || t < fastest)
      fastest = t;
  }
  return batch_size(fastest, harness, target);
}

}  // namespace

void check_case(const Technique& technique, const Params& params, Case& c) {
  const at::Tensor ref = c.variants.at(0).run();
  for (size_t i = 1; i < c.variants.size(); ++i) {
    const at::Tensor out = c.variants[i].run();
    if (!outputs_agree(ref, out, c.rtol, c.atol))
      throw MismatchError("technique " + technique.name + ", variant " + c.variants[i].name + ", params " +
                          params.canonical() + ": output differs from reference variant " + c.variants[0].name + " (" +
                          describe_difference(ref, out, c.rtol, c.atol) + ")");
  }
}

std::vector<Sample> time_case(const Technique& technique, const Params& params, const at::Device& device,
                              const Options& options) {
  require_params(technique, params);
  at::NoGradGuard no_grad;
  Case c = technique.prepare(params, device);
  if (!options.control_base.empty()) add_controls(c, options.control_base);
  check_case(technique, params, c);
  c.variants.push_back(Variant{kEmptyVariant, [] { return at::Tensor(); }});

  const size_t n = c.variants.size();
  const std::string key = params.canonical();
  const int batch = calibrate_batch(c, device, options.batch_target);
  std::vector<Sample> samples;
  samples.reserve(n * options.rounds * options.calls_per_round);
  const int64_t overhead_ns = stretch_overhead_ns();
  at::Tensor keep_alive;
  for (int round = -options.warmup_rounds; round < options.rounds; ++round) {
    for (size_t i : round_order(options.first_round + round + options.warmup_rounds, n)) {
      Variant& v = c.variants[i];
      // The empty variant stays one call per sample: it is the harness's cost per sample.
      const int calls_in_sample = v.name == kEmptyVariant ? 1 : batch;
      for (int call = 0; call < options.calls_per_round; ++call) {
        synchronize(device);  // earlier work must not spill into this sample
        const auto start = Clock::now();
        at::Tensor out;
        // in a batch each result is dropped by the next call, as in a loop that calls it
        for (int k = 0; k < calls_in_sample; ++k) out = v.run();
        synchronize(device);
        if (v.stretch > 0) stretch_sample(start, v.stretch, overhead_ns);
        const auto stop = Clock::now();
        keep_alive = std::move(out);  // the previous sample's result is freed here, outside the sample
        if (round < 0) continue;      // warm-up: untimed
        const int64_t total = std::chrono::duration_cast<std::chrono::nanoseconds>(stop - start).count();
        Sample s{technique.name,
                 v.name,
                 key,
                 options.first_round + round,
                 call,
                 static_cast<double>(total) / calls_in_sample};
        s.process = options.process;
        s.batch = calls_in_sample;
        samples.push_back(std::move(s));
      }
    }
  }
  return samples;
}

int run_technique(const Technique& technique, const std::vector<Params>& cases, const Options& options,
                  const std::function<void(const Sample&)>& emit) {
  if (options.rounds < 1 || options.calls_per_round < 1 || options.warmup_rounds < 0)
    throw std::invalid_argument("rounds and calls per round must be >= 1, warm-up rounds >= 0");
  at::set_num_threads(options.threads);
  const int threads = at::get_num_threads();
  const at::Device device = resolve_device(options.device);
  int64_t emitted = 0;
  for (const Params& params : cases) {
    const std::vector<Sample> samples =
        technique.time ? technique.time(params, device, options) : time_case(technique, params, device, options);
    for (const Sample& s : samples) {
      emit(s);
      ++emitted;
      if (options.abort_after_samples >= 0 && emitted >= options.abort_after_samples) std::abort();
      if (options.hang_after_samples >= 0 && emitted >= options.hang_after_samples) {
        for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
      }
    }
  }
  return threads;
}

}  // namespace bench
