"""A claim's answer across libtorch releases, in plain words: where its trend comparison moved
(the change rule of trend.py), which side of the comparison moved there, and where it went
after; or that it moved nowhere beyond its intervals. Said only where TREND_RELEASES releases
or more were measured: fewer make no trend, and the findings quote each release instead.

The sentences are the claim's `findings: across:` rules in the registry (change, flat, untold,
and the names of its slow and fast side); what fills them is decided here, by rule:
- a change is told by its family's first step, with what happened after it: the later steps
  (by release), or that every later release's interval of the quoted case overlaps the one
  after the step ("stayed there"), or the release furthest beyond it ("drifted"); a family
  whose first step is where a family told before it stepped the same way is told by the shorter
  `also` sentence, where the registry gives one;
- which side moved compares each side's time in claims.csv (the comparison's own metric) at
  the two releases: a side that moved by less than SIDE_TOLERANCE did not move. Where the two
  times move the ratio the other way than the paired ratio did, nothing is said of the sides.
Every number is a value of claims.csv, printed as the page prints it."""

import numpy as np

from . import format as fmt
from . import trend
from .samples import version_key

TREND_RELEASES = 3  # fewer releases make no trend: their numbers are said release by release
MOST_FAMILIES = 2  # the families that moved most are told; the trend figure shows every change
SIDE_TOLERANCE = 0.1  # the width of the default band [0.9091, 1.1]: less is no move of a side
SIDE_TIMES = {"median": "median", "p99": "p99", "max": "max"}  # the metric's own time per side in claims.csv


def releases_of(platforms):
    return sorted({p[0] for p in platforms}, key=version_key)


def across_sentences(claim, rules, rows, platforms):
    """The claim's cross-release paragraph as sentences; [] where it has no `across` rules or
    fewer than TREND_RELEASES releases were measured."""
    words = rules.get("across")
    releases = releases_of(platforms)
    if not claim.trend or not words or len(releases) < TREND_RELEASES:
        return []
    usable = trend.trusted(rows, claim.trend)
    if len(usable) == 0 or usable.groupby(["device", "front"])["libtorch"].nunique().max() < TREND_RELEASES:
        # too few releases with an interval to trust (too few processes each) to follow it by
        return [words["untold"].format(first=releases[0], last=releases[-1])] if "untold" in words else []
    found = trend.changes(rows, claim.id, claim.trend)
    if found.empty:
        told_releases = sorted(usable["libtorch"].unique(), key=version_key)
        return [words["flat"].format(first=told_releases[0], last=told_releases[-1])]
    found = found.assign(
        size=(np.log(found.ratio_after) - np.log(found.ratio_before)).abs(),
        order=found["after"].map(version_key),
    )
    series = [g.sort_values("order") for _, g in found.groupby(["device", "front", "family"], sort=False)]
    series.sort(key=lambda g: -g["size"].max())
    prefixed = len({(g.device.iloc[0], g.front.iloc[0]) for g in series}) > 1
    out, said = [], set()
    for g in series[:MOST_FAMILIES]:
        first = g.iloc[0]
        step = (first.device, first.front, first.after, first.direction)
        # a family that stepped where one already told did is told shortly (`also`), without its sides
        text = told_change(words.get("also", words["change"]) if step in said else words["change"], words, g, usable)
        said.add(step)
        where = first.device + ("" if first.front == "cpp" else f" {first.front}")
        out.append(f"On {where}: {text}" if prefixed else text)
    rest = sum(len(g) for g in series[MOST_FAMILIES:])
    if rest:
        out.append(f"{rest} more change{'s are' if rest > 1 else ' is'} in the trend figure.")
    return out


def ratio_text(row):
    return f"{fmt.ratio(row.ratio)} [{row.ci_low:.3g}, {row.ci_high:.3g}]"


def told_change(sentence, words, steps, usable):
    """One family's changes in the sentence: its first step, then what followed."""
    c = steps.iloc[0]
    part = usable[(usable.device == c.device) & (usable.front == c.front) & (usable.case == c.case)]
    at = {r: g.iloc[0] for r, g in part.groupby("libtorch")}
    before, after = at[c.before], at[c.after]
    return sentence.format(
        family=c.family,
        value=c.family.split("=", 1)[1],
        direction=c.direction,
        before=c.before,
        after=c.after,
        ratio_before=ratio_text(before),
        ratio_after=ratio_text(after),
        because=because(words, c.direction, before, after),
        since=since(steps, after, [at[r] for r in sorted(at, key=version_key) if version_key(r) > c.order]),
    )


def since(steps, after, later):
    """What the family did after its first step: ', then fell back at 2.0.1', ', and stayed
    there through 2.15.0', ', then drifted to 5.2× [..] on 2.9.1', or '' (the last release)."""
    if len(steps) > 1:
        moves, previous = [], steps.iloc[0].direction
        for r in steps.iloc[1:].itertuples(index=False):
            moves.append(f"{r.direction} {'again' if r.direction == previous else 'back'} at {r.after}")
            previous = r.direction
        return ", then " + fmt.and_list(moves)
    if not later:
        return ""
    apart = [r for r in later if r.ci_low > after.ci_high or r.ci_high < after.ci_low]
    if not apart:
        return f", and stayed there through {later[-1].libtorch}"
    furthest = max(apart, key=lambda r: abs(np.log(r.ratio / after.ratio)))
    return f", then drifted to {ratio_text(furthest)} on {furthest.libtorch}"


def because(words, direction, before, after):
    """', because one from_blob got faster (430 ns → 120 ns)': the side whose time moved, or
    both, from the comparison's own times at the two releases; '' where they cannot tell."""
    column = SIDE_TIMES.get(str(before.metric))
    if column is None:
        return ""
    times = {side: (before[f"{column}_{side}_ns"], after[f"{column}_{side}_ns"]) for side in ("slow", "fast")}
    if not all(np.isfinite(v) and v > 0 for pair in times.values() for v in pair):
        return ""
    change = {side: b / a for side, (a, b) in times.items()}
    if (change["slow"] / change["fast"] > 1) != (direction == "rose"):
        return ""  # the two times tell the other story than the paired ratio: say nothing of them
    moved = [side for side in ("slow", "fast") if abs(np.log(change[side])) > np.log1p(SIDE_TOLERANCE)]
    name = {side: words.get(side, str(before[f"{side}_variant"])) for side in ("slow", "fast")}

    def went(side):
        return "faster" if change[side] < 1 else "slower"

    def times_of(side):
        a, b = times[side]
        return f"({fmt.duration(a)} → {fmt.duration(b)})"

    if len(moved) == 1:
        (side,) = moved
        return f", because {name[side]} got {went(side)} {times_of(side)}"
    if not moved:
        return ""
    if went("slow") != went("fast"):
        return (
            f", because {name['slow']} got {went('slow')} {times_of('slow')} "
            f"and {name['fast']} {went('fast')} {times_of('fast')}"
        )
    more, less = sorted(moved, key=lambda side: -abs(np.log(change[side])))
    return f", because {name[more]} got {went(more)} {times_of(more)} more than {name[less]} {times_of(less)}"
