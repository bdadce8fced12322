// Devices: CUDA is loaded on demand, so a CPU-only run never needs CUDA libraries.
#pragma once

#include <ATen/ATen.h>

#include <stdexcept>
#include <string>

namespace bench {

// Thrown when a device cannot be used; what() is the reason recorded as "not run: ...".
struct DeviceUnavailable : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct CudaStatus {
  bool loadable = false;   // libtorch_cuda (and its CUDA runtime) could be loaded
  bool available = false;  // ... and every GPU ran a test kernel of this libtorch
  int device_count = 0;
  std::string reason;  // why not, when either is false
};

CudaStatus probe_cuda();

// "cpu", "cuda" or "cuda:N" -> a usable device, or DeviceUnavailable.
at::Device resolve_device(const std::string& name);

// Blocks until all queued work on the device is done (a no-op on the CPU).
void synchronize(const at::Device& device);

}  // namespace bench
