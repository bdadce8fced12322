"""How far the page's verdicts can be trusted: the controls with known answers ("Can this run
tell?"), the machine's state during the run (drift.csv), and how many decided verdicts could
be wrong by chance."""

import numpy as np

from .. import format as fmt
from ..comparisons import TOO_FEW_ROUNDS
from ..controls import control_cells, control_results, control_spec
from ..samples import readable_case
from ..stats import DECIDED

EXPECTED = {"equivalent": "read equivalent", "holds": "hold", "reversed": "read reversed"}
BADGE = {"right": "holds", "wrong": "reversed", "undecided": "unclear"}  # the verdicts' colours


def answer(control, band):
    """A control's known answer in words, from its registry entry: 'must hold at 2× ± 5%'."""
    if "ratio" in control:
        text = f"must {EXPECTED[control['expect']]} at {fmt.ratio(float(control['ratio']))}"
        if control["tolerance"]:
            text += f" ± {100 * control['tolerance']:g}%"
    else:  # A/A: the ratio is 1 and the band is its tolerance
        text = f"must {EXPECTED[control['expect']]}, its interval inside [{band[0]:g}, {band[1]:g}]"
    if control["pass"] < 1:
        text += f", in {100 * control['pass']:g}% of its cases or more"
    if "min_ns" in control:
        text += f", where its fast variant takes {fmt.duration(float(control['min_ns']))} or more"
    return text


def answers(registry, band):
    """Each control variant's answer, once per distinct wording (the claims are named only where
    they state the same variant differently), and the smallest known ratio a run that reads
    right can tell."""
    lines, ratios = {}, []
    for comparison in registry.comparisons:
        if comparison.get("control"):
            control = control_spec(comparison)
            lines.setdefault((comparison["slow"], answer(control, band)), []).append(str(comparison["claim"]))
            ratios += [float(control["ratio"])] if "ratio" in control else []
    variants = [variant for variant, _ in lines]
    listed = [
        {
            "variant": variant,
            "where": f" (claim {', '.join(claims)})" if variants.count(variant) > 1 else "",
            "text": text,
        }
        for (variant, text), claims in lines.items()
    ]
    return listed, (fmt.ratio(min(ratios)) if ratios else None)


def cell_list(cells, describe):
    """'B=1, N=8 (…), B=16, N=8 (…) and 3 more (claims.csv lists them all)'."""
    return fmt.first_few((describe(r) for r in cells.itertuples()), "claims.csv")


def resolved(r):
    """The difference an undecided cell resolves, or why there is none."""
    if np.isfinite(r.resolvable):
        return f"±{100 * r.resolvable:.2g}%"
    return "no interval: too few processes" if TOO_FEW_ROUNDS in str(r.reason) else "no interval"


def entry_text(r, cells):
    """A control on one platform: how its cases read, the wrong ones with their intervals, the
    undecided ones with the difference each resolves (the coarsest first)."""
    text = f"{r.as_expected} of {r.cases} {EXPECTED.get(r.expect, r.expect)}"
    if np.isfinite(r.ratio):
        band = fmt.ratio(r.ratio) + (f" ± {100 * r.tolerance:g}%" if r.tolerance else "")
        text += f"; the interval reaches {band} in {int(r.covered)} of {int(r.intervals)}"
    known = 1.0 if np.isnan(r.ratio) else r.ratio  # A/A: 1
    wrong = cells[cells.reading == "wrong"]
    wrong = wrong.assign(off=np.abs(np.log(wrong.ratio / known))).sort_values("off", ascending=False)  # furthest first
    if len(wrong):
        text += f"; wrong {'at' if len(wrong) == 1 else f'in {len(wrong)}:'} " + cell_list(
            wrong, lambda c: f"{readable_case(c.case)} ({fmt.ratio(c.ratio)} [{c.ci_low:.3g}, {c.ci_high:.3g}])"
        )
    undecided = cells[cells.reading == "undecided"].sort_values("resolvable", ascending=False, na_position="first")
    if len(undecided) == 1:
        c = next(undecided.itertuples())
        what = f"it resolves differences of {resolved(c)} there" if np.isfinite(c.resolvable) else resolved(c)
        text += f"; undecided at {readable_case(c.case)}: {what}"
    elif len(undecided):
        text += f"; undecided in {len(undecided)}, where it resolves differences of " + cell_list(
            undecided, lambda c: f"{resolved(c)} ({readable_case(c.case)})"
        )
    return text


def warning_lines(results, questions):
    """The top warning: per platform, the controls that read wrong there; on a wide run, one
    line per control counting its platforms, so the warning stays short."""
    wrong = results[results.status == "wrong"]

    def name(r):  # 'claim 2 Known 2x slowdown'
        return f"claim {r.claim} {questions[r.comparison].split(':')[0]}"

    missed = {}
    for r in wrong.itertuples(index=False):
        why = (
            f"wrong in {r.wrong} of {r.cases} cases"
            if r.wrong
            else f"its interval reaches {fmt.ratio(r.ratio)} in {int(r.covered)} of {int(r.intervals)}"
        )
        missed.setdefault(platform_of(r), []).append(f"{name(r)} ({why})")
    if len(missed) <= fmt.NAMED:
        return [f"libtorch {platform}: {', '.join(names)}." for platform, names in missed.items()]
    by_control = {}
    for r in wrong.itertuples(index=False):
        by_control.setdefault(name(r), []).append(platform_of(r))
    total = len({platform_of(r) for r in results.itertuples(index=False)})
    return [f"{name}: wrong on {len(platforms)} of {total} platforms." for name, platforms in by_control.items()]


def platform_of(r):
    return f"{r.libtorch} · {r.device}" + ("" if r.front == "cpp" else f" · {r.front}")


def controls(claims, registry, settings):
    """Can this run tell? Each control's known answer (from the registry), its reading per
    platform (right, wrong or undecided, with the cells that are not right), and the lines of
    the top warning: only controls that read wrong, never those that merely stay undecided."""
    band = (float(settings["reversed_below"]), float(settings["holds_above"]))
    cells = control_cells(claims, registry)
    results = control_results(claims, registry, cells)
    questions = {c["id"]: c["question"] for c in registry.comparisons if c.get("control")}
    keys = ["comparison", "libtorch", "version", "device", "front"]
    by_platform = dict(tuple(cells.groupby(keys)))
    table = []
    for (comparison, claim), part in results.groupby(["comparison", "claim"], sort=False):
        entries = [
            {
                "platform": platform_of(r),
                "status": r.status,
                "badge": BADGE[r.status],
                "text": entry_text(r, by_platform[(comparison, r.libtorch, r.version, r.device, r.front)]),
            }
            for r in part.itertuples(index=False)
        ]
        table.append(
            {
                "id": comparison,
                "claim": claim,
                "question": questions[comparison],
                "entries": entries,
            }
        )
    listed, smallest = answers(registry, band)
    return {"answers": listed, "smallest": smallest, "table": table, "wrong": warning_lines(results, questions)}


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
