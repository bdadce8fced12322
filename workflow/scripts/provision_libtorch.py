"""Rule provision_libtorch: download, verify and unpack one libtorch (or describe the installed
one) and write the manifest the build reads (libtorch_bench.provision)."""

from libtorch_bench.atomic import write_json_atomic
from libtorch_bench.provision import manifest_for
from libtorch_bench.rule_script import rule_main


def main(snakemake, log):
    manifest = manifest_for(
        snakemake.wildcards.version,
        snakemake.config["libtorch"],
        snakemake.input.table,
        snakemake.input.nvidia_table,
        log,
        snakemake.config["devices"],
    )
    write_json_atomic(snakemake.output.manifest, manifest)


if __name__ == "__main__" and "snakemake" in globals():
    rule_main(snakemake, main)  # noqa: F821 -- injected by Snakemake's script directive
