"""Do the verdicts survive a second run? `make stability` measures the default grid's claims 2-3
twice back to back (in a copy of the workflow under results/stability/, so results/ is not
touched) and compares the two claims.csv as `make compare` does (agreement.py): how many
verdicts agree, how many moved between decided states (holds, reversed, equivalent) or to or
from inconclusive, the share of comparisons whose two estimates agree within their intervals
(|z| <= 1.96), and how often run 1's interval contains run 2's ratio.

    python -m libtorch_bench.stability [--cores N] [--out results/stability]
"""

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

from .agreement import compare, summary_lines
from .report_folder import DEFAULT_LEVEL, read_claims, recorded_level

TRACKED = ("Snakefile", "workflow", "csrc", "config", "deps")
CONFIG = "config/stability.yaml"


def snakemake(workdir, cores, *args):
    cmd = [sys.executable, "-m", "snakemake", "--cores", str(cores), *args, "--configfile", CONFIG]
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=workdir, check=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cores", default="all")
    parser.add_argument("--out", default="results/stability")
    args = parser.parse_args(argv)
    repo, out = Path.cwd(), Path(args.out)
    work = out / "work"
    for name in TRACKED:  # the workflow as it is now; the copy's own results/ (builds) stay
        target, source = work / name, repo / name
        if target.is_dir():
            shutil.rmtree(target)
        target.unlink(missing_ok=True)
        work.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target)
    claims = "results/report/claims.csv"
    snakemake(work, args.cores, claims)
    shutil.copy2(work / claims, out / "run1.claims.csv")
    snakemake(work, args.cores, "--forcerun", "run_techniques", claims)
    shutil.copy2(work / claims, out / "run2.claims.csv")
    level, _ = recorded_level([work / "config/config.yaml", work / CONFIG])
    runs = [read_claims(out / f"run{i}.claims.csv", f"run {i}") for i in (1, 2)]
    result = compare(*runs, names=("run 1", "run 2"), levels=(level or DEFAULT_LEVEL,) * 2)
    result.rows.to_csv(out / "comparison.csv", index=False, float_format="%.6g")
    text = "\n".join(summary_lines(result))
    (out / "summary.txt").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
