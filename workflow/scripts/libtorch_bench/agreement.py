"""Two claims tables side by side, comparison by comparison: matched on what was compared
(claim, comparison, platform, case and variants), how each verdict moved, and how far the two
estimates agree given their intervals. `make compare` (compare.py) and `make stability`
(stability.py) both use it.

The calibrated agreement z = (x1 - x2) / sqrt(se1^2 + se2^2), x the log ratio, or for a spike
row whose both sides carry the excess spike rate (slow - fast, a difference) that excess; each
se read from its row's interval at that row's own two-sided level (claims.csv's `confidence`):
se = width / (2 * norm.ppf((1 + level) / 2)). If both runs measure the same thing and their
intervals are calibrated, z is standard normal whatever the widths: |z| <= 1.96 in 95% of
comparisons. "Run 1's interval contains run 2's ratio" is kept as a secondary line: both
estimates vary, so for calibrated 95% intervals of equal width it happens only ~83% of the time.
A row with no finite interval, or a single-point one (older spike rows: ci_low == ci_high),
gets no z and is counted as "no interval", never as agreeing; so does a row whose verdict was
withheld for too few processes (report.min_rounds), whose interval the report does not trust.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

from .comparisons import TOO_FEW_ROUNDS
from .findings import group_name
from .samples import version_key
from .stats import DECIDED

KEY = ["claim", "comparison", "version", "device", "front", "case", "slow_variant", "fast_variant"]
PLATFORM = ["version", "device", "front"]
# What each side brings to a matched row (those its table has).
SIDE_COLUMNS = [
    "libtorch",
    "ratio",
    "ci_low",
    "ci_high",
    "confidence",
    "verdict",
    "reason",
    "excess",
    "excess_low",
    "excess_high",
    "median_slow_ns",
    "median_fast_ns",
]
EXCESS = ["excess", "excess_low", "excess_high"]
MOVES = ("same", "holds <-> reversed", "between decided", "to inconclusive", "from inconclusive")


def suffix(name):
    """A side's column suffix: 'run 1' -> '_run1', 'baseline' -> '_baseline'."""
    return "_" + name.replace(" ", "")


def critical(level):
    """The two-sided normal quantile of an interval at `level`: 1.96 at 0.95."""
    return norm.ppf((1 + np.asarray(level, dtype=float)) / 2)


def estimates(claims, level):
    """Per row: the log ratio and the excess rate, each with its se where its interval allows one
    (finite, of positive width; ratios positive). Rows without `confidence` are at `level`."""
    confidence = claims["confidence"].fillna(level) if "confidence" in claims else pd.Series(level, claims.index)
    z = critical(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        x, low, high = (np.log(claims[c].astype(float).where(claims[c] > 0)) for c in ("ratio", "ci_low", "ci_high"))
    trusted = ~claims["reason"].fillna("").str.contains(TOO_FEW_ROUNDS, regex=False)
    out = pd.DataFrame({"x_log": x, "se_log": ((high - low) / (2 * z)).where(trusted & np.isfinite(x) & (high > low))})
    if all(c in claims for c in EXCESS):
        spike = trusted & (claims["metric"] == "spikes")
        d, d_low, d_high = (claims[c].astype(float) for c in EXCESS)
        out["has_excess"] = (claims["metric"] == "spikes") & d.notna()
        out["x_excess"] = d.where(spike)
        out["se_excess"] = ((d_high - d_low) / (2 * z)).where(spike & np.isfinite(d) & (d_high > d_low))
    return out


def movement(first, second):
    """How each verdict moved from the first table to the second (both measured)."""
    d1, d2 = first.isin(DECIDED), second.isin(DECIDED)
    flip = ((first == "holds") & (second == "reversed")) | ((first == "reversed") & (second == "holds"))
    return pd.Series(
        np.select([first == second, flip, d1 & d2, d1, d2], MOVES, default="same"), index=first.index, dtype=object
    )


@dataclass
class Agreement:
    rows: pd.DataFrame  # one row per comparison measured in both tables
    only: dict  # side name -> its measured rows the other table lacks
    names: tuple  # the two sides' names, first to second
    level: float  # the runs' report.confidence_level: |z| up to critical(level) agrees

    @property
    def threshold(self):
        return float(critical(self.level))


def compare(first, second, names=("run 1", "run 2"), levels=(0.95, 0.95)):
    """Match two claims tables (measured rows only) and compare each matched comparison.
    `levels`: each run's report.confidence_level, the level of rows that record none."""
    measured = [t[t.verdict != "not run"] for t in (first, second)]
    s1, s2 = suffix(names[0]), suffix(names[1])
    sides = []
    for table, level, s in zip(measured, levels, (s1, s2)):
        own = pd.concat([table[[c for c in SIDE_COLUMNS if c in table]], estimates(table, level)], axis=1)
        sides.append(pd.concat([table[KEY + ["metric", "primary"]], own.add_suffix(s)], axis=1))
    both = sides[0].merge(sides[1].drop(columns=["metric", "primary"]), on=KEY, how="outer", indicator=True)
    only = {
        names[0]: measured[0].merge(both.loc[both._merge == "left_only", KEY], on=KEY),
        names[1]: measured[1].merge(both.loc[both._merge == "right_only", KEY], on=KEY),
    }
    rows = both[both._merge == "both"].drop(columns="_merge").reset_index(drop=True)
    rows["moved"] = movement(rows[f"verdict{s1}"], rows[f"verdict{s2}"])
    # The excess scale where both rows carry the excess (spike rows of today's claims.csv; no z
    # where its interval is a point); else the ratio's, which older spike rows have alone.
    excess = (
        rows[f"has_excess{s1}"].astype(bool) & rows[f"has_excess{s2}"].astype(bool)
        if f"has_excess{s1}" in rows and f"has_excess{s2}" in rows
        else pd.Series(False, index=rows.index)
    )
    scale = np.where(excess, "excess", "log")
    x1, x2, se1, se2 = (
        pd.Series(np.where(excess, rows.get(f"{q}_excess{s}", np.nan), rows[f"{q}_log{s}"]), index=rows.index)
        for q, s in (("x", s1), ("x", s2), ("se", s1), ("se", s2))
    )
    rows["z"] = (x1 - x2) / np.hypot(se1, se2)
    rows["z_scale"] = np.where(rows.z.notna(), np.where(excess, "excess rate", "log ratio"), "")
    # Secondary: does the first run's interval contain the second's estimate (same scale as z)?
    low = np.where(scale == "excess", rows.get(f"excess_low{s1}", np.nan), rows[f"ci_low{s1}"])
    high = np.where(scale == "excess", rows.get(f"excess_high{s1}", np.nan), rows[f"ci_high{s1}"])
    estimate = np.where(scale == "excess", rows.get(f"excess{s2}", np.nan), rows[f"ratio{s2}"])
    rows["covered"] = pd.Series((low <= estimate) & (estimate <= high), index=rows.index).where(rows.z.notna())
    rows = rows.drop(columns=[c for c in rows if c.startswith(("x_", "se_", "has_"))])
    first_columns = KEY + ["metric", "primary", "moved", "z", "z_scale", "covered"]
    rows = rows[first_columns + [c for c in rows if c not in first_columns]]
    return Agreement(rows, only, tuple(names), float(levels[0]))


def counts(agreement):
    """The figures the summary quotes."""
    rows, (s1, s2) = agreement.rows, (suffix(n) for n in agreement.names)
    z = rows.z.abs()
    level_1 = rows[f"confidence{s1}"].fillna(agreement.level) if f"confidence{s1}" in rows else agreement.level
    with_z = rows.z.notna()
    # For calibrated intervals of equal width the first's contains the second's estimate with
    # probability 2 * Phi(z_level / sqrt 2) - 1 (~83% at 95%).
    expected = 2 * norm.cdf(critical(level_1) / np.sqrt(2)) - 1
    return {
        "comparisons": len(rows),
        "agree": int((rows.moved == "same").sum()),
        "moved_between_decided": int(rows.moved.isin(["between decided", "holds <-> reversed"]).sum()),
        "holds_reversed": int((rows.moved == "holds <-> reversed").sum()),
        "to_or_from_inconclusive": int(rows.moved.isin(["to inconclusive", "from inconclusive"]).sum()),
        "inconclusive_1": int((rows[f"verdict{s1}"] == "inconclusive").sum()),
        "inconclusive_2": int((rows[f"verdict{s2}"] == "inconclusive").sum()),
        "with_interval": int(with_z.sum()),
        "no_interval": int((~with_z).sum()),
        "within_uncertainty": int((z <= agreement.threshold).sum()),
        "beyond_uncertainty": int((z > agreement.threshold).sum()),
        "covered": int(rows.covered.fillna(False).astype(bool).sum()),
        "covered_expected": float(np.mean(np.broadcast_to(expected, len(rows))[with_z])) if with_z.any() else np.nan,
        "within_10pct": int(((rows[f"ratio{s2}"] / rows[f"ratio{s1}"] - 1).abs() <= 0.10).sum()),
        "only_1": len(agreement.only[agreement.names[0]]),
        "only_2": len(agreement.only[agreement.names[1]]),
    }


def percent(part, whole):
    return f"{part} ({100 * part / whole:.1f}%)" if whole else f"{part}"


def summary_lines(agreement):
    """The comparison in a few aligned lines (stdout, summary.txt)."""
    c, (a, b) = counts(agreement), agreement.names
    n, m = c["comparisons"], c["with_interval"]
    calibrated = "~83% for calibrated 95% intervals of equal width"
    if np.isfinite(c["covered_expected"]) and abs(c["covered_expected"] - 0.834) > 0.005:
        calibrated += f"; {100 * c['covered_expected']:.0f}% at these intervals' levels"
    z = f"{agreement.threshold:.2f}"
    lines = [
        (f"comparisons measured in both {a} and {b}", f"{n}"),
        ("same verdict", percent(c["agree"], n)),
        ("moved between decided states", percent(c["moved_between_decided"], n)),
        ("  of which holds <-> reversed", percent(c["holds_reversed"], n)),
        ("moved to or from inconclusive", percent(c["to_or_from_inconclusive"], n)),
        (f"inconclusive in {a} / {b}", f"{c['inconclusive_1']} / {c['inconclusive_2']}"),
        (
            f"agree within their uncertainty (|z| <= {z})",
            f"{percent(c['within_uncertainty'], m)} of {m} with an interval on both sides "
            f"(~{100 * agreement.level:.0f}% if the intervals are calibrated)",
        ),
        ("no interval on one side or both (no z)", f"{c['no_interval']}"),
        (f"{a}'s interval contains {b}'s ratio", f"{percent(c['covered'], m)} of {m} ({calibrated})"),
        ("ratios within 10% of each other", percent(c["within_10pct"], n)),
        (f"measured in {a} only / {b} only", f"{c['only_1']} / {c['only_2']}"),
    ]
    width = max(len(label) for label, _ in lines) + 2
    return [f"{label + ':':<{width}}{value}" for label, value in lines]


def worst(agreement):
    """The matched comparisons that differ beyond their uncertainty (|z| over the threshold) or
    whose decided verdict moved, the largest |z| first."""
    rows = agreement.rows
    moved = rows.moved.isin(["between decided", "holds <-> reversed"])
    differ = rows[(rows.z.abs() > agreement.threshold) | moved]
    return differ.assign(abs_z=differ.z.abs()).sort_values("abs_z", ascending=False, na_position="first")


# ---- what could not be matched ---------------------------------------------------------------


def platform_label(libtorch, version, device, front):
    name = f"libtorch {libtorch}" + (f" ({version})" if version != libtorch else "")
    return f"{name} on {device}" + ("" if front == "cpp" else f", {front} front")


def unmatched(agreement, first, second):
    """What one side measured and the other did not: one row per side, reason and claims, with
    the platforms concerned and how many comparisons (a wide run's absent releases share a row)."""
    out = []
    for name, own, other_name, other in (
        (agreement.names[0], agreement.only[agreement.names[0]], agreement.names[1], second),
        (agreement.names[1], agreement.only[agreement.names[1]], agreement.names[0], first),
    ):
        for (version, device, front, claim), rows in own.groupby(PLATFORM + ["claim"], sort=False):
            there = other[
                (other.version == version) & (other.device == device) & (other.front == front) & (other.claim == claim)
            ]
            if there.empty:
                why = f"the {other_name} did not run this platform or claim"
            elif (there.verdict == "not run").all():
                why = f"not run in the {other_name}: " + str(there.reason.iloc[0]).removeprefix("not run: ")
            else:
                why = f"cases or variants the {other_name} did not measure (another grid)"
            platform = (rows.libtorch.iloc[0], version, device, front)
            order = (device, front, version_key(platform[0]))
            out.append({"side": name, "order": order, "platform": platform, "claim": claim, "n": len(rows), "why": why})
    columns = ["side", "platforms", "claims", "comparisons", "why"]
    if not out:
        return pd.DataFrame(columns=columns)
    table = pd.DataFrame(out).sort_values(["side", "order", "claim"])
    per_platform = table.groupby(["side", "platform", "why"], sort=False).agg(
        claims=("claim", ", ".join), comparisons=("n", "sum")
    )
    merged = per_platform.reset_index().groupby(["side", "claims", "why"], sort=False)
    merged = merged.agg(platforms=("platform", lambda p: group_name(list(p))), comparisons=("comparisons", "sum"))
    return merged.reset_index()[columns]


def measured_on(claims):
    """'libtorch 1.8.1 and 2.13.0 on cpu' of a table's measured rows, and their devices."""
    keys = claims.loc[claims.verdict != "not run", ["libtorch"] + PLATFORM].drop_duplicates()
    keys = keys.assign(order=keys.libtorch.map(version_key)).sort_values(["device", "front", "order"])
    platforms = list(keys[["libtorch"] + PLATFORM].itertuples(index=False, name=None))
    return (group_name(platforms) if platforms else "nothing"), sorted(set(keys.device))


def nothing_in_common(agreement, first, second):
    """Why no comparison was matched, in words."""
    a, b = agreement.names
    (on_1, devices_1), (on_2, devices_2) = measured_on(first), measured_on(second)
    parts = [f"the {a} measured {on_1}", f"the {b} measured {on_2}"]
    text = "Nothing in common: " + "; ".join(parts) + "."
    if devices_1 and devices_2 and not set(devices_1) & set(devices_2):
        text += f" They share no device ({a}: {', '.join(devices_1)}; {b}: {', '.join(devices_2)})"
        absent = second[second.device.isin(devices_1) & (second.verdict == "not run")]
        if not absent.empty:
            reason = str(absent.reason.iloc[0]).removeprefix("not run: ")
            text += f": the {b}'s {', '.join(sorted(set(absent.device)))} runs were not run ({reason})"
        text += "."
    return text + f" Run the {b} where the {a} ran to compare them."
