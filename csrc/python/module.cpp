// libtorch_bench_ext: the same techniques and harness as bench_runner, callable from Python
// (tests check every variant here; the Python front times them on the installed torch).
#include <torch/extension.h>

#include <string>

#include "harness/csv.h"
#include "harness/device.h"
#include "harness/harness.h"
#include "techniques/model_variants.h"
#include "techniques/techniques.h"

namespace py = pybind11;

namespace {

std::string as_text(const py::handle& value) { return py::str(value).cast<std::string>(); }

bench::Params to_params(const py::dict& values) {
  bench::Params params;
  for (const auto& kv : values) params.set(as_text(kv.first), as_text(kv.second));
  return params;
}

std::vector<bench::Axis> to_axes(const py::dict& grid) {
  std::vector<bench::Axis> axes;
  for (const auto& kv : grid) {
    bench::Axis axis{as_text(kv.first), {}};
    for (const auto& value : kv.second.cast<py::list>()) axis.second.push_back(as_text(value));
    axes.push_back(axis);
  }
  return axes;
}

// Each variant's output for one parameter set (reference first), and the case's inputs.
py::tuple variant_outputs(const std::string& technique, const py::dict& values, const std::string& device) {
  const bench::Technique& t = bench::find_technique(technique);
  at::NoGradGuard no_grad;
  bench::Case c = t.prepare(to_params(values), bench::resolve_device(device));
  py::dict outputs, inputs;
  for (auto& v : c.variants) outputs[py::str(v.name)] = v.run();
  for (auto& kv : c.inputs) inputs[py::str(kv.first)] = kv.second;
  return py::make_tuple(outputs, inputs);
}

void check(const std::string& technique, const py::dict& values, const std::string& device) {
  const bench::Technique& t = bench::find_technique(technique);
  const bench::Params params = to_params(values);
  at::NoGradGuard no_grad;
  bench::Case c = t.prepare(params, bench::resolve_device(device));
  bench::check_case(t, params, c);
}

py::dict run(const std::string& technique, const py::dict& grid, const std::string& device, int threads,
             int warmup_rounds, int rounds, int calls_per_round, const std::string& control_base, int process,
             int first_round, double batch_target) {
  const bench::Technique& t = bench::find_technique(technique);
  bench::Options options;
  options.device = device;
  options.threads = threads;
  options.warmup_rounds = warmup_rounds;
  options.rounds = rounds;
  options.calls_per_round = calls_per_round;
  options.control_base = control_base;
  options.process = process;
  options.first_round = first_round;
  options.batch_target = batch_target;
  const std::vector<bench::Params> cases = bench::cartesian_grid(to_axes(grid));
  std::vector<bench::Sample> samples;
  int threads_used = 0;
  {
    py::gil_scoped_release release;  // the timed work never touches Python objects
    threads_used = bench::run_technique(t, cases, options, [&](const bench::Sample& s) { samples.push_back(s); });
  }
  py::list variant, params, round, call, shape, event, ns, process_of, batch;
  for (const auto& s : samples) {
    process_of.append(s.process);
    batch.append(s.batch);
    variant.append(s.variant);
    params.append(s.params);
    round.append(s.round);
    call.append(s.call);
    shape.append(s.shape);
    event.append(s.event);
    ns.append(s.ns);
  }
  py::dict columns;
  columns["variant"] = variant;
  columns["params"] = params;
  columns["round"] = round;
  columns["call"] = call;
  columns["shape"] = shape;
  columns["event"] = event;
  columns["ns"] = ns;
  columns["process"] = process_of;
  columns["batch"] = batch;
  columns["threads"] = threads_used;
  return columns;
}

// Test hook: the harness over Python callables, so tests can see what it calls and records
// (warm-up calls made but not kept, rotation, mismatch detection) with variants they control.
py::dict time_python_variants(const py::list& variants, int warmup_rounds, int rounds, int calls_per_round,
                              double batch_target) {
  bench::Technique t;
  t.name = "python_variants";
  t.prepare = [&variants](const bench::Params&, const at::Device&) {
    bench::Case c;
    for (const auto& item : variants) {
      auto pair = item.cast<py::tuple>();
      py::object fn = pair[1];
      c.variants.push_back({pair[0].cast<std::string>(), [fn] { return fn().cast<at::Tensor>(); }});
    }
    return c;
  };
  bench::Options options;
  options.warmup_rounds = warmup_rounds;
  options.rounds = rounds;
  options.calls_per_round = calls_per_round;
  options.batch_target = batch_target;
  py::list variant, round, call, batch;
  for (const auto& s : bench::time_case(t, bench::Params(), at::Device("cpu"), options)) {
    variant.append(s.variant);
    round.append(s.round);
    call.append(s.call);
    batch.append(s.batch);
  }
  py::dict columns;
  columns["variant"] = variant;
  columns["round"] = round;
  columns["call"] = call;
  columns["batch"] = batch;
  return columns;
}

// Claim 1: each variant "ok" or "not available: why" for one model, and what each sets.
py::dict model_variants(const std::string& model, const std::string& device, const std::string& model_dir,
                        int64_t bailout_depth) {
  const at::Device dev = bench::resolve_device(device);
  const bench::models::ModelFiles files{model_dir, model};
  py::dict status, settings;
  for (const auto& name : bench::models::variant_names()) {
    const std::string why = bench::models::unavailable_reason(name, dev, files);
    status[py::str(name)] = why.empty() ? std::string("ok") : "not available: " + why;
  }
  for (const auto& kv : bench::models::variant_settings(bailout_depth)) settings[py::str(kv.first)] = kv.second;
  py::dict out;
  out["variants"] = status;
  out["settings"] = settings;
  return out;
}

// Claim 1: DIR/MODEL.pt (scripted in C++, the native module's weights) and DIR/MODEL.json.
void export_torchscript(const std::string& dir, const py::dict& values) {
  bench::models::export_torchscript(bench::models::model_config(to_params(values)), dir);
}

py::dict techniques() {
  py::dict out;
  for (const auto& t : bench::all_techniques()) {
    py::dict info;
    info["claim"] = t.claim;
    info["params"] = t.param_names;
    info["variants"] = t.variant_names;
    out[py::str(t.name)] = info;
  }
  return out;
}

}  // namespace

PYBIND11_MODULE(libtorch_bench_ext, m) {
  m.doc() = "The C++ benchmark techniques of bench_runner, for the installed torch";
  py::register_exception<bench::MismatchError>(m, "MismatchError", PyExc_AssertionError);
  py::register_exception<bench::DeviceUnavailable>(m, "DeviceUnavailable", PyExc_RuntimeError);
  m.def("libtorch_version", &bench::libtorch_version, "the libtorch version this module was compiled against");
  m.def(
      "sample_columns", [] { return std::string(bench::kCsvHeader); }, "the raw CSV's header, as the runner writes it");
  m.def("round_order", &bench::round_order, py::arg("round_index"), py::arg("n"),
        "the variants' order in the round with this index (0 = first, warm-up included)");
  m.def("harness_empty_variant", [] { return std::string(bench::kEmptyVariant); });
  m.def("techniques", &techniques, "technique -> claim, parameter names, variant names");
  m.def("model_variants", &model_variants, py::arg("model"), py::arg("device") = "cpu", py::arg("model_dir") = "",
        py::arg("bailout_depth") = 1, "claim 1: {'variants': name -> 'ok' | 'not available: why', 'settings': ...}");
  m.def("export_torchscript", &export_torchscript, py::arg("dir"), py::arg("params"),
        "claim 1: save DIR/MODEL.pt (TorchScript scripted in C++ with the native weights) and DIR/MODEL.json");
  m.def("variant_outputs", &variant_outputs, py::arg("technique"), py::arg("params"), py::arg("device") = "cpu",
        "(outputs, inputs): each variant's output for one parameter set (reference first), and the inputs");
  m.def("check", &check, py::arg("technique"), py::arg("params"), py::arg("device") = "cpu",
        "raises MismatchError if a variant's output differs from the reference");
  m.def("_time_python_variants", &time_python_variants, py::arg("variants"), py::arg("warmup_rounds"),
        py::arg("rounds"), py::arg("calls_per_round"), py::arg("batch_target") = 0.0,
        "test hook: the harness over [(name, callable)]");
  m.def("run", &run, py::arg("technique"), py::arg("grid"), py::arg("device") = "cpu", py::arg("threads") = 1,
        py::arg("warmup_rounds") = 2, py::arg("rounds") = 10, py::arg("calls_per_round") = 1,
        py::arg("control_base") = "", py::arg("process") = 0, py::arg("first_round") = 0, py::arg("batch_target") = 0.0,
        "time the technique over the grid's Cartesian product (with the controls over control_base, "
        "sub-microsecond calls in batches when batch_target > 1); returns the samples as columns");
  m.def("busy_wait_ns", &bench::busy_wait_ns, py::arg("ns"),
        "spin for `ns` nanoseconds; returns how long it spun (the Python front's stretched controls)");
  m.def("batch_size", &bench::batch_size, py::arg("fastest_call_ns"), py::arg("harness_ns"), py::arg("target"),
        "the calls per sample the harness takes for a case (1: no batching)");
  m.def(
      "control_variants",
      [] {
        return std::vector<std::string>{bench::kControlSame, bench::kControlTwice, bench::kControlPlus20};
      },
      "the controls a run adds over its control base");
}
