#include "harness/allocator.h"

#include <cstdint>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace bench {

std::string apply_malloc_settings(const MallocSettings& settings) {
  std::string refused;
  auto apply = [&](const char* name, int option, int64_t value) {
    if (value <= 0) return;
#if defined(__GLIBC__)
    if (value <= INT32_MAX && mallopt(option, static_cast<int>(value)) == 1) return;
#else
    (void)option;
#endif
    refused += std::string(refused.empty() ? "" : "; ") + name + "=" + std::to_string(value) + " refused";
  };
#if defined(__GLIBC__)
  apply("mmap_threshold", M_MMAP_THRESHOLD, settings.mmap_threshold);
  apply("trim_threshold", M_TRIM_THRESHOLD, settings.trim_threshold);
#else
  apply("mmap_threshold", 0, settings.mmap_threshold);
  apply("trim_threshold", 0, settings.trim_threshold);
#endif
  return refused;
}

}  // namespace bench
