# Reproduces the 2021 libtorch inference-speed claims across libtorch versions and
# devices. Stages: provision libtorch -> build -> benchmark -> (report).
# Run: snakemake --cores all            (config/config.yaml)
#      snakemake --cores all --configfile config/test.yaml
# The answer: results/report/index.html; everything for offline reading, in one archive:
#      results/libtorch-claims-report.zip   (built by the default target)
#      snakemake --report results/report.zip   (Snakemake's own report of the same outputs)


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/provision.smk"
include: "workflow/rules/build.smk"
include: "workflow/rules/benchmark.smk"
include: "workflow/rules/models.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        all_benchmark_outputs(),
        "results/build/python/libtorch_bench_ext.so",
        all_report_outputs(),


onsuccess:
    fail_on_recorded_failures()
