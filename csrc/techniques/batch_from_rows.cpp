// Claim 2: turning a std::vector<std::vector<float>> (B rows of N floats) into an owning
// [B, N] float tensor on the target device.
#include <cstring>
#include <memory>
#include <random>

#include "techniques/techniques.h"

namespace bench {
namespace {

using Rows = std::vector<std::vector<float>>;

std::shared_ptr<Rows> make_rows(int64_t batch, int64_t width) {
  std::mt19937 rng(1234);  // the same inputs for every libtorch version
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  auto rows = std::make_shared<Rows>(batch, std::vector<float>(width));
  for (auto& row : *rows)
    for (auto& x : row) x = dist(rng);
  return rows;
}

at::TensorOptions f32() { return at::TensorOptions().dtype(at::kFloat); }

// One non-owning tensor per row, as the blog's slow path builds them.
std::vector<at::Tensor> wrap_rows(Rows& rows, bool as_2d) {
  std::vector<at::Tensor> wrapped;
  wrapped.reserve(rows.size());
  const int64_t width = static_cast<int64_t>(rows.front().size());
  for (auto& row : rows) {
    if (as_2d) {
      wrapped.push_back(at::from_blob(row.data(), {1, width}, f32()));
    } else {
      wrapped.push_back(at::from_blob(row.data(), {width}, f32()));
    }
  }
  return wrapped;
}

// The joined result owns its memory on the CPU; on a GPU it still has to be copied there.
at::Tensor to_device(const at::Tensor& t, const at::Device& device) { return device.is_cpu() ? t : t.to(device); }

Case prepare_batch_case(const Params& params, const at::Device& device) {
  const int64_t batch = params.integer("B");
  const int64_t width = params.integer("N");
  if (batch < 1 || width < 1) throw std::invalid_argument("batch_from_rows needs B >= 1 and N >= 1");
  auto rows = make_rows(batch, width);
  // Separate buffers, so a variant that wrote nothing could not pass on another's bytes.
  auto row_target = std::make_shared<at::Tensor>(at::empty({batch, width}, f32().device(device)));
  auto floor_target = std::make_shared<at::Tensor>(at::empty({batch, width}, f32().device(device)));
  auto flat_source = std::make_shared<std::vector<float>>();
  for (const auto& row : *rows) flat_source->insert(flat_source->end(), row.begin(), row.end());
  const size_t row_bytes = sizeof(float) * width;

  Case c;
  c.inputs.push_back({"rows", at::from_blob(flat_source->data(), {batch, width}, f32()).clone()});
  c.variants.push_back({"rows_from_blob_vstack", [=] {  // the blog's slow path
                          return to_device(at::vstack(wrap_rows(*rows, true)), device);
                        }});
  c.variants.push_back({"rows_from_blob_cat", [=] { return to_device(at::cat(wrap_rows(*rows, true), 0), device); }});
  c.variants.push_back(
      {"rows_from_blob_stack", [=] { return to_device(at::stack(wrap_rows(*rows, false), 0), device); }});
  c.variants.push_back({"flat_from_blob", [=] {  // the blog's fast path: flatten, one from_blob
                          auto flat = new std::vector<float>();
                          flat->reserve(batch * width);
                          for (const auto& row : *rows) flat->insert(flat->end(), row.begin(), row.end());
                          if (device.is_cpu()) {  // hand the vector to the tensor: owning, no second copy
                            return at::from_blob(
                                flat->data(), {batch, width}, [flat](void*) { delete flat; }, f32());
                          }
                          at::Tensor on_device = at::from_blob(flat->data(), {batch, width}, f32()).to(device);
                          delete flat;
                          return on_device;
                        }});
  c.variants.push_back({"prealloc_row_copy", [=] {  // one copy per row into a reused tensor
                          at::Tensor& out = *row_target;
                          if (device.is_cpu()) {
                            char* dst = static_cast<char*>(out.data_ptr());
                            for (int64_t i = 0; i < batch; ++i)
                              std::memcpy(dst + i * row_bytes, (*rows)[i].data(), row_bytes);
                          } else {
                            for (int64_t i = 0; i < batch; ++i)
                              out[i].copy_(at::from_blob((*rows)[i].data(), {width}, f32()));
                          }
                          return out;
                        }});
  c.variants.push_back({"floor_memcpy", [=] {  // the floor: the same bytes moved in one copy
                          at::Tensor& out = *floor_target;
                          if (device.is_cpu()) {
                            std::memcpy(out.data_ptr(), flat_source->data(), row_bytes * batch);
                          } else {
                            out.copy_(at::from_blob(flat_source->data(), {batch, width}, f32()));
                          }
                          return out;
                        }});
  return c;
}

}  // namespace

Technique batch_from_rows() {
  return Technique{"batch_from_rows",
                   "2",
                   {"B", "N"},
                   {"rows_from_blob_vstack", "rows_from_blob_cat", "rows_from_blob_stack", "flat_from_blob",
                    "prealloc_row_copy", "floor_memcpy"},
                   prepare_batch_case};
}

}  // namespace bench
