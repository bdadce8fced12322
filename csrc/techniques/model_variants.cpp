#include "techniques/model_variants.h"

#include <ATen/record_function.h>
#include <torch/csrc/jit/passes/freeze_module.h>
#include <torch/csrc/jit/passes/frozen_graph_optimizations.h>
#include <torch/csrc/jit/passes/pass_manager.h>
#include <torch/csrc/jit/passes/tensorexpr_fuser.h>
#include <torch/csrc/jit/runtime/graph_executor.h>
#include <torch/version.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include "harness/harness.h"

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
BailoutState bailout_for_depth(int64_t depth) { return {{jit::FusionBehavior::STATIC, static_cast<size_t>(depth)}}; }
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

// ---- files ---------------------------------------------------------------------------------

bool file_exists(const std::string& path) { return std::ifstream(path).good(); }

// The pipeline writes a one-line text ("not built: ...", "not compiled: ...") where it made
// no model file; its reason, or "" for a real model file. Unused before torch 2.6 (no AOTI).
[[maybe_unused]] std::string marker_reason(const std::string& path) {
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
         libtorch_version() + "\"}\n";
}

// The exported files were made for these sizes by this libtorch: the file is exactly what
// export_torchscript writes (a stale export would compare the wrong model).
void check_sizes(const ModelConfig& config, const ModelFiles& files) {
  if (read_file(files.sizes()) != sizes_json(config))
    throw std::runtime_error("model_inference: " + files.sizes() + " does not describe " + config.name + " with " +
                             size_string(config) + " made by libtorch " + libtorch_version() +
                             " (stale export? rerun export)");
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
#if BENCH_TORCH_AT_LEAST(1, 10)
  return jit::freeze(m);
#else
  // 1.8's and 1.9's C++ torch::jit::freeze reject eval-mode modules (the check is inverted,
  // fixed in 1.10); these are the two steps torch.jit.freeze runs in Python 1.8 and 1.9.
  jit::Module frozen = jit::freeze_module(m);
  std::shared_ptr<jit::Graph> graph = frozen.get_method("forward").graph();
  jit::OptimizeFrozenGraph(graph, /*optimize_numerics=*/true);
  return frozen;
#endif
}

std::string bailout_text(int64_t depth) {
#if BENCH_TORCH_AT_LEAST(1, 11)
  return "setFusionStrategy({{STATIC, " + std::to_string(depth) + "}})";
#else
  return "getBailoutDepth() = " + std::to_string(depth);
#endif
}

std::string freeze_text() {
#if BENCH_TORCH_AT_LEAST(1, 10)
  return "torch::jit::freeze(module) after eval()";
#else
  return "freeze_module(module) + OptimizeFrozenGraph after eval() (torch.jit.freeze's steps)";
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

// ---- the variants ------------------------------------------------------------------------

// What "not available" checks share: TorchScript needs its file; forcing fusion needs a CPU
// build that can fuse (tried once, on a tiny module: a trial on the model would warm it up).
std::string torchscript_file_problem(const ModelFiles& files) {
  if (!files.dir.empty() && !file_exists(files.torchscript()))
    return "no TorchScript file " + files.torchscript() + " (made by bench_runner export-models)";
  return "";
}

// The model as the runs will call it: its exported file and sizes when there is one, else a
// small instance of its graph built here.
std::pair<jit::Module, ModelConfig> probe_model(const ModelFiles& files) {
  ModelConfig config;
  if (!files.dir.empty() && file_exists(files.sizes()) && file_exists(files.torchscript())) {
    const std::string text = read_file(files.sizes());
    const std::string key = "\"sizes\": \"";
    const size_t at = text.find(key);
    if (at != std::string::npos) {
      const size_t from = at + key.size();
      Params params = parse_case(text.substr(from, text.find('"', from) - from));
      params.set("model", files.model);
      config = model_config(params);
      return {jit::load(files.torchscript(), at::kCPU), config};
    }
  }
  config.name = files.model;
  config.batch = 2;
  config.features = 8, config.hidden = 8, config.depth = 2;
  config.channels = 4, config.image = 16;
  config.seq = 4, config.dim = 8, config.heads = 2, config.layers = 1;
  return {make_scripted(config), config};
}

// Forcing fusion on the CPU, tried once on a tiny element-wise module: "" when it works, else
// why not.
const std::string& generic_fusion_problem() {
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

// Then once per model on its own TorchScript graph, called as the runs call it (no grad, the
// runs' thread count): "" when it works, else why not. The tiny module cannot speak for every
// graph: which ops a fuser takes, and whether it then needs LLVM, depends on the graph.
const std::string& cpu_fusion_problem(const ModelFiles& files) {
  if (!generic_fusion_problem().empty()) return generic_fusion_problem();
  static std::map<std::string, std::string> problems;
  auto found = problems.find(files.torchscript());
  if (found != problems.end()) return found->second;
  std::string problem;
  try {
    JitSettings fuse;
    fuse.fuse = true;
    JitSettingsScope scope(state_for(fuse));
    at::NoGradGuard no_grad;  // as the runs call it: with grad mode on, little gets fused
    std::pair<jit::Module, ModelConfig> probe = probe_model(files);
    jit::Module& module = probe.first;
    const ModelConfig& config = probe.second;
    module.eval();
    const at::Tensor x = make_input(config, config.batch, at::kCPU);
    for (int i = 0; i < 4; ++i) module.forward({x});  // profile, then optimize and run the fused graph
  } catch (const std::exception& e) {
    const std::string what = e.what();
    problem = "forcing TensorExpr fusion on the CPU fails for this model's graph in this build (" +
              what.substr(0, what.find('\n')) + "): it has no LLVM";
  }
  return problems.emplace(files.torchscript(), problem).first->second;
}

std::string fusion_problem(const at::Device& device, const ModelFiles& files, bool try_fusion) {
  return device.is_cpu() && try_fusion ? cpu_fusion_problem(files) : std::string();
}

std::string python_export_problem(const ModelFiles& files) {
  if (!files.dir.empty() && file_exists(files.python_export())) return "";
  if (!BENCH_TORCH_AT_LEAST(2, 0))
    return "the pipeline exports TorchScript from Python with the installed torch only; libtorch " +
           libtorch_version() + " has no Python here (its wheels are for Python <= 3.9)";
  return "no Python export " + (files.dir.empty() ? std::string("(no model folder given)") : files.python_export()) +
         " (the pipeline makes it for the installed torch only: workflow/scripts/export_python_models.py)";
}

std::string aotinductor_problem(const at::Device& device, const ModelFiles& files) {
#ifndef BENCH_HAVE_AOTI
  (void)device;
  (void)files;
  return "AOTInductor packages load from C++ only from torch 2.6 on (this is libtorch " + libtorch_version() + ")";
#else
  if (!device.is_cpu())
    return "the pipeline compiles AOTInductor packages for the CPU only (workflow/scripts/export_python_models.py)";
  if (files.dir.empty() || !file_exists(files.aoti_package()))
    return "no AOTInductor package " +
           (files.dir.empty() ? std::string("(no model folder given)") : files.aoti_package()) +
           " (made by workflow/scripts/export_python_models.py)";
  const std::string marker = marker_reason(files.aoti_package());
  return marker.empty() ? "" : "no AOTInductor package: " + marker;
#endif
}

// A TorchScript module loaded from `path` under `settings`, which are applied around every call.
LoadedVariant load_torchscript(const std::string& name, const JitSettings& settings, bool freeze,
                               const ModelConfig& config, const ModelFiles& files, const std::string& path,
                               const at::Device& device) {
  const JitState state = state_for(settings);
  JitSettingsScope scope(state);
  auto module = std::make_shared<jit::Module>(load_torchscript_file(config, files, path, device));
  module->eval();
  if (freeze) *module = freeze_like_python(*module);
  return {name, true, [module, state](const at::Tensor& x) {
            JitSettingsScope call_scope(state);
            return module->forward({x}).toTensor();
          }};
}

// One way of running a model. `available` says why it cannot run here ("" when it can);
// `settings` says what it sets, for the provenance.
struct VariantSpec {
  std::string name;
  std::function<std::string(int64_t bailout_depth)> settings;
  std::function<std::string(const at::Device&, const ModelFiles&, bool try_fusion)> available;
  std::function<LoadedVariant(const ModelConfig&, const ModelFiles&, const at::Device&, int64_t bailout_depth)> load;
};

// A TorchScript variant from MODEL.pt under `jit` settings (fuse: needs CPU fusion to work).
VariantSpec torchscript_variant(const std::string& name, const std::string& description, JitSettings jit,
                                bool freeze = false, bool with_depth = false) {
  return {
      name,
      [description, with_depth](int64_t depth) { return with_depth ? description + bailout_text(depth) : description; },
      [jit, with_depth](const at::Device& device, const ModelFiles& files, bool try_fusion) {
        std::string why = jit.fuse ? fusion_problem(device, files, try_fusion) : "";
        if (!why.empty()) return why + (with_depth ? " (the bailout depth only acts on fused graphs)" : "");
        return torchscript_file_problem(files);
      },
      [name, jit, freeze, with_depth](const ModelConfig& config, const ModelFiles& files, const at::Device& device,
                                      int64_t depth) {
        JitSettings s = jit;
        if (with_depth) s.bailout_depth = depth;
        return load_torchscript(name, s, freeze, config, files, files.torchscript(), device);
      }};
}

const std::vector<VariantSpec>& variant_table() {
  static const std::vector<VariantSpec> table = [] {
    JitSettings defaults, no_optimize, no_profiling, fuse;
    no_optimize.optimize = false;
    no_profiling.profiling_executor = false;
    fuse.fuse = true;
    const std::string fuse_text =
        "overrideCanFuseOnCPU(true), overrideCanFuseOnGPU(true), setTensorExprFuserEnabled(true)";
    std::vector<VariantSpec> specs;
    // The native module, and again under another name (the A/A control: it must read equivalent).
    for (const std::string name : {"native", "control_same"}) {
      specs.push_back({name,
                       [name](int64_t) {
                         return std::string(name == "native" ? "torch::nn::Module, NoGradGuard"
                                                             : "native again, loaded separately (the A/A control)");
                       },
                       [](const at::Device&, const ModelFiles&, bool) { return std::string(); },
                       [name](const ModelConfig& config, const ModelFiles&, const at::Device& device, int64_t) {
                         auto module = make_native(config, device);
                         return LoadedVariant{name, false, [module, config](const at::Tensor& x) {
                                                return native_forward(*module, config, x);
                                              }};
                       }});
    }
    specs.push_back(
        torchscript_variant("torchscript_default", "torch::jit::load, eval(), the version's defaults", defaults));
    specs.push_back(torchscript_variant("torchscript_no_optimize", "setGraphExecutorOptimize(false)", no_optimize));
    specs.push_back(torchscript_variant("torchscript_no_profiling",
                                        "getExecutorMode() = false, getProfilingMode() = false (the legacy executor)",
                                        no_profiling));
    specs.push_back(torchscript_variant("torchscript_fusion_on", fuse_text, fuse));
    specs.push_back(torchscript_variant("torchscript_low_bailout", fuse_text + ", ", fuse, false, true));
    specs.push_back(torchscript_variant("torchscript_frozen", freeze_text(), defaults, true));
    specs.push_back({"torchscript_python_export",
                     [](int64_t) {
                       return std::string(
                           "torch.jit.script of the Python nn.Module, weights copied, torch.jit.save; loaded with "
                           "torch::jit::load");
                     },
                     [](const at::Device&, const ModelFiles& files, bool) { return python_export_problem(files); },
                     [defaults](const ModelConfig& config, const ModelFiles& files, const at::Device& device, int64_t) {
                       return load_torchscript("torchscript_python_export", defaults, false, config, files,
                                               files.python_export(), device);
                     }});
    specs.push_back(
        {"aotinductor",
         [](int64_t) {
           return std::string("torch.export + aoti_compile_and_package; AOTIModelPackageLoader(path).run");
         },
         [](const at::Device& device, const ModelFiles& files, bool) { return aotinductor_problem(device, files); },
         [](const ModelConfig& config, const ModelFiles& files, const at::Device&, int64_t) {
#ifdef BENCH_HAVE_AOTI
           check_sizes(config, files);
           auto loader = std::make_shared<torch::inductor::AOTIModelPackageLoader>(files.aoti_package());
           return LoadedVariant{"aotinductor", false, [loader](const at::Tensor& x) { return loader->run({x}).at(0); }};
#else
           (void)config;
           (void)files;
           throw std::logic_error("aotinductor is not available in this build");
           return LoadedVariant{};
#endif
         }});
    return specs;
  }();
  return table;
}

const VariantSpec& spec_of(const std::string& variant) {
  for (const auto& spec : variant_table())
    if (spec.name == variant) return spec;
  throw std::invalid_argument("model_inference: unknown variant '" + variant + "'");
}

}  // namespace

const std::vector<std::string>& variant_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& spec : variant_table()) out.push_back(spec.name);
    return out;
  }();
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
  return spec_of(variant).available(device, files, try_fusion);
}

std::map<std::string, std::string> variant_settings(int64_t bailout_depth) {
  std::map<std::string, std::string> out;
  for (const auto& spec : variant_table()) out[spec.name] = spec.settings(bailout_depth);
  return out;
}

LoadedVariant load_variant(const std::string& variant, const ModelConfig& config, const ModelFiles& files,
                           const at::Device& device, int64_t bailout_depth) {
  // Fusion is not tried here: a trial run would warm the process up before a cold start.
  const std::string why = unavailable_reason(variant, device, files, /*try_fusion=*/false);
  if (!why.empty()) throw std::runtime_error("model_inference: " + variant + " is not available: " + why);
  return spec_of(variant).load(config, files, device, bailout_depth);
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

}  // namespace models
}  // namespace bench
