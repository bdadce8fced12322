"""How far the page's verdicts can be trusted: the controls with known answers ("Can this run
tell?"), the machine's state during the run (drift.csv), and how many decided verdicts could
be wrong by chance."""

import numpy as np

from .. import format as fmt
from ..controls import control_results
from ..stats import DECIDED

EXPECTED = {"equivalent": "read equivalent", "holds": "hold"}


def controls(claims, registry):
    """The controls per comparison and platform, and one warning line per platform where a
    control missed its mark (the details are in the "Can this run tell?" table)."""
    results = control_results(claims, registry)
    questions = {c["id"]: c["question"] for c in registry.comparisons if c.get("control")}
    rows, missed = [], {}
    for (comparison, claim), part in results.groupby(["comparison", "claim"], sort=False):
        entries = []
        for r in part.itertuples(index=False):
            text = f"{r.as_expected} of {r.cases} {EXPECTED.get(r.expect, r.expect)}"
            if np.isfinite(r.ratio):
                text += f"; the interval covers {r.ratio:g} in {int(r.covered)} of {r.cases}"
            if r.wrong_decided:
                text += f"; {r.wrong_decided} decided otherwise"
            platform = f"{r.libtorch} · {r.device}" + ("" if r.front == "cpp" else f" · {r.front}")
            entries.append({"platform": platform, "text": text, "passed": r.passed})
            if not r.passed:
                missed.setdefault(platform, []).append(f"claim {claim} {questions[comparison].split(':')[0]}")
        rows.append({"id": comparison, "claim": claim, "question": questions[comparison], "entries": entries})
    if len(missed) <= fmt.NAMED:
        failures = [f"libtorch {platform}: {', '.join(names)}." for platform, names in missed.items()]
        return rows, failures
    # A wide run: one line per control, counting the platforms where it missed.
    by_control = {}
    for platform, names in missed.items():
        for name in names:
            by_control.setdefault(name, []).append(platform)
    total = len({e["platform"] for row in rows for e in row["entries"]})
    failures = [f"{name}: missed on {len(platforms)} of {total} platforms." for name, platforms in by_control.items()]
    return rows, failures


NAMED_CELLS = 4


def drift(drift_table, threshold):
    """A warning when probes drifted past the threshold (None otherwise), and the spread of all."""
    if drift_table.empty:
        return None, None
    spread = {kind: float(drift_table[f"{kind}_change"].abs().max()) for kind in ("memory", "compute")}
    flagged = drift_table[drift_table.flagged.astype(str).str.lower() == "true"]
    if flagged.empty:
        return None, spread
    affected = {}
    for r in flagged.itertuples(index=False):
        cells = [c for c in str(r.cells).split("|") if c and c != "nan"]
        affected.setdefault(f"{r.before}", set()).update(cells)
    # A few cells by name; more as a count, so the warning stays a line (drift.csv lists them all).
    named = fmt.first_few(
        (
            f"{run} ({', '.join(sorted(cells)) if len(cells) <= NAMED_CELLS else f'{len(cells)} cells'})"
            if cells
            else f"{run} (no cell)"
            for run, cells in sorted(affected.items())
        ),
        "drift.csv",
        sep="; ",
    )
    warning = (
        f"The machine's state drifted during this run: {len(flagged)} of {len(drift_table)} probes were more "
        f"than {100 * threshold:g}% off their median (memory copy up to {100 * spread['memory']:+.0f}%, compute "
        f"chain up to {100 * spread['compute']:+.0f}%). Intervals include what changed between processes; "
        f"the cells sampled right after a drifted probe (drift.csv) are: {named}."
    )
    return warning, spread


def error_budget(claims):
    """How many comparisons the page makes, how many are decided, and how many of those could be
    wrong by chance at the levels used."""
    rated = claims[claims.verdict != "not run"]
    decided = rated[rated.verdict.isin(DECIDED)]
    levels = sorted(set(rated["confidence"].dropna().round(6))) if "confidence" in rated else []
    expected_wrong = float((1 - decided["confidence"]).sum()) if "confidence" in decided else float("nan")
    return {
        "comparisons": len(rated),
        "decided": len(decided),
        "inconclusive": int((rated.verdict == "inconclusive").sum()),
        "levels": ", ".join(f"{100 * v:g}%" for v in levels),
        "expected_wrong": fmt.count(expected_wrong),
    }
