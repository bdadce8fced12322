// The techniques the runner knows; each lives in its own file (techniques/*.cpp) and is
// listed in techniques/registry.cpp.
#pragma once

#include <string>
#include <vector>

#include "harness/harness.h"

namespace bench {

const std::vector<Technique>& all_techniques();
// Throws std::invalid_argument naming the known techniques.
const Technique& find_technique(const std::string& name);

}  // namespace bench
