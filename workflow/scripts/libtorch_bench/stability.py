"""Do the verdicts survive a second run? `make stability` measures the default grid's claims 2-3
twice back to back (in a copy of the workflow under results/stability/, so results/ is not
touched) and compares the two claims.csv: how many verdicts agree, how many moved between
decided states (holds, reversed, equivalent), how many between decided and inconclusive, and
how often run 1's interval contains run 2's ratio.

    python -m libtorch_bench.stability [--cores N] [--out results/stability]
"""

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

from .samples import read_table
from .stats import DECIDED

KEY = ["claim", "comparison", "version", "device", "front", "case", "slow_variant", "fast_variant"]
TRACKED = ("Snakefile", "workflow", "csrc", "config", "deps")
CONFIG = "config/stability.yaml"


def compare_runs(first, second):
    """One row per comparison measured in both runs, with how its verdict moved; and the counts."""
    both = first[first.verdict != "not run"].merge(
        second[second.verdict != "not run"], on=KEY, suffixes=("_1", "_2"), validate="one_to_one"
    )
    decided_1, decided_2 = both.verdict_1.isin(DECIDED), both.verdict_2.isin(DECIDED)
    both["agree"] = both.verdict_1 == both.verdict_2
    both["decided_moved"] = decided_1 & decided_2 & ~both.agree
    both["holds_reversed"] = both[["verdict_1", "verdict_2"]].apply(set, axis=1) == {"holds", "reversed"}
    both["to_or_from_inconclusive"] = decided_1 != decided_2
    both["covered"] = (both.ci_low_1 <= both.ratio_2) & (both.ratio_2 <= both.ci_high_1)
    both["within_10pct"] = (both.ratio_2 / both.ratio_1 - 1).abs() <= 0.10
    n = len(both)
    counts = {
        "comparisons": n,
        "agree": int(both.agree.sum()),
        "moved_between_decided": int(both.decided_moved.sum()),
        "holds_reversed": int(both.holds_reversed.sum()),
        "to_or_from_inconclusive": int(both.to_or_from_inconclusive.sum()),
        "inconclusive_1": int((both.verdict_1 == "inconclusive").sum()),
        "inconclusive_2": int((both.verdict_2 == "inconclusive").sum()),
        "covered": int(both.covered.sum()),
        "within_10pct": int(both.within_10pct.sum()),
    }
    return both, counts


def summary_text(counts):
    n = max(counts["comparisons"], 1)

    def pct(k):
        return f"{counts[k]} ({100 * counts[k] / n:.1f}%)"

    return "\n".join(
        [
            f"comparisons measured in both runs:            {counts['comparisons']}",
            f"same verdict:                                 {pct('agree')}",
            f"moved between decided states:                 {pct('moved_between_decided')}",
            f"  of which holds <-> reversed:                {pct('holds_reversed')}",
            f"moved to or from inconclusive:                {pct('to_or_from_inconclusive')}",
            f"inconclusive in run 1 / run 2:                {counts['inconclusive_1']} / {counts['inconclusive_2']}",
            f"run 1's interval contains run 2's ratio:      {pct('covered')}",
            f"ratios within 10% of each other:              {pct('within_10pct')}",
        ]
    )


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
    both, counts = compare_runs(read_table(out / "run1.claims.csv"), read_table(out / "run2.claims.csv"))
    both.to_csv(out / "comparison.csv", index=False, float_format="%.6g")
    text = summary_text(counts)
    (out / "summary.txt").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
