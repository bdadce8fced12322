// Claim 1's ways of running one model: the native torch::nn module, TorchScript loaded from a
// .pt file under each executor setting, and (installed torch) the Python export and an
// AOTInductor package. Also the per-call mechanism probe.
#pragma once

#include <torch/script.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "techniques/models.h"

namespace bench {
namespace models {

// Every variant name, in the order they are listed and run.
const std::vector<std::string>& variant_names();

// Where the exported files of one model live: DIR/MODEL.pt (TorchScript scripted and saved
// by this libtorch), DIR/MODEL.python.pt (torch.jit.script in Python, installed torch),
// DIR/MODEL.aoti.pt2 (AOTInductor package) and DIR/MODEL.json (the sizes they were made with).
struct ModelFiles {
  std::string dir;  // empty: nothing exported; TorchScript is saved to a temporary file and loaded
  std::string model;
  std::string torchscript() const { return dir + "/" + model + ".pt"; }
  std::string python_export() const { return dir + "/" + model + ".python.pt"; }
  std::string aoti_package() const { return dir + "/" + model + ".aoti.pt2"; }
  std::string sizes() const { return dir + "/" + model + ".json"; }
};

// Saves MODEL.pt (the scripted module of make_scripted) and MODEL.json into `dir`.
void export_torchscript(const ModelConfig& config, const std::string& dir);

// "" when the variant can run here, else why not ("not available: ..." without the prefix).
// Availability depends on the libtorch version, the device and the exported files; with
// try_fusion, forcing CPU fusion is tried once on a tiny module (2.x wheels refuse it).
std::string unavailable_reason(const std::string& variant, const at::Device& device, const ModelFiles& files,
                               bool try_fusion = true);

// What each variant sets, for the provenance: "setGraphExecutorOptimize(false)", ...
std::map<std::string, std::string> variant_settings(int64_t bailout_depth);

// One loaded variant. `forward` applies the variant's executor settings around each call.
struct LoadedVariant {
  std::string name;
  bool torchscript = false;
  std::function<at::Tensor(const at::Tensor&)> forward;
};

// Loads (or builds, for native) the variant; throws std::runtime_error when it is not available.
LoadedVariant load_variant(const std::string& variant, const ModelConfig& config, const ModelFiles& files,
                           const at::Device& device, int64_t bailout_depth);

// Per-call mechanism of the TorchScript graph executor, read from signals that cost nothing
// while nothing happens: a registered post-optimization pass (counts every graph the
// executor optimizes, fallback paths included), an observer of TorchScript function calls
// (counts entries into "fallback_function", i.e. failed specialization guards), and the
// graph the executor ran last (an instrumented graph means a profiling run).
class ExecutorProbe {
 public:
  // Installs the process-wide hooks once; a disabled probe installs nothing and reports "".
  explicit ExecutorProbe(bool enabled = true);
  void before_call();
  // "profiling", "optimized", "fallback" joined by '+', or "" when the call ran a plan as is.
  std::string after_call();

 private:
  bool enabled_;
  int64_t optimizations_ = 0;
  int64_t fallbacks_ = 0;
  const void* last_graph_ = nullptr;
  bool last_graph_profiling_ = false;
};

// Relative and absolute tolerance between a variant's output and the native module's, on
// the device both were computed on.
struct Tolerance {
  double rtol;
  double atol;
};
Tolerance tolerance(const at::Device& device);

}  // namespace models
}  // namespace bench
