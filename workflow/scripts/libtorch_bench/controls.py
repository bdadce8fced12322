"""Can this run tell? The controls' comparisons (registry entries with a `control` key) against
their known answers, per platform: how many cases read the expected verdict, and how often the
interval covers the true ratio. A control that misses its mark flags the platform's verdicts."""

import numpy as np
import pandas as pd

CONTROL_COLUMNS = [
    "claim",
    "comparison",
    "expect",
    "libtorch",
    "version",
    "device",
    "front",
    "cases",
    "as_expected",
    "wrong_decided",
    "share",
    "needed",
    "ratio",
    "covered",
    "coverage",
    "needed_coverage",
    "passed",
]


def control_results(claims, registry):
    """One row per control comparison and platform (libtorch, version, device, front)."""
    rows = []
    for comparison in registry.comparisons:
        control = comparison.get("control")
        if not control:
            continue
        part = claims[(claims.comparison == comparison["id"]) & (claims.verdict != "not run")]
        if "min_ns" in control:
            part = part[part.median_fast_ns >= float(control["min_ns"])]
        for (libtorch, version, device, front), g in part.groupby(["libtorch", "version", "device", "front"]):
            expect, n = control["expect"], len(g)
            as_expected = int((g.verdict == expect).sum())
            wrong = int(g.verdict.isin([v for v in ("holds", "reversed", "equivalent") if v != expect]).sum())
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
                "wrong_decided": wrong,
                "share": share,
                "needed": float(control["pass"]),
                "ratio": np.nan,
                "covered": np.nan,
                "coverage": np.nan,
                "needed_coverage": np.nan,
            }
            passed = share >= float(control["pass"]) and (expect != "equivalent" or wrong == 0)
            if "ratio" in control:
                truth = float(control["ratio"])
                covered = int(((g.ci_low <= truth) & (truth <= g.ci_high)).sum())
                row.update(
                    ratio=truth,
                    covered=covered,
                    coverage=covered / n,
                    needed_coverage=float(control.get("coverage", 0)),
                )
                passed = passed and covered / n >= float(control.get("coverage", 0))
            row["passed"] = bool(passed)
            rows.append(row)
    return pd.DataFrame(rows, columns=CONTROL_COLUMNS)
