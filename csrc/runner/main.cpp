// bench_runner: the command-line shell over bench_core, built once per libtorch version.
//
//   bench_runner info [--malloc-mmap-threshold B] [--malloc-trim-threshold B]
//                                       what this build is, which devices it can use and
//                                       whether these allocator settings are honoured (JSON)
//   bench_runner list                   techniques and their variants
//   bench_runner run --technique T --device D --out FILE [--threads N] [--warmup W]
//                    [--rounds R] [--calls C] [--process P] [--first-round F]
//                    [--control-base VARIANT] [--batch-target X] [--malloc-mmap-threshold B]
//                    [--malloc-trim-threshold B] (--grid NAME=V1,V2 ... | --case "A=1;B=2" ...)
//                                       samples of every case; --case names cases one by one;
//                                       rounds are numbered from F, samples carry process P;
//                                       --control-base adds control_same, control_twice and
//                                       control_plus20 over that variant (harness.h);
//                                       --batch-target times sub-microsecond calls in batches
//                                       (harness.h); --malloc-* set the allocator (allocator.h)
//   bench_runner machine-probe          how fast memory copies and a compute chain run now (JSON)
//   bench_runner export-models --dir DIR --grid model=M [--grid SIZE=V ...]
//                                       claim 1: save DIR/M.pt (TorchScript scripted by this
//                                       libtorch, the native module's weights) and DIR/M.json
//   bench_runner model-variants --device D --model M [--model-dir DIR] [--bailout-depth N] [--threads N]
//                                       claim 1: each variant "ok" or "not available: why",
//                                       and what each sets (JSON)
//
// Exit codes: 0 done, 2 bad arguments, 3 device unavailable (reason on stderr, no output
// written), 4 a variant's output differs from the reference, 1 anything else.
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <sstream>
#include <string>

#include "harness/allocator.h"
#include "harness/csv.h"
#include "harness/device.h"
#include "techniques/model_variants.h"
#include "techniques/techniques.h"

namespace {

using bench::libtorch_version;

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    if (ch == '\n') {
      out += "\\n";
      continue;
    }
    out += ch;
  }
  return out + "\"";
}

// --malloc-* flags of `run` and `info`, removed from the flags map.
bench::MallocSettings malloc_settings(std::map<std::string, std::string>& flags) {
  bench::MallocSettings settings;
  const std::vector<std::pair<std::string, int64_t*>> fields = {{"--malloc-mmap-threshold", &settings.mmap_threshold},
                                                                {"--malloc-trim-threshold", &settings.trim_threshold}};
  for (const auto& field : fields) {  // C++14: 1.8's headers build no later standard
    const auto it = flags.find(field.first);
    if (it == flags.end()) continue;
    *field.second = std::stoll(it->second);
    flags.erase(it);
  }
  return settings;
}

std::map<std::string, std::string> flags_of(int argc, char** argv, std::vector<bench::Axis>& axes);

int info(int argc, char** argv) {
  std::vector<bench::Axis> unused;
  auto flags = flags_of(argc, argv, unused);
  const bench::MallocSettings settings = malloc_settings(flags);
  const std::string refused = bench::apply_malloc_settings(settings);
  const bench::CudaStatus cuda = bench::probe_cuda();
  std::cout << "{\"libtorch\": " << json_string(libtorch_version()) << ", \"cxx11_abi\": " << _GLIBCXX_USE_CXX11_ABI
            << ", \"cplusplus\": " << __cplusplus
            << ", \"compiler\": " << json_string(std::string("GCC ") + __VERSION__)
            << ", \"default_threads\": " << at::get_num_threads()
            << ", \"cuda_loadable\": " << (cuda.loadable ? "true" : "false")
            << ", \"cuda_available\": " << (cuda.available ? "true" : "false")
            << ", \"cuda_device_count\": " << cuda.device_count << ", \"cuda_reason\": " << json_string(cuda.reason)
            << ", \"malloc\": {\"mmap_threshold\": " << settings.mmap_threshold
            << ", \"trim_threshold\": " << settings.trim_threshold << ", \"refused\": " << json_string(refused) << "}"
            << "}" << std::endl;
  return 0;
}

int list() {
  for (const auto& t : bench::all_techniques()) {
    std::cout << t.name << " (claim " << t.claim << "):";
    for (const auto& v : t.variant_names) std::cout << ' ' << v;
    std::cout << '\n';
  }
  return 0;
}

int run(int argc, char** argv) {
  std::string technique, out_path;
  bench::Options options;
  bench::MallocSettings allocator;
  std::vector<bench::Axis> axes;
  std::vector<bench::Params> cases;
  const std::map<std::string, std::function<void(const std::string&)>> flags = {
      {"--technique", [&](const std::string& v) { technique = v; }},
      {"--device", [&](const std::string& v) { options.device = v; }},
      {"--out", [&](const std::string& v) { out_path = v; }},
      {"--threads", [&](const std::string& v) { options.threads = std::stoi(v); }},
      {"--warmup", [&](const std::string& v) { options.warmup_rounds = std::stoi(v); }},
      {"--rounds", [&](const std::string& v) { options.rounds = std::stoi(v); }},
      {"--calls", [&](const std::string& v) { options.calls_per_round = std::stoi(v); }},
      {"--process", [&](const std::string& v) { options.process = std::stoi(v); }},
      {"--first-round", [&](const std::string& v) { options.first_round = std::stoi(v); }},
      {"--control-base", [&](const std::string& v) { options.control_base = v; }},
      {"--batch-target", [&](const std::string& v) { options.batch_target = std::stod(v); }},
      {"--malloc-mmap-threshold", [&](const std::string& v) { allocator.mmap_threshold = std::stoll(v); }},
      {"--malloc-trim-threshold", [&](const std::string& v) { allocator.trim_threshold = std::stoll(v); }},
      {"--grid", [&](const std::string& v) { axes.push_back(bench::parse_axis(v)); }},
      {"--case", [&](const std::string& v) { cases.push_back(bench::parse_case(v)); }},
      {"--abort-after-samples", [&](const std::string& v) { options.abort_after_samples = std::stoll(v); }},
      {"--hang-after-samples", [&](const std::string& v) { options.hang_after_samples = std::stoll(v); }},
  };
  for (int i = 2; i < argc; ++i) {
    const std::string flag = argv[i];
    const auto setter = flags.find(flag);
    if (setter == flags.end()) throw std::invalid_argument("unknown flag " + flag);
    if (i + 1 >= argc) throw std::invalid_argument("flag " + flag + " needs a value");
    setter->second(argv[++i]);
  }
  if (technique.empty() || out_path.empty()) throw std::invalid_argument("run needs --technique and --out");
  if (!cases.empty() && !axes.empty()) throw std::invalid_argument("give --grid axes or --case cases, not both");
  // Before any tensor exists; a refusal is reported by `info` (the provenance), the run goes on.
  bench::apply_malloc_settings(allocator);
  const bench::Technique& t = bench::find_technique(technique);
  if (cases.empty()) cases = bench::cartesian_grid(axes);
  bench::resolve_device(options.device);  // fail before creating the output file

  std::ofstream out(out_path);
  if (!out) throw std::runtime_error("cannot write " + out_path);
  bench::RunContext ctx{libtorch_version(), options.device, "cpp", options.threads};
  bench::write_csv_header(out);
  out.flush();  // the file shows a run in progress; it is renamed into place only when complete
  bench::run_technique(t, cases, options, [&](const bench::Sample& s) { bench::write_csv_row(out, ctx, s); });
  out.close();
  if (!out) throw std::runtime_error("writing " + out_path + " failed");
  return 0;
}

// Two fixed workloads that do not touch libtorch, timed between the processes of a run: how
// fast this machine copies memory and computes right now (the median of 3 repetitions each).
int machine_probe() {
  using Clock = std::chrono::steady_clock;
  auto median_ns = [](const std::function<void()>& work) {
    std::vector<int64_t> times;
    for (int i = 0; i < 3; ++i) {
      const auto start = Clock::now();
      work();
      times.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count());
    }
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
  };
  std::vector<char> from(16 << 20, 1), to(16 << 20, 0);  // 16 MiB: past the caches
  const int64_t memory_ns = median_ns([&] {
    std::memcpy(to.data(), from.data(), from.size());
    from[to[12345] & 1] ^= 1;  // keep the copy observable
  });
  volatile double sink = 0;
  const int64_t compute_ns = median_ns([&] {
    double x = 1.0;
    for (int i = 0; i < 2000000; ++i) x = x * 1.0000001 + 1e-9;  // a dependent chain: latency-bound
    sink = x;
  });
  std::cout << "{\"memory_ns\": " << memory_ns << ", \"compute_ns\": " << compute_ns << "}" << std::endl;
  return 0;
}

// --flag value pairs after the subcommand; --grid may repeat.
std::map<std::string, std::string> flags_of(int argc, char** argv, std::vector<bench::Axis>& axes) {
  std::map<std::string, std::string> flags;
  for (int i = 2; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) throw std::invalid_argument("flag " + flag + " needs a value");
    const std::string value = argv[++i];
    if (flag == "--grid")
      axes.push_back(bench::parse_axis(value));
    else
      flags[flag] = value;
  }
  return flags;
}

std::string required(const std::map<std::string, std::string>& flags, const std::string& flag) {
  auto it = flags.find(flag);
  if (it == flags.end()) throw std::invalid_argument("missing " + flag);
  return it->second;
}

int export_models(int argc, char** argv) {
  std::vector<bench::Axis> axes;
  const auto flags = flags_of(argc, argv, axes);
  const std::string dir = required(flags, "--dir");
  for (const auto& params : bench::cartesian_grid(axes)) {
    const bench::models::ModelConfig config = bench::models::model_config(params);
    bench::models::export_torchscript(config, dir);
    std::cout << dir << "/" << config.name << ".pt: " << bench::models::size_string(config) << std::endl;
  }
  return 0;
}

int model_variants(int argc, char** argv) {
  std::vector<bench::Axis> axes;
  auto flags = flags_of(argc, argv, axes);
  const at::Device device = bench::resolve_device(required(flags, "--device"));
  // The fusion probe runs at the runs' thread count: 1.9 fuses on the CPU only with one thread.
  if (flags.count("--threads")) at::set_num_threads(std::stoi(flags["--threads"]));
  const bench::models::ModelFiles files{flags.count("--model-dir") ? flags["--model-dir"] : "",
                                        required(flags, "--model")};
  const int64_t depth = flags.count("--bailout-depth") ? std::stoll(flags["--bailout-depth"]) : 1;
  const auto settings = bench::models::variant_settings(depth);
  std::cout << "{\"variants\": {";
  const char* sep = "";
  for (const auto& name : bench::models::variant_names()) {
    const std::string why = bench::models::unavailable_reason(name, device, files);
    std::cout << sep << json_string(name) << ": " << json_string(why.empty() ? "ok" : "not available: " + why);
    sep = ", ";
  }
  std::cout << "}, \"settings\": {";
  sep = "";
  for (const auto& kv : settings) {
    std::cout << sep << json_string(kv.first) << ": " << json_string(kv.second);
    sep = ", ";
  }
  std::cout << "}}" << std::endl;
  return 0;
}

int dispatch(int argc, char** argv) {
  const std::string command = argc > 1 ? argv[1] : "";
  try {
    if (command == "info") return info(argc, argv);
    if (command == "list") return list();
    if (command == "run") return run(argc, argv);
    if (command == "machine-probe") return machine_probe();
    if (command == "export-models") return export_models(argc, argv);
    if (command == "model-variants") return model_variants(argc, argv);
    std::cerr << "usage: bench_runner info | list | machine-probe\n"
                 "       | run --technique T --device D --out FILE (--grid NAME=V1,V2 ... | --case A=1;B=2 ...)\n"
                 "       | export-models --dir DIR --grid model=M ... | model-variants --device D --model M\n";
    return 2;
  } catch (const bench::DeviceUnavailable& e) {
    std::cerr << "not run: " << e.what() << std::endl;
    return 3;
  } catch (const bench::MismatchError& e) {
    std::cerr << "mismatch: " << e.what() << std::endl;
    return 4;
  } catch (const std::invalid_argument& e) {
    std::cerr << "bad arguments: " << e.what() << std::endl;
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << std::endl;
    return 1;
  }
}

}  // namespace

// Leaves without running static destructors: libtorch 2.11's abort in a program it did not
// build (free() in std::locale while its operators deregister, seen on an H200 machine),
// after every result is written. Each command closes its files before it returns.
int main(int argc, char** argv) {
  const int code = dispatch(argc, argv);
  std::cout.flush();
  std::cerr.flush();
  std::_Exit(code);
}
