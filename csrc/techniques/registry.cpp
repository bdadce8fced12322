#include <stdexcept>

#include "techniques/techniques.h"

namespace bench {

// One line per technique: its factory (defined in techniques/<name>.cpp) and its place in the
// list. The claim each answers is in workflow/resources/comparisons.yaml.
Technique model_inference();
Technique batch_from_rows();
Technique mask_indexing();

const std::vector<Technique>& all_techniques() {
  static const std::vector<Technique> techniques = {model_inference(), batch_from_rows(), mask_indexing()};
  return techniques;
}

const Technique& find_technique(const std::string& name) {
  std::string known;
  for (const auto& t : all_techniques()) {
    if (t.name == name) return t;
    known += (known.empty() ? "" : ", ") + t.name;
  }
  throw std::invalid_argument("unknown technique '" + name + "'; known: " + known);
}

}  // namespace bench
