"""How a claim's answer moves across libtorch releases: its trend comparison's ratio per release
(ordered by version number, not by text), one series per case family (claim 2: the row length
N; claim 3: the applications K; claim 1: the model), and the releases where it changed.

The change rule: between two neighbouring releases (in version order, among those measured),
a case *steps* when its intervals do not overlap; a family changes there when at least half of
its cases step, all in the same direction. A noisy but flat trend has overlapping intervals
and gives no change; the family's ratio at the two releases is its median case's, a value of
claims.csv."""

import numpy as np
import pandas as pd

from .comparisons import TOO_FEW_ROUNDS
from .samples import parse_params, version_key

CHANGE_COLUMNS = [
    "claim",
    "comparison",
    "device",
    "front",
    "family",
    "before",
    "after",
    "ratio_before",
    "ratio_after",
    "low_before",
    "high_before",
    "low_after",
    "high_after",
    "direction",
    "cases",
    "stepped",
    "case",  # the case quoted (its rows at `before` and `after` give the ratios and intervals)
]


def family_of(case, axis):
    return parse_params(case).get(axis)


def series(claims, comparison, family):
    """The comparison's measured rows with their family and release order."""
    rows = claims[(claims.comparison == comparison) & (claims.verdict != "not run")].copy()
    if rows.empty:
        return rows.assign(family=[], order=[])
    rows["family"] = rows["case"].map(lambda c: family_of(c, family))
    rows["order"] = rows["libtorch"].map(version_key)
    return rows


def typical(rows):
    """The median case of some rows (the lower of a middle pair): a real row of claims.csv."""
    ordered = rows.sort_values(["ratio", "case"], kind="stable")
    return ordered.iloc[(len(ordered) - 1) // 2]


def trusted(claims, spec):
    """The trend comparison's rows whose intervals the change rule may compare: a verdict
    withheld for too few processes has no interval to trust either."""
    rows = series(claims, spec["comparison"], spec["family"])
    if "reason" in rows:
        rows = rows[~rows.reason.astype(str).str.contains(TOO_FEW_ROUNDS, regex=False)]
    return rows


def changes(claims, claim_id, spec):
    """Every change of a claim's trend comparison between neighbouring releases, per device,
    front and family (CHANGE_COLUMNS)."""
    rows = trusted(claims, spec)
    out = []
    for (device, front, family), part in rows.groupby(["device", "front", "family"], sort=True):
        releases = sorted(part["libtorch"].unique(), key=version_key)
        for before, after in zip(releases, releases[1:], strict=False):
            a, b = part[part.libtorch == before], part[part.libtorch == after]
            both = a.merge(b, on=["case", "slow_variant", "fast_variant"], suffixes=("_a", "_b"))
            if both.empty:
                continue
            up = both.ci_low_b > both.ci_high_a
            down = both.ci_high_b < both.ci_low_a
            for direction, stepped in (("rose", up), ("fell", down)):
                if stepped.sum() * 2 >= len(both) and stepped.any():
                    # Shown by the median case among those that stepped, so that the two intervals
                    # quoted are ones that do not overlap (the family's median case may not have moved).
                    moved = both[stepped]
                    pick = moved.iloc[np.argsort(np.log(moved.ratio_b / moved.ratio_a).to_numpy(), kind="stable")]
                    case = pick.iloc[(len(pick) - 1) // 2]["case"]
                    ta, tb = a[a.case == case].iloc[0], b[b.case == case].iloc[0]
                    out.append(
                        {
                            "claim": claim_id,
                            "comparison": spec["comparison"],
                            "device": device,
                            "front": front,
                            "family": f"{spec['family']}={family}",
                            "before": before,
                            "after": after,
                            "ratio_before": ta.ratio,
                            "ratio_after": tb.ratio,
                            "low_before": ta.ci_low,
                            "high_before": ta.ci_high,
                            "low_after": tb.ci_low,
                            "high_after": tb.ci_high,
                            "direction": direction,
                            "cases": len(both),
                            "stepped": int(stepped.sum()),
                            "case": case,
                        }
                    )
    return pd.DataFrame(out, columns=CHANGE_COLUMNS)


def family_points(claims, spec):
    """Per device, front, family and release: the family's median case (its ratio and interval)."""
    rows = series(claims, spec["comparison"], spec["family"])
    points = [
        typical(g).to_dict() | {"family": fam}
        for (device, front, fam, _), g in rows.groupby(["device", "front", "family", "libtorch"], sort=True)
    ]
    frame = pd.DataFrame(points)
    if frame.empty:
        return frame
    frame["order"] = frame["libtorch"].map(version_key)
    return frame.sort_values(["device", "front", "family", "order"])
