"""The verdicts shaped for the page: one summary per comparison and platform, the
at-a-glance table, the per-claim answer, and each comparison's table of cases."""

import numpy as np

from ..samples import parse_params, version_key
from . import format as fmt

# The badge class of each verdict (the CSS in workflow/report/page.html.jinja2).
VERDICT_CLASS = {"holds": "holds", "reversed": "reversed", "no clear difference": "unclear", "not run": "notrun"}


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
    counts = measured["verdict"].value_counts()
    n, holds, rev = len(measured), int(counts.get("holds", 0)), int(counts.get("reversed", 0))
    ratios = measured["ratio"][np.isfinite(measured["ratio"]) & (measured["ratio"] > 0)]
    geo = float(np.exp(np.log(ratios).mean())) if len(ratios) else float("nan")
    spread = f"{fmt.ratio(ratios.min())}–{fmt.ratio(ratios.max())}" if len(ratios) > 1 else fmt.ratio(geo)
    if holds == n:
        word, verdict = "holds", "holds"
    elif rev == n:
        word, verdict = "reversed", "reversed"
    elif holds and rev:
        word, verdict = f"mixed: holds in {holds}, reversed in {rev} of {n}", "mixed"
    elif holds:
        word, verdict = f"holds in {holds} of {n}", "holds" if holds * 2 > n else "mixed"
    elif rev:
        word, verdict = f"reversed in {rev} of {n}", "reversed" if rev * 2 > n else "mixed"
    else:
        word, verdict = "no clear difference", "no clear difference"
    return {
        "word": word,
        "class": badge_class(verdict),
        "text": f"ratio {spread} (geometric mean {fmt.ratio(geo)}) over {n} case(s)",
        "n": n,
        "holds": holds,
        "reversed": rev,
        "geo": geo,
    }


def glance(claims, registry):
    """The at-a-glance table: a row per primary comparison, a column per platform."""
    primary = claims[is_primary(claims.primary)]
    platforms = ordered_platforms(claims)
    rows = []
    for claim in registry.claims.values():
        part = primary[primary.claim == claim.id]
        title = f"Claim {claim.id}: {claim.title}"
        if part.empty or (part.verdict == "not run").all():  # one row, the reason per platform
            entries = [
                {"word": "not run", "class": "notrun", "text": rows_of(part, p)["reason"].iloc[0]}
                if len(rows_of(part, p))
                else None
                for p in platforms
            ]
            rows.append({"title": title, "sub": "", "entries": entries})
            continue
        for comparison in registry.comparisons_of(claim.id):
            if not comparison.get("primary"):
                continue
            chosen = part[part.comparison == comparison["id"]]
            entries = [summarize(rows_of(chosen, p)) if len(rows_of(chosen, p)) else None for p in platforms]
            rows.append({"title": title, "sub": f"{comparison['id']} ({comparison['metric']})", "entries": entries})
    return {"columns": [platform_label(p[0], p[2], p[3]) for p in platforms], "rows": rows}


def answer(claims, claim_id, registry):
    """Per platform, what the claim's primary comparisons say; contradictions said plainly."""
    out = []
    rows = claims[claims.claim == claim_id]
    primaries = [c for c in registry.comparisons_of(claim_id) if c.get("primary")]
    for platform in ordered_platforms(rows):
        part = rows_of(rows, platform)
        label = f"libtorch {platform[0]} on {platform[2]}" + ("" if platform[3] == "cpp" else f" ({platform[3]} front)")
        if part[is_primary(part.primary)].verdict.eq("not run").all():
            out.append({"label": label, "not_run": part["reason"].iloc[0].removeprefix("not run: ").rstrip(".")})
            continue
        bits, contradicted, supported = [], False, False
        for comparison in primaries:
            s = summarize(part[part.comparison == comparison["id"]])
            if s["word"] == "not run":
                bits.append(f"{comparison['metric']}: not run ({s['text'].removeprefix('not run: ')})")
                continue
            contradicted |= s.get("reversed", 0) > 0
            supported |= s.get("holds", 0) > 0
            bits.append(f"{comparison['metric']}: {s['word']}, {s['text']}")
        lead = ""
        if contradicted:  # and where other cases bear it out, say both
            lead = (
                "The data is mixed here: some cases bear the claim out, others contradict it."
                if supported
                else "The data contradicts the claim here."
            )
        out.append({"label": label, "lead": lead, "text": "; ".join(bits)})
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
            if tail_metric:
                detail = (
                    f"p99 {fmt.duration(r.p99_slow_ns)} vs {fmt.duration(r.p99_fast_ns)}; max "
                    f"{fmt.duration(r.max_slow_ns)} vs {fmt.duration(r.max_fast_ns)}; spikes {int(r.spikes_slow)} "
                    f"vs {int(r.spikes_fast)} of {int(r.n_slow)}"
                )
            else:
                detail = f"{fmt.duration(r.median_slow_ns)} vs {fmt.duration(r.median_fast_ns)}, {int(r.rounds)} rounds"
            entries.append(
                {
                    "ratio": fmt.ratio(r.ratio),
                    "interval": f"[{r.ci_low:.3g}, {r.ci_high:.3g}]",
                    "verdict": r.verdict,
                    "class": badge_class(r.verdict),
                    "detail": detail,
                }
            )
        lines.append({"case": pair.case, "slow": pair.slow_variant, "fast": pair.fast_variant, "entries": entries})
    return {"columns": [platform_label(p[0], p[2], p[3]) for p in platforms], "rows": lines, "not_run": not_run}
