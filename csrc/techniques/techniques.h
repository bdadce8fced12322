// The techniques the runner knows; each lives in its own file.
#pragma once

#include <string>
#include <vector>

#include "harness/harness.h"

namespace bench {

Technique model_inference();  // claim 1
Technique batch_from_rows();  // claim 2
Technique mask_indexing();    // claim 3

const std::vector<Technique>& all_techniques();
// Throws std::invalid_argument naming the known techniques.
const Technique& find_technique(const std::string& name);

}  // namespace bench
