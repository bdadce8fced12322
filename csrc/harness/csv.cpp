#include "harness/csv.h"

namespace bench {

// `shape` and `event` are filled by the model technique (claim 1); empty elsewhere. Columns
// are only ever appended (`process` came last), so older CSVs still read.
const char* const kCsvHeader =
    "technique,variant,params,libtorch,device,front,threads,round,call,shape,event,ns,process";

void write_csv_header(std::ostream& out) { out << kCsvHeader << '\n'; }

void write_csv_row(std::ostream& out, const RunContext& ctx, const Sample& s) {
  out << s.technique << ',' << s.variant << ',' << s.params << ',' << ctx.libtorch << ',' << ctx.device << ','
      << ctx.front << ',' << ctx.threads << ',' << s.round << ',' << s.call << ',' << s.shape << ',' << s.event << ','
      << s.ns << ',' << s.process << '\n';
}

}  // namespace bench
