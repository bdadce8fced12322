#include "techniques/model_variants.h"

#include <ATen/record_function.h>
#include <torch/csrc/jit/passes/freeze_module.h>
#include <torch/csrc/jit/passes/frozen_graph_optimizations.h>
#include <torch/csrc/jit/passes/pass_manager.h>
#include <torch/csrc/jit/passes/tensorexpr_fuser.h>
#include <torch/csrc/jit/runtime/graph_executor.h>
#include <torch/version.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <unistd.h>

#define BENCH_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

// AOTInductor packages (torch.export + aoti_compile_and_package) load from C++ since torch 2.6.
#if BENCH_TORCH_AT_LEAST(2, 6) && defined(__has_include)
#if __has_include(<torch/csrc/inductor/aoti_package/model_package_loader.h>)
#include <torch/csrc/inductor/aoti_package/model_package_loader.h>
#define BENCH_HAVE_AOTI 1
#endif
#endif

// Declared here because 1.8.1 does not ship torch/csrc/jit/codegen/fuser/interface.h; the
// functions exist in every version we build.
namespace torch {
namespace jit {
TORCH_API bool canFuseOnCPU();
TORCH_API bool canFuseOnGPU();
TORCH_API void overrideCanFuseOnCPU(bool value);
TORCH_API void overrideCanFuseOnGPU(bool value);
}  // namespace jit
}  // namespace torch

namespace bench {
namespace models {

// CPU: float32 throughout. CUDA: cuDNN may run convolutions in TF32 (PyTorch's default for
// cuDNN), ~1e-3 relative per op, and a frozen graph folds batch norm into the convolution's
// weights, which rounds differently; seen on an H200 (frozen CNN). Wrong weights or a wrong
// graph still differ by far more.
Tolerance tolerance(const at::Device& device) {
  if (device.is_cuda()) return {1e-2, 1e-3};
  return {1e-4, 1e-5};
}

namespace {

namespace jit = torch::jit;

const char* const kNative = "native";
const char* const kDefault = "torchscript_default";
const char* const kNoOptimize = "torchscript_no_optimize";
const char* const kNoProfiling = "torchscript_no_profiling";
const char* const kFusionOn = "torchscript_fusion_on";
const char* const kLowBailout = "torchscript_low_bailout";
const char* const kFrozen = "torchscript_frozen";
const char* const kPythonExport = "torchscript_python_export";
const char* const kAotInductor = "aotinductor";

std::string version_string() {
  return std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
         std::to_string(TORCH_VERSION_PATCH);
}

// ---- the graph executor's process-wide switches ------------------------------------------

struct JitSettings {
  bool optimize = true;            // setGraphExecutorOptimize
  bool profiling_executor = true;  // getExecutorMode() and getProfilingMode()
  bool fuse = false;               // TensorExpr fuser on CPU (and GPU) forced on
  int64_t bailout_depth = -1;      // -1: the version's default
};

#if BENCH_TORCH_AT_LEAST(1, 11)
using BailoutState = jit::FusionStrategy;
BailoutState read_bailout() { return jit::getFusionStrategy(); }
void write_bailout(BailoutState state) { jit::setFusionStrategy(state); }
BailoutState bailout_for_depth(int64_t depth) {
  return {{jit::FusionBehavior::STATIC, static_cast<size_t>(depth)}};
}
#else
using BailoutState = size_t;
BailoutState read_bailout() { return jit::getBailoutDepth().load(); }
void write_bailout(BailoutState state) { jit::getBailoutDepth() = state; }
BailoutState bailout_for_depth(int64_t depth) { return static_cast<size_t>(depth); }
#endif

struct JitState {
  bool optimize, executor_mode, profiling_mode, fuse_cpu, fuse_gpu, texpr;
  BailoutState bailout;

  static JitState read() {
    return JitState{jit::getGraphExecutorOptimize(),
                    jit::getExecutorMode().load(),
                    jit::getProfilingMode().load(),
                    jit::canFuseOnCPU(),
                    jit::canFuseOnGPU(),
                    jit::tensorExprFuserEnabled(),
                    read_bailout()};
  }
  void write() const {
    jit::setGraphExecutorOptimize(optimize);
    jit::getExecutorMode() = executor_mode;
    jit::getProfilingMode() = profiling_mode;
    jit::overrideCanFuseOnCPU(fuse_cpu);
    jit::overrideCanFuseOnGPU(fuse_gpu);
    jit::setTensorExprFuserEnabled(texpr);
    write_bailout(bailout);
  }
};

// The version's defaults, read before any variant changed them.
const JitState& default_state() {
  static const JitState state = JitState::read();
  return state;
}

JitState state_for(const JitSettings& s) {
  JitState state = default_state();
  state.optimize = s.optimize;
  if (!s.profiling_executor) state.executor_mode = state.profiling_mode = false;
  // As torch._C._jit_override_can_fuse_on_cpu(True) does. Neither PyPI wheel has LLVM: 1.8.1
  // then runs NNC's kernels in its IR interpreter, 2.x refuses ("LLVM Backend not found").
  if (s.fuse) state.fuse_cpu = state.fuse_gpu = state.texpr = true;
  if (s.bailout_depth >= 0) state.bailout = bailout_for_depth(s.bailout_depth);
  return state;
}

// Sets the switches for one call (or one load) and restores the previous ones afterwards, so
// variants with different settings can share a process and be interleaved.
class JitSettingsScope {
 public:
  explicit JitSettingsScope(const JitState& state) : saved_(JitState::read()) { state.write(); }
  ~JitSettingsScope() { saved_.write(); }
  JitSettingsScope(const JitSettingsScope&) = delete;
  JitSettingsScope& operator=(const JitSettingsScope&) = delete;

 private:
  JitState saved_;
};

JitSettings settings_of(const std::string& variant, int64_t bailout_depth) {
  JitSettings s;
  if (variant == kNoOptimize) s.optimize = false;
  if (variant == kNoProfiling) s.profiling_executor = false;
  if (variant == kFusionOn || variant == kLowBailout) s.fuse = true;
  if (variant == kLowBailout) s.bailout_depth = bailout_depth;
  return s;
}

bool is_torchscript(const std::string& variant) { return variant.compare(0, 12, "torchscript_") == 0; }

// Forcing fusion on the CPU, tried once on a tiny module: "" when it works, else why not.
const std::string& cpu_fusion_problem() {
  static const std::string problem = [] {
    try {
      JitSettings fuse;
      fuse.fuse = true;
      JitSettingsScope scope(state_for(fuse));
      jit::Module m("__torch__.bench.fusion_probe");
      m.define("def forward(self, x):\n    return torch.relu(x + 1.0) * 2.0\n");
      const at::Tensor x = at::ones({4});
      for (int i = 0; i < 3; ++i) m.forward({x});
      return std::string();
    } catch (const std::exception& e) {
      const std::string what = e.what();
      return "forcing TensorExpr fusion on the CPU fails in this build (" + what.substr(0, what.find('\n')) +
             "): it has no LLVM";
    }
  }();
  return problem;
}

// ---- files ---------------------------------------------------------------------------------

bool file_exists(const std::string& path) { return std::ifstream(path).good(); }

// The pipeline writes a one-line text ("not built: ...", "not compiled: ...") where it made
// no model file; its reason, or "" for a real model file.
std::string marker_reason(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!std::getline(in, line) || line.rfind("not ", 0) != 0) return "";
  return line;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string sizes_json(const ModelConfig& config) {
  return "{\"model\": \"" + config.name + "\", \"sizes\": \"" + size_string(config) + "\", \"libtorch\": \"" +
         version_string() + "\"}\n";
}

// The exported files were made for these sizes (a stale export would compare the wrong model).
void check_sizes(const ModelConfig& config, const ModelFiles& files) {
  const std::string text = read_file(files.sizes());
  if (text.find("\"sizes\": \"" + size_string(config) + "\"") == std::string::npos)
    throw std::runtime_error("model_inference: " + files.sizes() + " does not describe " + config.name + " with " +
                             size_string(config) + " (stale export? rerun export)");
}

// TorchScript as users get it: from a file. Without an export folder the module is saved to a
// temporary file first and loaded back.
jit::Module load_torchscript_file(const ModelConfig& config, const ModelFiles& files, const std::string& path,
                                  const at::Device& device) {
  if (!files.dir.empty()) {
    check_sizes(config, files);
    return jit::load(path, device);
  }
  char dir_template[] = "/tmp/model_inference.XXXXXX";
  const char* dir = mkdtemp(dir_template);
  if (dir == nullptr) throw std::runtime_error("model_inference: cannot create a temporary folder");
  const std::string tmp = std::string(dir) + "/" + config.name + ".pt";
  make_scripted(config).save(tmp);
  jit::Module m = jit::load(tmp, device);
  std::remove(tmp.c_str());
  rmdir(dir);
  return m;
}

jit::Module freeze_like_python(const jit::Module& m) {
#if BENCH_TORCH_AT_LEAST(1, 9)
  return jit::freeze(m);
#else
  // 1.8's C++ torch::jit::freeze rejects eval-mode modules (its check is inverted); these are
  // the two steps torch.jit.freeze runs in Python 1.8.
  jit::Module frozen = jit::freeze_module(m);
  std::shared_ptr<jit::Graph> graph = frozen.get_method("forward").graph();
  jit::OptimizeFrozenGraph(graph, /*optimize_numerics=*/true);
  return frozen;
#endif
}

// ---- probe hooks ---------------------------------------------------------------------------

std::atomic<int64_t> g_optimizations{0};
std::atomic<int64_t> g_fallbacks{0};

inline std::string name_of(const char* name) { return name; }
template <class StringLike>
std::string name_of(const StringLike& name) {
  return name.str();
}

std::unique_ptr<at::ObserverContext> on_torchscript_function(const at::RecordFunction& fn) {
  if (name_of(fn.name()) == "fallback_function") ++g_fallbacks;
  return nullptr;
}

bool has_profile_nodes(const jit::Block* block) {
  for (const jit::Node* node : block->nodes()) {
    if (node->kind() == c10::prim::profile) return true;
    for (const jit::Block* sub : node->blocks())
      if (has_profile_nodes(sub)) return true;
  }
  return false;
}

}  // namespace

const std::vector<std::string>& variant_names() {
  static const std::vector<std::string> names = {kNative,   kDefault,      kNoOptimize,  kNoProfiling, kFusionOn,
                                                 kLowBailout, kFrozen, kPythonExport, kAotInductor};
  return names;
}

void export_torchscript(const ModelConfig& config, const std::string& dir) {
  ModelFiles files{dir, config.name};
  make_scripted(config).save(files.torchscript());
  std::ofstream out(files.sizes());
  out << sizes_json(config);
  if (!out) throw std::runtime_error("model_inference: cannot write " + files.sizes());
}

std::string unavailable_reason(const std::string& variant, const at::Device& device, const ModelFiles& files,
                               bool try_fusion) {
  bool known = false;
  for (const auto& name : variant_names()) known = known || name == variant;
  if (!known) throw std::invalid_argument("model_inference: unknown variant '" + variant + "'");
  if (variant == kPythonExport && (files.dir.empty() || !file_exists(files.python_export()))) {
    if (!BENCH_TORCH_AT_LEAST(2, 0))
      return "the pipeline exports TorchScript from Python with the installed torch only; libtorch " +
             version_string() + " has no Python here (its wheels are for Python <= 3.9)";
    return "no Python export " + (files.dir.empty() ? std::string("(no model folder given)") : files.python_export()) +
           " (the pipeline makes it for the installed torch only: workflow/scripts/export_python_models.py)";
  }
  if (variant == kAotInductor) {
#ifndef BENCH_HAVE_AOTI
    return "AOTInductor packages load from C++ only from torch 2.6 on (this is libtorch " + version_string() + ")";
#else
    if (!device.is_cpu())
      return "the pipeline compiles AOTInductor packages for the CPU only (workflow/scripts/export_python_models.py)";
    if (files.dir.empty() || !file_exists(files.aoti_package()))
      return "no AOTInductor package " +
             (files.dir.empty() ? std::string("(no model folder given)") : files.aoti_package()) +
             " (made by workflow/scripts/export_python_models.py)";
    const std::string marker = marker_reason(files.aoti_package());
    if (!marker.empty()) return "no AOTInductor package: " + marker;
#endif
  }
  if ((variant == kFusionOn || variant == kLowBailout) && device.is_cpu() && try_fusion &&
      !cpu_fusion_problem().empty())
    return cpu_fusion_problem() + (variant == kLowBailout ? " (the bailout depth only acts on fused graphs)" : "");
  if (is_torchscript(variant) && variant != kPythonExport && !files.dir.empty() && !file_exists(files.torchscript()))
    return "no TorchScript file " + files.torchscript() + " (made by bench_runner export-models)";
  return "";
}

std::map<std::string, std::string> variant_settings(int64_t bailout_depth) {
  const std::string depth = std::to_string(bailout_depth);
#if BENCH_TORCH_AT_LEAST(1, 11)
  const std::string bailout = "setFusionStrategy({{STATIC, " + depth + "}})";
#else
  const std::string bailout = "getBailoutDepth() = " + depth;
#endif
  const std::string fuse = "overrideCanFuseOnCPU(true), overrideCanFuseOnGPU(true), setTensorExprFuserEnabled(true)";
  return {
      {kNative, "torch::nn::Module, NoGradGuard"},
      {kDefault, "torch::jit::load, eval(), the version's defaults"},
      {kNoOptimize, "setGraphExecutorOptimize(false)"},
      {kNoProfiling, "getExecutorMode() = false, getProfilingMode() = false (the legacy executor)"},
      {kFusionOn, fuse},
      {kLowBailout, fuse + ", " + bailout},
#if BENCH_TORCH_AT_LEAST(1, 9)
      {kFrozen, "torch::jit::freeze(module) after eval()"},
#else
      {kFrozen, "freeze_module(module) + OptimizeFrozenGraph after eval() (torch.jit.freeze's steps)"},
#endif
      {kPythonExport, "torch.jit.script of the Python nn.Module, weights copied, torch.jit.save; loaded with "
                      "torch::jit::load"},
      {kAotInductor, "torch.export + aoti_compile_and_package; AOTIModelPackageLoader(path).run"},
  };
}

LoadedVariant load_variant(const std::string& variant, const ModelConfig& config, const ModelFiles& files,
                           const at::Device& device, int64_t bailout_depth) {
  // Fusion is not tried here: a trial run would warm the process up before a cold start.
  const std::string why = unavailable_reason(variant, device, files, /*try_fusion=*/false);
  if (!why.empty()) throw std::runtime_error("model_inference: " + variant + " is not available: " + why);
  LoadedVariant loaded;
  loaded.name = variant;
  loaded.torchscript = is_torchscript(variant);
  if (variant == kNative) {
    auto module = make_native(config, device);
    ModelConfig c = config;
    loaded.forward = [module, c](const at::Tensor& x) { return native_forward(*module, c, x); };
    return loaded;
  }
#ifdef BENCH_HAVE_AOTI
  if (variant == kAotInductor) {
    check_sizes(config, files);
    auto loader = std::make_shared<torch::inductor::AOTIModelPackageLoader>(files.aoti_package());
    loaded.forward = [loader](const at::Tensor& x) { return loader->run({x}).at(0); };
    return loaded;
  }
#endif
  const JitState state = state_for(settings_of(variant, bailout_depth));
  JitSettingsScope scope(state);
  const std::string path = variant == kPythonExport ? files.python_export() : files.torchscript();
  auto module = std::make_shared<jit::Module>(load_torchscript_file(config, files, path, device));
  module->eval();
  if (variant == kFrozen) *module = freeze_like_python(*module);
  loaded.forward = [module, state](const at::Tensor& x) {
    JitSettingsScope call_scope(state);
    return module->forward({x}).toTensor();
  };
  return loaded;
}

ExecutorProbe::ExecutorProbe(bool enabled) : enabled_(enabled) {
  if (!enabled_) return;
  static std::once_flag installed;
  std::call_once(installed, [] {
    default_state();  // read the defaults before any variant changes them
    jit::registerPostPass([](std::shared_ptr<jit::Graph>&) { ++g_optimizations; });
    at::addGlobalCallback(
        at::RecordFunctionCallback(on_torchscript_function).scopes({at::RecordScope::TORCHSCRIPT_FUNCTION}));
  });
}

void ExecutorProbe::before_call() {
  if (!enabled_) return;
  optimizations_ = g_optimizations.load();
  fallbacks_ = g_fallbacks.load();
}

std::string ExecutorProbe::after_call() {
  std::string event;
  if (!enabled_) return event;
  auto add = [&](const char* token) { event += (event.empty() ? "" : "+") + std::string(token); };
  std::shared_ptr<jit::Graph> graph = jit::lastExecutedOptimizedGraph();
  if (graph && graph.get() != last_graph_) {
    last_graph_ = graph.get();
    last_graph_profiling_ = has_profile_nodes(graph->block());
  }
  if (graph && last_graph_profiling_) add("profiling");
  if (g_optimizations.load() != optimizations_) add("optimized");
  if (g_fallbacks.load() != fallbacks_) add("fallback");
  return event;
}

namespace {
at::Tensor cpu_float(const at::Tensor& t) { return t.detach().cpu().to(at::kFloat); }
}  // namespace

bool outputs_match(const at::Tensor& reference, const at::Tensor& out) {
  if (!out.defined() || out.sizes() != reference.sizes()) return false;
  const Tolerance tol = tolerance(reference.device());
  return at::allclose(cpu_float(out), cpu_float(reference), tol.rtol, tol.atol);
}

std::string difference(const at::Tensor& reference, const at::Tensor& out) {
  const Tolerance tol = tolerance(reference.device());
  std::ostringstream text;
  if (!out.defined() || out.sizes() != reference.sizes()) {
    text << "shape " << (out.defined() ? out.sizes() : at::IntArrayRef{}) << " instead of " << reference.sizes();
  } else {
    const at::Tensor diff = (cpu_float(out) - cpu_float(reference)).abs();
    text << "max |difference| " << diff.max().item<float>();
  }
  text << " (rtol " << tol.rtol << ", atol " << tol.atol << ")";
  return text.str();
}

}  // namespace models
}  // namespace bench
