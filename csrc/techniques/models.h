// Claim 1's models, each written twice: a native torch::nn::Module and a TorchScript module
// built from TorchScript source over the same weights (copied from the native one).
//
//   mlp        Linear -> ReLU, `depth` times (width `hidden`), then Linear to 10 classes
//   cnn        a small ResNet: two [Conv3x3 (no bias) -> BatchNorm -> ReLU -> max-pool] to c
//              then 2c channels, one residual block (conv-BN-ReLU, conv-BN, add, ReLU) at a
//              quarter of the resolution, global average pool, Linear to 10 classes
//   attention  `layers` transformer encoder blocks (multi-head self-attention with `heads`
//              heads, post-LayerNorm, feed-forward 4*dim with GELU in its tanh form), mean
//              over the sequence, Linear
//
// The mlp has no chain of element-wise ops a TorchScript fuser could fuse; the cnn (add+ReLU)
// and the attention block (GELU) have, as real models do.
//
// Weights come from a seeded std::mt19937, so every libtorch version (and the Python export,
// which copies them from the saved TorchScript file) computes with the same numbers.
#pragma once

#include <torch/script.h>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "harness/params.h"

namespace bench {
namespace models {

struct ModelConfig {
  std::string name;  // mlp | cnn | attention
  int64_t batch = 0;
  // mlp
  int64_t features = 0, hidden = 0, depth = 0;
  // cnn
  int64_t channels = 0, image = 0;
  // attention
  int64_t seq = 0, dim = 0, heads = 0, layers = 0;
};

extern const int64_t kClasses;

const std::vector<std::string>& model_names();
// The size parameters a model needs (besides `model`), in CSV order.
std::vector<std::string> size_keys(const std::string& model);
// Reads `model` and its size keys; std::invalid_argument when one is missing or out of range.
ModelConfig model_config(const Params& params);
// "model=cnn;batch=8;channels=32;image=64" minus the model: the sizes as a canonical string.
std::string size_string(const ModelConfig& config);

// The native model with the seeded weights, in eval mode, on `device`.
std::shared_ptr<torch::nn::Module> make_native(const ModelConfig& config, const at::Device& device);
at::Tensor native_forward(torch::nn::Module& module, const ModelConfig& config, const at::Tensor& x);

// The same model as a TorchScript module (attributes and parameters named as in the native
// module, weights copied, requiring grad as in a file saved from Python), in eval mode.
torch::jit::Module make_scripted(const ModelConfig& config);

// Input of the given batch size: [B, features], [B, 3, image, image] or [B, seq, dim].
at::Tensor make_input(const ModelConfig& config, int64_t batch, const at::Device& device);
std::vector<int64_t> input_shape(const ModelConfig& config, int64_t batch);

// "8x3x64x64"
std::string shape_string(at::IntArrayRef sizes);

}  // namespace models
}  // namespace bench
