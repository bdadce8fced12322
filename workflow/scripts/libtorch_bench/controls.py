"""Can this run tell? The controls' comparisons (registry entries with a `control` key) against
their known answers. Each cell of a control reads
- right: decided as expected and, where the answer is a ratio, its interval reaches that ratio
  within the control's tolerance;
- wrong: decided otherwise (an A/A control that holds, a 2x control read equivalent), or its
  interval lies wholly outside the tolerance of the known ratio: the run mis-measures, so its
  verdicts are suspect;
- undecided: inconclusive; the run could not resolve a difference that small there, which says
  nothing against its decided verdicts. Such a cell carries the difference it does resolve.
Per control and platform, a status from its cells (control_results)."""

import numpy as np
import pandas as pd

from .comparisons import TOO_FEW_ROUNDS
from .stats import DECIDED

# The keys of a control block (documented in comparisons.yaml's header); a typo fails loudly
# rather than silently loosening a control.
CONTROL_KEYS = {"expect", "pass", "ratio", "tolerance", "coverage", "min_ns"}
READINGS = ("right", "wrong", "undecided")

CONTROL_COLUMNS = [
    "claim",
    "comparison",
    "expect",
    "libtorch",
    "version",
    "device",
    "front",
    "cases",
    "as_expected",  # cells decided as expected
    "wrong_decided",  # cells decided otherwise
    "share",
    "needed",
    "ratio",
    "covered",  # cells whose trusted interval reaches the known ratio within tolerance
    "coverage",
    "needed_coverage",
    "passed",  # not wrong: the platform's verdicts stand
    # appended with the readings: the known ratio's relative tolerance, the cells with a trusted
    # interval (what `coverage` counts over), the cells per reading,
    # the coarsest difference an undecided cell resolves, and the platform's status
    "tolerance",
    "intervals",
    "right",
    "wrong",
    "undecided",
    "resolvable",
    "status",
]


def control_spec(comparison):
    """The control block of a registry comparison, checked, with its defaults filled in."""
    control = dict(comparison["control"])
    unknown = set(control) - CONTROL_KEYS
    if unknown:
        raise ValueError(
            f"comparison {comparison['id']}: unknown control keys {sorted(unknown)}; known: {sorted(CONTROL_KEYS)}"
        )
    if control.get("expect") not in DECIDED:
        raise ValueError(f"comparison {comparison['id']}: control expect must be one of {DECIDED}")
    control["pass"] = float(control.get("pass", 1.0))
    control["tolerance"] = float(control.get("tolerance", 0.0))
    control["coverage"] = float(control.get("coverage", 0.0))
    return control


def resolvable(low, high):
    """The relative half-width of an interval, sqrt(high / low) - 1: the interval of a ratio is
    about symmetric on the log scale (a percentile bootstrap of log-ratios), so a true ratio
    this far beyond an edge of the band would have put the whole interval on one side of it.
    NaN where there is no interval to read (none, a single point, not positive)."""
    if not (np.isfinite(low) and np.isfinite(high)) or low <= 0 or high <= low:
        return float("nan")
    return float(np.sqrt(high / low) - 1)


def reaches(low, high, control):
    """Whether intervals reach the known ratio within its tolerance (elementwise)."""
    ratio, tolerance = float(control["ratio"]), control["tolerance"]
    return (low <= ratio * (1 + tolerance)) & (high >= ratio * (1 - tolerance))


def read_cell(row, control):
    """(reading, resolvable difference) of one row of control_cells."""
    if "ratio" in control and row.trusted and not reaches(row.ci_low, row.ci_high, control):
        return "wrong", float("nan")
    if row.verdict == control["expect"]:
        return "right", float("nan")
    if row.verdict in DECIDED:
        return "wrong", float("nan")
    return "undecided", resolvable(row.ci_low, row.ci_high) if row.trusted else float("nan")


def control_cells(claims, registry):
    """The rows of claims.csv that the controls count (measured; where a control names min_ns,
    only cells whose fast variant takes that long), each with `trusted` (it has an interval the
    report trusts: one withheld for too few processes is not), `reading` and `resolvable`."""
    parts = []
    for comparison in registry.comparisons:
        if not comparison.get("control"):
            continue
        control = control_spec(comparison)
        part = claims[(claims.comparison == comparison["id"]) & (claims.verdict != "not run")]
        if "min_ns" in control:
            part = part[part.median_fast_ns >= float(control["min_ns"])]
        part = part.assign(
            trusted=part.ci_low.notna() & part.ci_high.notna() & ~part.reason.astype(str).str.contains(TOO_FEW_ROUNDS)
        )
        read = [read_cell(r, control) for r in part.itertuples(index=False)]
        parts.append(part.assign(reading=[r for r, _ in read], resolvable=[d for _, d in read]))
    columns = [*claims.columns, "trusted", "reading", "resolvable"]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)


def status_of(counts, share, coverage, control):
    """A platform's status: wrong where any cell reads wrong or the intervals reach the known
    ratio in fewer cells than `coverage` asks; undecided where fewer cells than `pass` read as
    expected (with no cell wrong, the others are undecided); else right."""
    if counts["wrong"] or (np.isfinite(coverage) and coverage < control["coverage"]):
        return "wrong"
    return "undecided" if share < control["pass"] else "right"


def control_results(claims, registry, cells=None):
    """One row per control comparison and platform (libtorch, version, device, front)."""
    cells = control_cells(claims, registry) if cells is None else cells
    rows = []
    for comparison in registry.comparisons:
        if not comparison.get("control"):
            continue
        control = control_spec(comparison)
        part = cells[cells.comparison == comparison["id"]]
        for (libtorch, version, device, front), g in part.groupby(["libtorch", "version", "device", "front"]):
            expect, n = control["expect"], len(g)
            counts = {reading: int((g.reading == reading).sum()) for reading in READINGS}
            as_expected = int((g.verdict == expect).sum())
            share = as_expected / n
            row = {
                "claim": comparison["claim"],
                "comparison": comparison["id"],
                "expect": expect,
                "libtorch": libtorch,
                "version": version,
                "device": device,
                "front": front,
                "cases": n,
                "as_expected": as_expected,
                "wrong_decided": int(g.verdict.isin([v for v in DECIDED if v != expect]).sum()),
                "share": share,
                "needed": control["pass"],
                "ratio": np.nan,
                "covered": np.nan,
                "coverage": np.nan,
                "needed_coverage": np.nan,
                "tolerance": np.nan,
                "intervals": np.nan,
                **counts,
                "resolvable": g.resolvable.max() if counts["undecided"] else np.nan,
            }
            if "ratio" in control:
                # Coverage over the cells with a trusted interval, decided or not: the level
                # promises it for every interval, and counting only the decided ones would
                # keep the narrow intervals that happened to miss.
                trusted = g[g.trusted]
                covered = int(reaches(trusted.ci_low, trusted.ci_high, control).sum())
                row.update(
                    ratio=float(control["ratio"]),
                    covered=covered,
                    coverage=covered / len(trusted) if len(trusted) else np.nan,
                    needed_coverage=control["coverage"],
                    tolerance=control["tolerance"],
                    intervals=len(trusted),
                )
            row["status"] = status_of(counts, share, row["coverage"], control)
            row["passed"] = row["status"] != "wrong"
            rows.append(row)
    return pd.DataFrame(rows, columns=CONTROL_COLUMNS)
