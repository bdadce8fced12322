#include "techniques/models.h"

#include <cmath>
#include <random>
#include <sstream>
#include <stdexcept>

namespace bench {
namespace models {

const int64_t kClasses = 10;

namespace {

namespace nn = torch::nn;

// ---- native modules (the pytorch/examples cpp/ style) ------------------------------------

struct MlpImpl : nn::Module {
  MlpImpl(int64_t features, int64_t hidden, int64_t depth) {
    int64_t in = features;
    for (int64_t i = 0; i < depth; ++i) {
      layers.push_back(register_module("fc" + std::to_string(i), nn::Linear(in, hidden)));
      in = hidden;
    }
    layers.push_back(register_module("fc" + std::to_string(depth), nn::Linear(in, kClasses)));
  }
  at::Tensor forward(at::Tensor x) {
    for (size_t i = 0; i + 1 < layers.size(); ++i) x = torch::relu(layers[i]->forward(x));
    return layers.back()->forward(x);
  }
  std::vector<nn::Linear> layers;
};
TORCH_MODULE(Mlp);

struct CnnImpl : nn::Module {
  explicit CnnImpl(int64_t c) {
    const int64_t in[] = {3, c, 2 * c, 2 * c}, out[] = {c, 2 * c, 2 * c, 2 * c};
    for (int i = 0; i < 4; ++i) {
      convs.push_back(register_module("conv" + std::to_string(i),
                                      nn::Conv2d(nn::Conv2dOptions(in[i], out[i], 3).padding(1).bias(false))));
      norms.push_back(register_module("bn" + std::to_string(i), nn::BatchNorm2d(out[i])));
    }
    fc = register_module("fc", nn::Linear(2 * c, kClasses));
  }
  at::Tensor conv_bn(int i, const at::Tensor& x) { return norms[i]->forward(convs[i]->forward(x)); }
  at::Tensor forward(at::Tensor x) {
    x = torch::max_pool2d(torch::relu(conv_bn(0, x)), {2, 2}, {2, 2});
    x = torch::max_pool2d(torch::relu(conv_bn(1, x)), {2, 2}, {2, 2});
    at::Tensor y = conv_bn(3, torch::relu(conv_bn(2, x)));
    x = torch::relu(x + y);  // residual block
    return fc->forward(torch::flatten(torch::adaptive_avg_pool2d(x, {1, 1}), 1));
  }
  std::vector<nn::Conv2d> convs;
  std::vector<nn::BatchNorm2d> norms;
  nn::Linear fc{nullptr};
};
TORCH_MODULE(Cnn);

struct EncoderBlockImpl : nn::Module {
  EncoderBlockImpl(int64_t dim, int64_t heads)
      : heads(heads),
        q(register_module("q", nn::Linear(dim, dim))),
        k(register_module("k", nn::Linear(dim, dim))),
        v(register_module("v", nn::Linear(dim, dim))),
        o(register_module("o", nn::Linear(dim, dim))),
        ff1(register_module("ff1", nn::Linear(dim, 4 * dim))),
        ff2(register_module("ff2", nn::Linear(4 * dim, dim))),
        norm1(register_module("norm1", nn::LayerNorm(nn::LayerNormOptions({dim}).eps(1e-5)))),
        norm2(register_module("norm2", nn::LayerNorm(nn::LayerNormOptions({dim}).eps(1e-5)))) {}
  at::Tensor forward(const at::Tensor& x) {
    const int64_t b = x.size(0), t = x.size(1), d = x.size(2), hd = d / heads;
    auto split = [&](const at::Tensor& y) { return y.view({b, t, heads, hd}).transpose(1, 2); };
    at::Tensor scores = torch::matmul(split(q->forward(x)), split(k->forward(x)).transpose(-2, -1)) *
                        (1.0 / std::sqrt(static_cast<double>(hd)));
    at::Tensor attended = torch::matmul(torch::softmax(scores, -1), split(v->forward(x)));
    at::Tensor h = norm1->forward(x + o->forward(attended.transpose(1, 2).reshape({b, t, d})));
    at::Tensor f = ff1->forward(h);
    // GELU in its tanh form, written out as 2019-2021 transformer code did
    at::Tensor inner = (f + f * f * f * 0.044715) * 0.7978845608028654;
    return norm2->forward(h + ff2->forward(f * 0.5 * (torch::tanh(inner) + 1.0)));
  }
  int64_t heads;
  nn::Linear q, k, v, o, ff1, ff2;
  nn::LayerNorm norm1, norm2;
};
TORCH_MODULE(EncoderBlock);

struct AttentionImpl : nn::Module {
  AttentionImpl(int64_t dim, int64_t heads, int64_t layers) {
    for (int64_t i = 0; i < layers; ++i)
      blocks.push_back(register_module("block" + std::to_string(i), EncoderBlock(dim, heads)));
    head = register_module("head", nn::Linear(dim, kClasses));
  }
  at::Tensor forward(at::Tensor x) {
    for (auto& block : blocks) x = block->forward(x);
    return head->forward(x.mean(1));
  }
  std::vector<EncoderBlock> blocks;
  nn::Linear head{nullptr};
};
TORCH_MODULE(Attention);

// ---- the same forward passes as TorchScript source ---------------------------------------

std::string mlp_source(const ModelConfig& c) {
  std::ostringstream s;
  s << "def forward(self, x):\n";
  for (int64_t i = 0; i < c.depth; ++i)
    s << "    x = torch.relu(torch.linear(x, self.fc" << i << ".weight, self.fc" << i << ".bias))\n";
  s << "    return torch.linear(x, self.fc" << c.depth << ".weight, self.fc" << c.depth << ".bias)\n";
  return s.str();
}

std::string cnn_source(const ModelConfig&) {
  auto conv_bn = [](int i, const std::string& x) {
    const std::string bn = "self.bn" + std::to_string(i);
    return "torch.batch_norm(torch.conv2d(" + x + ", self.conv" + std::to_string(i) +
           ".weight, None, [1, 1], [1, 1], [1, 1], 1), " + bn + ".weight, " + bn + ".bias, " + bn + ".running_mean, " +
           bn + ".running_var, self.training, 0.1, 1e-05, True)";
  };
  const std::string pool = "[2, 2], [2, 2], [0, 0], [1, 1], False)";
  std::ostringstream s;
  s << "def forward(self, x):\n"
    << "    x = torch.max_pool2d(torch.relu(" << conv_bn(0, "x") << "), " << pool << "\n"
    << "    x = torch.max_pool2d(torch.relu(" << conv_bn(1, "x") << "), " << pool << "\n"
    << "    y = " << conv_bn(3, "torch.relu(" + conv_bn(2, "x") + ")") << "\n"
    << "    x = torch.relu(x + y)\n"
    << "    x = torch.flatten(torch.adaptive_avg_pool2d(x, [1, 1]), 1)\n"
    << "    return torch.linear(x, self.fc.weight, self.fc.bias)\n";
  return s.str();
}

std::string attention_source(const ModelConfig& c) {
  const int64_t hd = c.dim / c.heads;
  std::ostringstream s;
  s.precision(17);
  s << "def forward(self, x):\n"
    << "    b = x.size(0)\n"
    << "    t = x.size(1)\n";
  for (int64_t i = 0; i < c.layers; ++i) {
    const std::string m = "self.block" + std::to_string(i);
    auto lin = [&](const std::string& name, const std::string& in) {
      return "torch.linear(" + in + ", " + m + "." + name + ".weight, " + m + "." + name + ".bias)";
    };
    auto split = [&](const std::string& name) {
      return lin(name, "x") + ".view(b, t, " + std::to_string(c.heads) + ", " + std::to_string(hd) +
             ").transpose(1, 2)";
    };
    s << "    q = " << split("q") << "\n"
      << "    k = " << split("k") << "\n"
      << "    v = " << split("v") << "\n"
      << "    scores = torch.matmul(q, k.transpose(-2, -1)) * " << 1.0 / std::sqrt(static_cast<double>(hd)) << "\n"
      << "    a = torch.matmul(torch.softmax(scores, -1), v).transpose(1, 2).reshape(b, t, " << c.dim << ")\n"
      << "    x = torch.layer_norm(x + " << lin("o", "a") << ", [" << c.dim << "], " << m << ".norm1.weight, " << m
      << ".norm1.bias, 1e-05, True)\n"
      << "    f = " << lin("ff1", "x") << "\n"
      << "    inner = (f + f * f * f * 0.044715) * 0.7978845608028654\n"
      << "    h = f * 0.5 * (torch.tanh(inner) + 1.0)\n"
      << "    x = torch.layer_norm(x + " << lin("ff2", "h") << ", [" << c.dim << "], " << m << ".norm2.weight, " << m
      << ".norm2.bias, 1e-05, True)\n";
  }
  s << "    return torch.linear(x.mean(1), self.head.weight, self.head.bias)\n";
  return s.str();
}

// ---- weights -------------------------------------------------------------------------------

// Every parameter and buffer, in registration order, from one seeded generator: weights
// uniform in +-1/sqrt(fan_in), biases +-0.1, norm scales 1+-0.1, running statistics that
// make batch norm do something.
void fill_weights(nn::Module& module) {
  std::mt19937 rng(20211023);
  auto fill = [&](at::Tensor t, float lo, float hi) {
    std::uniform_real_distribution<float> dist(lo, hi);
    at::Tensor cpu = at::empty(t.sizes(), at::kFloat);
    float* p = cpu.data_ptr<float>();
    for (int64_t i = 0; i < cpu.numel(); ++i) p[i] = dist(rng);
    t.copy_(cpu);
  };
  torch::NoGradGuard no_grad;
  for (auto& item : module.named_parameters()) {
    const std::string& name = item.key();
    at::Tensor t = item.value();
    const bool norm = name.find("bn") != std::string::npos || name.find("norm") != std::string::npos;
    if (t.dim() >= 2) {
      const double fan_in = static_cast<double>(t.numel() / t.size(0));
      const float bound = static_cast<float>(1.0 / std::sqrt(fan_in));
      fill(t, -bound, bound);
    } else if (norm && name.size() >= 6 && name.compare(name.size() - 6, 6, "weight") == 0) {
      fill(t, 0.9f, 1.1f);
    } else {
      fill(t, -0.1f, 0.1f);
    }
  }
  for (auto& item : module.named_buffers()) {
    const std::string& name = item.key();
    at::Tensor t = item.value();
    if (t.scalar_type() != at::kFloat) continue;  // num_batches_tracked
    if (name.find("running_var") != std::string::npos) {
      fill(t, 0.5f, 1.5f);
    } else {
      fill(t, -0.1f, 0.1f);
    }
  }
}

// A TorchScript module with the native module's attributes, parameters and buffers (copied),
// recursively; class names are unique so the saved file can hold them all.
torch::jit::Module skeleton(const nn::Module& native, const std::string& qualified) {
  torch::jit::Module m(qualified);
  m.register_attribute("training", c10::BoolType::get(), false);
  for (const auto& p : native.named_parameters(/*recurse=*/false)) {
    at::Tensor copy = p.value().detach().clone();
    copy.set_requires_grad(true);  // as torch.jit.save stores nn.Parameter
    m.register_parameter(p.key(), copy, false);
  }
  for (const auto& b : native.named_buffers(/*recurse=*/false)) m.register_buffer(b.key(), b.value().detach().clone());
  for (const auto& child : native.named_children())
    m.register_module(child.key(), skeleton(*child.value(), qualified + "_" + child.key()));
  return m;
}

int64_t require_positive(const Params& params, const std::string& key) {
  const int64_t value = params.integer(key);
  if (value < 1)
    throw std::invalid_argument("model_inference: " + key + " must be >= 1 (got " + std::to_string(value) + ")");
  return value;
}

}  // namespace

const std::vector<std::string>& model_names() {
  static const std::vector<std::string> names = {"mlp", "cnn", "attention"};
  return names;
}

std::vector<std::string> size_keys(const std::string& model) {
  if (model == "mlp") return {"batch", "features", "hidden", "depth"};
  if (model == "cnn") return {"batch", "channels", "image"};
  if (model == "attention") return {"batch", "seq", "dim", "heads", "layers"};
  throw std::invalid_argument("model_inference: unknown model '" + model + "' (known: mlp, cnn, attention)");
}

ModelConfig model_config(const Params& params) {
  ModelConfig c;
  c.name = params.str("model");
  for (const auto& key : size_keys(c.name)) {
    if (!params.has(key))
      throw std::invalid_argument("model_inference: model " + c.name + " needs parameter '" + key + "'");
  }
  c.batch = require_positive(params, "batch");
  if (c.name == "mlp") {
    c.features = require_positive(params, "features");
    c.hidden = require_positive(params, "hidden");
    c.depth = require_positive(params, "depth");
  } else if (c.name == "cnn") {
    c.channels = require_positive(params, "channels");
    c.image = require_positive(params, "image");
    if (c.image < 4) throw std::invalid_argument("model_inference: cnn needs image >= 4 (two 2x2 max-pools)");
  } else {
    c.seq = require_positive(params, "seq");
    c.dim = require_positive(params, "dim");
    c.heads = require_positive(params, "heads");
    c.layers = require_positive(params, "layers");
    if (c.dim % c.heads != 0) throw std::invalid_argument("model_inference: attention needs dim divisible by heads");
  }
  return c;
}

std::string size_string(const ModelConfig& c) {
  std::ostringstream s;
  s << "batch=" << c.batch;
  if (c.name == "mlp") s << ";features=" << c.features << ";hidden=" << c.hidden << ";depth=" << c.depth;
  if (c.name == "cnn") s << ";channels=" << c.channels << ";image=" << c.image;
  if (c.name == "attention")
    s << ";seq=" << c.seq << ";dim=" << c.dim << ";heads=" << c.heads << ";layers=" << c.layers;
  return s.str();
}

std::shared_ptr<nn::Module> make_native(const ModelConfig& c, const at::Device& device) {
  std::shared_ptr<nn::Module> module;
  if (c.name == "mlp")
    module = Mlp(c.features, c.hidden, c.depth).ptr();
  else if (c.name == "cnn")
    module = Cnn(c.channels).ptr();
  else if (c.name == "attention")
    module = Attention(c.dim, c.heads, c.layers).ptr();
  else
    size_keys(c.name);  // throws
  fill_weights(*module);
  module->eval();
  module->to(device);
  return module;
}

at::Tensor native_forward(nn::Module& module, const ModelConfig& c, const at::Tensor& x) {
  if (c.name == "mlp") return static_cast<MlpImpl&>(module).forward(x);
  if (c.name == "cnn") return static_cast<CnnImpl&>(module).forward(x);
  return static_cast<AttentionImpl&>(module).forward(x);
}

torch::jit::Module make_scripted(const ModelConfig& c) {
  auto native = make_native(c, at::Device(at::kCPU));
  torch::jit::Module m = skeleton(*native, "__torch__.bench." + c.name);
  if (c.name == "mlp")
    m.define(mlp_source(c));
  else if (c.name == "cnn")
    m.define(cnn_source(c));
  else
    m.define(attention_source(c));
  m.eval();
  return m;
}

std::vector<int64_t> input_shape(const ModelConfig& c, int64_t batch) {
  if (c.name == "mlp") return {batch, c.features};
  if (c.name == "cnn") return {batch, 3, c.image, c.image};
  return {batch, c.seq, c.dim};
}

at::Tensor make_input(const ModelConfig& c, int64_t batch, const at::Device& device) {
  std::mt19937 rng(static_cast<uint32_t>(1000 + batch));
  std::normal_distribution<float> dist(0.f, 1.f);
  at::Tensor x = at::empty(input_shape(c, batch), at::kFloat);
  float* p = x.data_ptr<float>();
  for (int64_t i = 0; i < x.numel(); ++i) p[i] = dist(rng);
  return device.is_cpu() ? x : x.to(device);
}

std::string shape_string(at::IntArrayRef sizes) {
  std::string out;
  for (size_t i = 0; i < sizes.size(); ++i) out += (i ? "x" : "") + std::to_string(sizes[i]);
  return out;
}

}  // namespace models
}  // namespace bench
