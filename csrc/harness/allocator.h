// The allocator's state, set explicitly: glibc's malloc serves a large allocation from a fresh
// mmap and returns it on free, and moves that threshold with what the process frees (dynamic,
// from 128 KiB). At the sizes where that threshold sits (claim 2's 2-4 MiB batches) whether a
// call pays for page faults then depends on what ran before it. Fixed thresholds serve every
// variant's allocations from memory the process keeps: each still allocates what the blog's
// code allocates, and none pays for another's history.
#pragma once

#include <cstdint>
#include <string>

namespace bench {

struct MallocSettings {
  int64_t mmap_threshold = 0;  // bytes; 0: glibc's default (dynamic)
  int64_t trim_threshold = 0;  // bytes; 0: glibc's default (dynamic)
};

// Applies the non-zero settings with mallopt; "" when all were honoured, else what was refused
// (a value glibc does not accept, or a C library without mallopt), for the provenance.
std::string apply_malloc_settings(const MallocSettings& settings);

}  // namespace bench
