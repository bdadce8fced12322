// Claim 3: the same boolean mask applied K times to x[rows, cols] along its last dimension.
// Each sample times all K applications, so reusing indices pays its one conversion inside it.
#include <ATen/TensorIndexing.h>

#include <algorithm>
#include <memory>
#include <numeric>
#include <random>

#include "techniques/techniques.h"

namespace bench {
namespace {

using at::indexing::Ellipsis;

// A mask over `cols` with exactly round(density * cols) true entries at seeded positions.
at::Tensor make_mask(int64_t cols, double density) {
  std::vector<int64_t> order(cols);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937(99));
  const int64_t selected = std::min<int64_t>(cols, static_cast<int64_t>(density * cols + 0.5));
  at::Tensor mask = at::zeros({cols}, at::kBool);
  bool* m = mask.data_ptr<bool>();
  for (int64_t i = 0; i < selected; ++i) m[order[i]] = true;
  return mask;
}

at::Tensor make_input(int64_t rows, int64_t cols) {
  std::mt19937 rng(4321);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  at::Tensor x = at::empty({rows, cols}, at::kFloat);
  float* p = x.data_ptr<float>();
  for (int64_t i = 0; i < rows * cols; ++i) p[i] = dist(rng);
  return x;
}

// K applications of `apply`; the last result is returned (every one is a fresh tensor).
template <typename F>
at::Tensor repeat(int64_t times, F apply) {
  at::Tensor out;
  for (int64_t k = 0; k < times; ++k) out = apply();
  return out;
}

Case prepare_mask_case(const Params& params, const at::Device& device) {
  const int64_t rows = params.integer("rows");
  const int64_t cols = params.integer("cols");
  const double density = params.real("density");
  const int64_t times = params.integer("K");
  if (rows < 1 || cols < 1 || times < 1 || density < 0 || density > 1)
    throw std::invalid_argument("mask_indexing needs rows, cols, K >= 1 and 0 <= density <= 1");
  const at::Tensor x = make_input(rows, cols).to(device);
  const at::Tensor mask = make_mask(cols, density).to(device);
  // The floor copies exactly the selected values, already gathered into contiguous memory.
  const at::Tensor gathered = x.index({Ellipsis, mask}).contiguous();

  Case c;
  c.inputs = {{"x", x}, {"mask", mask}};
  c.variants.push_back({"mask_index", [=] {  // the blog's slow path
                          return repeat(times, [&] { return x.index({Ellipsis, mask}); });
                        }});
  c.variants.push_back({"masked_select", [=] { return repeat(times, [&] { return at::masked_select(x, mask); }); }});
  c.variants.push_back({"indices_index", [=] {  // the blog's fix: convert once, reuse
                          const at::Tensor idx = mask.nonzero().reshape(-1);
                          return repeat(times, [&] { return x.index({Ellipsis, idx}); });
                        }});
  c.variants.push_back({"indices_index_select", [=] {
                          const at::Tensor idx = mask.nonzero().reshape(-1);
                          return repeat(times, [&] { return x.index_select(-1, idx); });
                        }});
  c.variants.push_back({"floor_copy", [=] { return repeat(times, [&] { return gathered.clone(); }); }});
  return c;
}

}  // namespace

Technique mask_indexing() {
  return Technique{"mask_indexing",
                   "3",
                   {"rows", "cols", "density", "K"},
                   {"mask_index", "masked_select", "indices_index", "indices_index_select", "floor_copy"},
                   prepare_mask_case};
}

}  // namespace bench
