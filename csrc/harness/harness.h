// The timing harness shared by every technique, the runner and the Python module.
//
// A technique is a set of variants that do the same work. For each parameter set the
// harness checks every variant's output against the reference (the first variant), then
// times them in interleaved rounds whose order rotates, one steady-clock sample per call,
// keeping every sample. An empty variant measures the harness's own per-sample cost.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "harness/params.h"

namespace bench {

// One way of doing the technique's work: does it once and returns the result, which the
// harness keeps alive until the next call so the work cannot be optimised away.
struct Variant {
  std::string name;
  std::function<at::Tensor()> run;
  // The known-slowdown controls: after the sample's calls the harness waits `stretch` times as
  // long as they took (less its own cost), so that a sample reads (1 + stretch) times the base's.
  // The calls run in the very loop the base's run in: at 150 ns a call, a loop elsewhere (another
  // call site) ran 5% faster, and a wait per call would add the tens of ns of its clock reads.
  double stretch = 0;
};

// A technique prepared for one parameter set; inputs live in the variants' closures.
struct Case {
  std::vector<Variant> variants;  // variants[0] is the reference the others must equal
  // The inputs as tensors, so tests can compute the expected result independently.
  std::vector<std::pair<std::string, at::Tensor>> inputs;
  // 0 and 0: outputs must be equal. Otherwise they must agree within these (at::allclose).
  double rtol = 0;
  double atol = 0;
};

struct Options {
  std::string device = "cpu";
  int threads = 1;
  int warmup_rounds = 2;
  int rounds = 10;
  int calls_per_round = 1;
  // Where this process's samples sit among a cell's: its index, and the number of its first
  // round (a cell sampled in several processes numbers its rounds on across them).
  int process = 0;
  int first_round = 0;
  // A variant of the technique to build the controls on (see add_controls); "" for none.
  std::string control_base;
  // A sample lasts at least this many times the harness's own cost per sample: a case whose
  // fastest call is shorter is timed `batch` calls at a time (calibrate_batch); <= 1: one call.
  double batch_target = 0;
  // Test-only fault switches: abort(), or hang until killed, once this many samples are taken.
  int64_t abort_after_samples = -1;
  int64_t hang_after_samples = -1;
};

struct Sample {
  std::string technique;
  std::string variant;
  std::string params;
  int round = 0;
  int call = 0;
  double ns = 0;           // per call: a batched sample's time divided by `batch` keeps its fraction of a ns
  std::string shape = "";  // input shape, e.g. "8x64" (claim 1; empty elsewhere)
  std::string event = "";  // what the runtime did in this call, e.g. "optimized" (claim 1; empty elsewhere)
  int process = 0;         // which process of the cell took it (Options::process)
  int batch = 1;           // back-to-back calls in the sample; `ns` is per call (the sample / batch)
};

struct Technique {
  std::string name;
  std::string claim;                     // which claim of the blog it answers
  std::vector<std::string> param_names;  // every case must set these
  std::vector<std::string> variant_names;
  std::function<Case(const Params&, const at::Device&)> prepare;
  // Optional: a technique that times itself (claim 1's scenarios need fresh processes, shape
  // sequences and per-call mechanism markers); when empty the harness's time_case is used.
  std::function<std::vector<Sample>(const Params&, const at::Device&, const Options&)> time = nullptr;
};

extern const char* const kEmptyVariant;

// The libtorch version this code was compiled against, "MAJOR.MINOR.PATCH".
std::string libtorch_version();

// The variants' order in one round: a permutation drawn from a generator seeded with the
// round's index, so each variant runs first, last and in between, and after every other
// variant equally often. (A fixed cyclic order would always put the same variant before each:
// what it leaves behind, e.g. the allocator's free lists, then biases one variant's time;
// the A/A control found a 2x bias that way.)
std::vector<size_t> round_order(int64_t round_index, size_t n);

// Whether `out` is `reference`: same element count and dtype, values equal (rtol = atol = 0)
// or within at::allclose(rtol, atol), compared on the CPU.
bool outputs_agree(const at::Tensor& reference, const at::Tensor& out, double rtol, double atol);
// Why not, for mismatch messages: "it has 3 elements, the reference 4", "max |difference| 0.2 ...".
std::string describe_difference(const at::Tensor& reference, const at::Tensor& out, double rtol, double atol);

// A variant whose output differs from the reference; what() names technique, variant, params.
struct MismatchError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The controls every run carries, so the report can show it tells what it should: the base
// variant again under another name (A/A: must read equivalent), and the base's sample followed
// by a busy wait as long as it (must read 2x) or a fifth of it (must read 1.2x): Variant::stretch.
// The stretch waits on the host, after the harness has synchronized the device.
// std::invalid_argument when the case has no such variant.
extern const char* const kControlSame;
extern const char* const kControlTwice;
extern const char* const kControlPlus20;
void add_controls(Case& c, const std::string& base);

// Spin for `ns` nanoseconds on the harness's clock; returns how long it spun (the stretch's wait,
// and the Python front's stretched controls: a Python loop would overshoot by 100-200 ns).
int64_t busy_wait_ns(int64_t ns);

// The calls per sample of a case: 1, or the power of two that makes the fastest variant's
// sample last `target` times the harness's cost per sample (at most kMaxBatch). The timer's
// own cost is in every sample; spread over `batch` calls it no longer shrinks the ratios of
// sub-microsecond calls (as Google Benchmark's iterations and pyperf's loops do).
constexpr int kMaxBatch = 4096;
int batch_size(double fastest_call_ns, double harness_ns, double target);

// Compares every variant with the reference once; throws MismatchError on the first difference.
void check_case(const Technique& technique, const Params& params, Case& c);

// Check, warm up and time one case; samples are returned in the order they were taken.
std::vector<Sample> time_case(const Technique& technique, const Params& params, const at::Device& device,
                              const Options& options);

// Every case, in order; `emit` receives each sample (the runner writes CSV rows).
// Sets the intra-op thread count first and returns the count libtorch reports back.
int run_technique(const Technique& technique, const std::vector<Params>& cases, const Options& options,
                  const std::function<void(const Sample&)>& emit);

}  // namespace bench
