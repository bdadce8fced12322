#include "harness/harness.h"

#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>
#include <torch/version.h>

#include <chrono>
#include <cstdlib>
#include <sstream>
#include <thread>

#include "harness/device.h"

namespace bench {

const char* const kEmptyVariant = "harness_empty";

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
  const size_t first = n == 0 ? 0 : static_cast<size_t>(round_index) % n;
  for (size_t k = 0; k < n; ++k) order[k] = (first + k) % n;
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
  check_case(technique, params, c);
  c.variants.push_back(Variant{kEmptyVariant, [] { return at::Tensor(); }});

  const size_t n = c.variants.size();
  const std::string key = params.canonical();
  std::vector<Sample> samples;
  samples.reserve(n * options.rounds * options.calls_per_round);
  at::Tensor keep_alive;
  for (int round = -options.warmup_rounds; round < options.rounds; ++round) {
    for (size_t i : round_order(round + options.warmup_rounds, n)) {
      Variant& v = c.variants[i];
      for (int call = 0; call < options.calls_per_round; ++call) {
        synchronize(device);  // earlier work must not spill into this sample
        const auto start = Clock::now();
        at::Tensor out = v.run();
        synchronize(device);
        const auto stop = Clock::now();
        keep_alive = std::move(out);  // the previous result is freed here, outside the sample
        if (round < 0) continue;      // warm-up: untimed
        samples.push_back(Sample{technique.name, v.name, key, round, call,
                                 std::chrono::duration_cast<std::chrono::nanoseconds>(stop - start).count()});
      }
    }
  }
  return samples;
}

int run_technique(const Technique& technique, const std::vector<Params>& grid, const Options& options,
                  const std::function<void(const Sample&)>& emit) {
  if (options.rounds < 1 || options.calls_per_round < 1 || options.warmup_rounds < 0)
    throw std::invalid_argument("rounds and calls per round must be >= 1, warm-up rounds >= 0");
  at::set_num_threads(options.threads);
  const int threads = at::get_num_threads();
  const at::Device device = resolve_device(options.device);
  int64_t emitted = 0;
  for (const Params& params : grid) {
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
