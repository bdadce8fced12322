#include "harness/device.h"

#include <ATen/Context.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <dlfcn.h>

namespace bench {
namespace {

using CudaSyncFn = int (*)();

// Loading libtorch_cuda registers its CUDA hooks with ATen (static initialisers), which
// is what linking it would have done. It must come before anything asks ATen about CUDA:
// ATen creates its hooks once, on first use, so a question asked earlier would leave CUDA
// off for the whole process. dlopen of a library already loaded (the Python module's
// case) only returns it. RTLD_GLOBAL makes the CUDA runtime's symbols,
// cudaDeviceSynchronize among them, visible to dlsym below.
CudaStatus load_cuda() {
  CudaStatus status;
  if (dlopen("libtorch_cuda.so", RTLD_NOW | RTLD_GLOBAL) == nullptr) {
    const char* err = dlerror();
    status.reason = std::string("CUDA libraries of this libtorch cannot be loaded: ") + (err ? err : "unknown error");
    return status;
  }
  status.loadable = true;
  if (!at::globalContext().hasCUDA()) {
    status.reason = "no CUDA device";
    return status;
  }
  status.device_count = at::detail::getCUDAHooks().getNumGPUs();
  status.available = status.device_count > 0;
  if (!status.available) status.reason = "no CUDA device";
  return status;
}

// A GPU that answers may still lack kernels for this libtorch (a CUDA 10.2 build on a
// Hopper GPU: "no kernel image is available"); one small op says so before any timing.
std::string kernel_problem(int device_count) {
  for (int index = 0; index < device_count; ++index) {
    try {
      const at::Device device(at::kCUDA, static_cast<c10::DeviceIndex>(index));
      at::Tensor x = at::arange(8, at::TensorOptions().dtype(at::kFloat).device(device));
      const float sum = (x * 2).sum().item<float>();  // item() waits for the kernels
      if (sum != 56.0f) return "a test kernel on cuda:" + std::to_string(index) + " returned a wrong result";
    } catch (const std::exception& e) {
      std::string what = e.what();
      what = what.substr(0, what.find('\n'));
      return "this libtorch's CUDA cannot run on cuda:" + std::to_string(index) + " (" + what + ")";
    }
  }
  return "";
}

CudaSyncFn cuda_sync_fn() {
  static CudaSyncFn fn = reinterpret_cast<CudaSyncFn>(dlsym(RTLD_DEFAULT, "cudaDeviceSynchronize"));
  return fn;
}

CudaStatus load_and_check_cuda() {
  CudaStatus status = load_cuda();
  if (status.available) {
    status.reason = kernel_problem(status.device_count);
    status.available = status.reason.empty();
  }
  return status;
}

}  // namespace

CudaStatus probe_cuda() {
  static CudaStatus status = load_and_check_cuda();
  return status;
}

at::Device resolve_device(const std::string& name) {
  at::Device device(name);  // throws on a malformed name
  if (device.is_cpu()) return device;
  if (!device.is_cuda()) throw DeviceUnavailable("device type '" + name + "' is not supported (use cpu or cuda)");
  CudaStatus cuda = probe_cuda();
  if (!cuda.available) throw DeviceUnavailable(cuda.reason);
  if (device.has_index() && device.index() >= cuda.device_count)
    throw DeviceUnavailable("no CUDA device with index " + std::to_string(device.index()));
  if (cuda_sync_fn() == nullptr) throw DeviceUnavailable("cudaDeviceSynchronize not found in the loaded CUDA runtime");
  return device;
}

void synchronize(const at::Device& device) {
  if (!device.is_cuda()) return;
  int err = cuda_sync_fn()();
  if (err != 0) throw std::runtime_error("cudaDeviceSynchronize failed with CUDA error " + std::to_string(err));
}

}  // namespace bench
