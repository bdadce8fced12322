"""What the pipeline's rule scripts share: the claim registry, reading and writing samples,
the statistics, calling the runner, figures and the page.

Words used throughout (code, CSV columns, the page):

sample    one timed call: one row of a raw CSV.
round     one pass over every variant of a case, in rotating order; the samples of one round
          share the machine's state at that moment.
case      one parameter set of a technique (the `params` column, e.g. ``B=16;N=64``).
cell      one case of one technique on one libtorch version and device, from one front
          (C++ or Python): what is sampled, compared and summarised.
run       every cell of one technique on one libtorch version and device from one front: one
          raw CSV with its provenance JSON (results/raw/{version}/{device}/{technique}[.{front}].csv),
          one row of runs.csv.
platform  one libtorch version on one device: a column of the report's tables.
"""
