// The tidy samples CSV: one row per sample, the same columns for every technique and front.
#pragma once

#include <ostream>
#include <string>

#include "harness/harness.h"

namespace bench {

// What is the same for every row of one run.
struct RunContext {
  std::string libtorch;
  std::string device;
  std::string front = "cpp";
  int threads = 1;
};

extern const char* const kCsvHeader;

void write_csv_header(std::ostream& out);
void write_csv_row(std::ostream& out, const RunContext& ctx, const Sample& s);

}  // namespace bench
