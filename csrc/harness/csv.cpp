#include "harness/csv.h"

#include <cmath>
#include <cstdint>
#include <iomanip>

namespace bench {

// `shape` and `event` are filled by the model technique (claim 1); empty elsewhere. Columns
// are only ever appended (`process`, then `batch` came last), so older CSVs still read. `ns` is
// per call: a sample of `batch` back-to-back calls divided by `batch`.
const char* const kCsvHeader =
    "technique,variant,params,libtorch,device,front,threads,round,call,shape,event,ns,process,batch";

void write_csv_header(std::ostream& out) { out << kCsvHeader << '\n'; }

void write_csv_row(std::ostream& out, const RunContext& ctx, const Sample& s) {
  out << s.technique << ',' << s.variant << ',' << s.params << ',' << ctx.libtorch << ',' << ctx.device << ','
      << ctx.front << ',' << ctx.threads << ',' << s.round << ',' << s.call << ',' << s.shape << ',' << s.event << ',';
  // Whole ns for a single call (the clock's resolution); a batch's mean keeps three decimals.
  if (s.batch > 1)
    out << std::fixed << std::setprecision(3) << s.ns << std::defaultfloat;
  else
    out << static_cast<int64_t>(std::llround(s.ns));
  out << ',' << s.process << ',' << s.batch << '\n';
}

}  // namespace bench
