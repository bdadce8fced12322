#include "harness/csv.h"

namespace bench {

// `shape` and `event` are filled by the model technique (claim 1); empty elsewhere. Columns
// are only ever appended (`process`, then `batch` came last), so older CSVs still read. `ns` is
// per call: a sample of `batch` back-to-back calls divided by `batch`.
const char* const kCsvHeader =
    "technique,variant,params,libtorch,device,front,threads,round,call,shape,event,ns,process,batch";

void write_csv_header(std::ostream& out) { out << kCsvHeader << '\n'; }

void write_csv_row(std::ostream& out, const RunContext& ctx, const Sample& s) {
  out << s.technique << ',' << s.variant << ',' << s.params << ',' << ctx.libtorch << ',' << ctx.device << ','
      << ctx.front << ',' << ctx.threads << ',' << s.round << ',' << s.call << ',' << s.shape << ',' << s.event << ','
      << s.ns << ',' << s.process << ',' << s.batch << '\n';
}

}  // namespace bench
