// A technique's parameters for one case, and the grid of cases a run covers.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace bench {

// Parameter values stay strings (as given on the command line) so the CSV repeats them
// exactly; techniques read them as numbers.
class Params {
 public:
  void set(const std::string& name, const std::string& value) { values_[name] = value; }
  bool has(const std::string& name) const { return values_.count(name) > 0; }
  const std::string& str(const std::string& name) const;
  int64_t integer(const std::string& name) const;
  double real(const std::string& name) const;
  // "B=16;N=64", names sorted: the `params` column of the CSV.
  std::string canonical() const;
  const std::map<std::string, std::string>& values() const { return values_; }

 private:
  std::map<std::string, std::string> values_;
};

// Each axis is a name and its values; the grid is their Cartesian product.
using Axis = std::pair<std::string, std::vector<std::string>>;
std::vector<Params> cartesian_grid(const std::vector<Axis>& axes);

// "B=1,16,256" -> {"B", {"1", "16", "256"}}
Axis parse_axis(const std::string& spec);

// "B=16;N=64" (a case as Params::canonical() writes it) -> those parameters.
Params parse_case(const std::string& canonical);

}  // namespace bench
