#include "harness/params.h"

#include <sstream>
#include <stdexcept>

namespace bench {

const std::string& Params::str(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) throw std::invalid_argument("missing parameter '" + name + "'");
  return it->second;
}

int64_t Params::integer(const std::string& name) const {
  const std::string& text = str(name);
  size_t used = 0;
  int64_t value = std::stoll(text, &used);
  if (used != text.size()) throw std::invalid_argument("parameter " + name + "=" + text + " is not an integer");
  return value;
}

double Params::real(const std::string& name) const {
  const std::string& text = str(name);
  size_t used = 0;
  double value = std::stod(text, &used);
  if (used != text.size()) throw std::invalid_argument("parameter " + name + "=" + text + " is not a number");
  return value;
}

std::string Params::canonical() const {
  std::ostringstream out;
  const char* sep = "";
  for (const auto& kv : values_) {
    out << sep << kv.first << "=" << kv.second;
    sep = ";";
  }
  return out.str();
}

std::vector<Params> cartesian_grid(const std::vector<Axis>& axes) {
  std::vector<Params> grid(1);
  for (const auto& axis : axes) {
    if (axis.second.empty()) throw std::invalid_argument("parameter '" + axis.first + "' has no values");
    std::vector<Params> next;
    for (const auto& partial : grid) {
      for (const auto& value : axis.second) {
        Params p = partial;
        p.set(axis.first, value);
        next.push_back(p);
      }
    }
    grid.swap(next);
  }
  return grid;
}

Axis parse_axis(const std::string& spec) {
  auto eq = spec.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
    throw std::invalid_argument("grid axis '" + spec + "' is not NAME=V1,V2,...");
  Axis axis{spec.substr(0, eq), {}};
  std::stringstream values(spec.substr(eq + 1));
  std::string value;
  while (std::getline(values, value, ',')) {
    if (value.empty()) throw std::invalid_argument("grid axis '" + spec + "' has an empty value");
    axis.second.push_back(value);
  }
  return axis;
}

Params parse_case(const std::string& canonical) {
  Params params;
  std::stringstream items(canonical);
  std::string item;
  while (std::getline(items, item, ';')) {
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size())
      throw std::invalid_argument("case '" + canonical + "' is not NAME=V;NAME=V...");
    params.set(item.substr(0, eq), item.substr(eq + 1));
  }
  if (params.values().empty()) throw std::invalid_argument("case '" + canonical + "' names no parameter");
  return params;
}

}  // namespace bench
