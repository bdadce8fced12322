"""The verdicts shaped for the page: one summary per comparison and platform, the
at-a-glance table, the per-claim answer, and each comparison's table of cases."""

import numpy as np

from .. import format as fmt
from ..samples import parse_params, readable_case, version_key

WIDE = 4  # more platforms than this: one row per case and platform, not a column per platform

# The badge class of each verdict (the CSS in workflow/report/page.html.jinja2).
VERDICT_CLASS = {
    "holds": "holds",
    "reversed": "reversed",
    "equivalent": "equivalent",
    "inconclusive": "unclear",
    "not run": "notrun",
}
ORDER = ("holds", "equivalent", "reversed", "inconclusive")


def badge_class(verdict):
    return VERDICT_CLASS.get(verdict, "mixed")


def is_primary(series):
    return series.astype(str).str.lower().isin(["true", "1"])


def platform_label(libtorch, device, front):
    return f"{libtorch} · {device}" + ("" if front == "cpp" else f" · {front}")


def ordered_platforms(table):
    """(libtorch, version, device, front) of the table's rows, by real libtorch version."""
    keys = table[["libtorch", "version", "device", "front"]].drop_duplicates()
    keys = keys.assign(order=keys["libtorch"].map(version_key)).sort_values(["order", "version", "device", "front"])
    return [tuple(k) for k in keys[["libtorch", "version", "device", "front"]].itertuples(index=False)]


def rows_of(table, platform):
    return table[
        (table.libtorch == platform[0])
        & (table.version == platform[1])
        & (table.device == platform[2])
        & (table.front == platform[3])
    ]


def summarize(rows):
    """One verdict for a comparison on one platform, from its per-case verdicts."""
    measured = rows[rows.verdict != "not run"]
    if measured.empty:
        reasons = rows["reason"].dropna().unique()
        return {"word": "not run", "class": "notrun", "text": reasons[0] if len(reasons) else "not run"}
    counts = {v: int((measured.verdict == v).sum()) for v in ORDER}
    n = len(measured)
    spread = value_spread(measured)
    present = [v for v in ORDER if counts[v]]
    if len(present) == 1:
        word, verdict = present[0], present[0]
    else:
        word = ", ".join(f"{v} in {counts[v]}" for v in present) + f" of {n}"
        majority = [v for v in present if counts[v] * 2 > n]
        verdict = "mixed" if counts["holds"] and counts["reversed"] else (majority[0] if majority else "inconclusive")
    return {
        "word": word,
        "class": badge_class(verdict),
        "text": f"{spread} over {n} case{'s' if n > 1 else ''}",
        "n": n,
        "holds": counts["holds"],
        "reversed": counts["reversed"],
    }


def is_count(rows):
    """Spike comparisons: their verdict rests on the excess rate, not on a ratio."""
    return "excess" in rows and (rows["metric"] == "spikes").all()


def value_spread(rows):
    """'1.2×–3.4×' of the ratios, or for spike rows '+0%–+2.1% spiking' of the excess rates."""
    column, show = ("excess", lambda v: fmt.rate(v, signed=True)) if is_count(rows) else ("ratio", fmt.ratio)
    values = rows[column][np.isfinite(rows[column])]
    if values.empty:
        return "–"
    low, high = values.min(), values.max()
    spread = show(low) if low == high else f"{show(low)}–{show(high)}"
    return spread + (" more calls spiking" if column == "excess" else "")


def spike_counts(r):
    """'0 of 640 calls, at most 0.47% vs 1 of 640, at most 0.74% (at 98.3%)': each side's spikes and
    the largest rate the run could have missed (the one-sided exact bound at the row's level)."""
    level = f"{100 * r.confidence:.3g}%"
    return (
        f"spikes {int(r.spikes_slow)} of {int(r.n_slow)} calls, at most {fmt.rate(r.rate_slow_high)}, vs "
        f"{int(r.spikes_fast)} of {int(r.n_fast)}, at most {fmt.rate(r.rate_fast_high)} (at {level})"
    )


def column_label(comparison):
    """'p99 · scenario steady', 'median · vs indices_index_select': what tells a column apart."""
    where = "; ".join(f"{k} {', '.join(map(str, v))}" for k, v in (comparison.get("where") or {}).items())
    fast = comparison["fast"] if isinstance(comparison["fast"], str) else ""
    return " · ".join(part for part in (comparison["metric"].replace("_", " "), where or f"vs {fast}") if part)


def glance(claims, registry):
    """The at-a-glance table: a row per platform, a column per primary comparison (grouped by
    claim); a platform where nothing ran is one row with its reason, said once."""
    primary = claims[is_primary(claims.primary)]
    columns = [
        (claim, c)
        for claim in registry.claims.values()
        for c in registry.comparisons_of(claim.id)
        if c.get("primary") and not c.get("control")
    ]
    rows = []
    for platform in ordered_platforms(claims):
        part = rows_of(primary, platform)
        label = platform_label(platform[0], platform[2], platform[3])
        if part.empty or (part.verdict == "not run").all():
            reason = rows_of(claims, platform)["reason"].dropna()
            rows.append(
                {
                    "platform": label,
                    "not_run": reason.iloc[0].removeprefix("not run: ") if len(reason) else "nothing was measured",
                    "entries": [],
                }
            )
            continue
        entries = []
        for _, comparison in columns:
            chosen = part[part.comparison == comparison["id"]]
            entries.append(summarize(chosen) if len(chosen) else None)
        rows.append({"platform": label, "not_run": None, "entries": entries})
    groups = {}
    for claim, _ in columns:
        groups.setdefault(claim.id, {"claim": claim.id, "title": claim.title, "span": 0})["span"] += 1
    heads = [{"claim": claim.id, "id": c["id"], "label": column_label(c)} for claim, c in columns]
    return {"groups": list(groups.values()), "columns": heads, "rows": rows}


def compact_not_run(rows, platforms):
    """A wide run's glance: the platforms of one device where nothing ran for the same reason
    (every release on a machine without a GPU) as one row, 'cuda · 1.8.1 to 2.15.0 (23)'."""
    groups, out = {}, []
    for row, platform in zip(rows, platforms, strict=True):
        if row["not_run"] is None:
            out.append(row)
            continue
        key = (platform[2], platform[3], row["not_run"])
        if key not in groups:
            groups[key] = {**row, "versions": []}
            out.append(groups[key])
        groups[key]["versions"].append(platform[0])
    for (device, front, _), row in groups.items():
        versions = row.pop("versions")
        if len(versions) > 1:
            where = f"{versions[0]} to {versions[-1]} ({len(versions)})"
            row.update(platform=f"{device}{'' if front == 'cpp' else ' · ' + front} · {where}", href=None)
    return out


def case_order(case):
    """Cases in numeric order of their parameters (B=1 before B=16), text after numbers."""
    return tuple(
        (0, v, "") if isinstance(v, (int, float)) else (1, 0, str(v)) for _, v in sorted(parse_params(case).items())
    )


def comparison_table(claims, comparison):
    """The cases of one comparison, a column per platform that measured it; platforms where
    nothing ran are listed once under the table."""
    rows = claims[claims.comparison == comparison["id"]]
    if rows.empty:
        return None
    all_platforms = ordered_platforms(rows)
    measured = rows[rows.verdict != "not run"]
    platforms = [p for p in all_platforms if len(rows_of(measured, p))]
    not_run = [
        f"{platform_label(p[0], p[2], p[3])}: {rows_of(rows, p)['reason'].iloc[0]}"
        for p in all_platforms
        if (rows_of(rows, p).verdict == "not run").all()
    ]
    pairs = measured[["case", "slow_variant", "fast_variant"]].drop_duplicates()
    pairs = pairs.assign(order=pairs["case"].map(case_order)).sort_values(["order", "slow_variant", "fast_variant"])
    tail_metric = comparison["metric"] in ("p99", "max", "spikes")
    lines = []
    for pair in pairs.itertuples(index=False):
        entries = []
        for platform in platforms:
            part = rows_of(rows, platform)
            r = part[
                (part.case == pair.case)
                & (part.slow_variant == pair.slow_variant)
                & (part.fast_variant == pair.fast_variant)
            ]
            if r.empty:
                reason = part["reason"].iloc[0] if len(part) and (part.verdict == "not run").all() else ""
                entries.append({"not_run": reason} if reason else None)
                continue
            r = r.iloc[0]
            if r.verdict == "not run":
                entries.append({"not_run": r.reason})
                continue
            ratio, interval = fmt.ratio(r.ratio), f"[{r.ci_low:.3g}, {r.ci_high:.3g}]"
            if comparison["metric"] == "spikes":  # the verdict rests on the excess rate
                ratio = fmt.rate(r.excess, signed=True)
                interval = f"[{fmt.rate(r.excess_low, signed=True)}, {fmt.rate(r.excess_high, signed=True)}]"
                detail = spike_counts(r)
            elif tail_metric:
                detail = (
                    f"p99 {fmt.duration(r.p99_slow_ns)} vs {fmt.duration(r.p99_fast_ns)} over {int(r.n_slow)} "
                    f"and {int(r.n_fast)} calls; max {fmt.duration(r.max_slow_ns)} vs {fmt.duration(r.max_fast_ns)}"
                )
            else:
                detail = f"{fmt.duration(r.median_slow_ns)} vs {fmt.duration(r.median_fast_ns)}, {int(r.rounds)} rounds"
            entries.append(
                {
                    "ratio": ratio,
                    "interval": interval,
                    "verdict": r.verdict,
                    "class": badge_class(r.verdict),
                    "detail": detail,
                }
            )
        lines.append(
            {"case": readable_case(pair.case), "slow": pair.slow_variant, "fast": pair.fast_variant, "entries": entries}
        )
    columns = [platform_label(p[0], p[2], p[3]) for p in platforms]
    if len(columns) > WIDE:  # long: a row per case and platform
        lines = [
            {**line, "case": f"{line['case']} · {column}", "entries": [entry]}
            for line in lines
            for column, entry in zip(columns, line["entries"], strict=True)
            if entry
        ]
        columns = [
            "excess spike rate [interval], verdict" if comparison["metric"] == "spikes" else "ratio [interval], verdict"
        ]
    return {"columns": columns, "rows": lines, "not_run": not_run}
