"""The comparisons of the claim registry on the raw samples: for each claim, libtorch version,
device, front and case, the ratio of the comparison's metric with its bootstrap interval and
verdict (libtorch_bench.stats), as the rows of claims.csv. The sampling driver asks the same
functions whether a cell is decided, so its stop and the report's verdict agree."""

import json
from pathlib import Path

import numpy as np
import pandas as pd

from . import rates
from .registry import is_control, is_pattern, matches
from .samples import HARNESS_VARIANT, parse_params
from .stats import (
    comparison_seed,
    is_spike,
    look_confidence,
    paired_matrices,
    ratio_with_ci,
    resampling_unit,
    round_matrix,
    verdict_of,
)

# The reason of a verdict withheld for too few processes; its interval cannot be trusted either.
TOO_FEW_ROUNDS = "fewer than report.min_rounds"

CLAIM_COLUMNS = [
    "claim",
    "comparison",
    "metric",
    "primary",
    "libtorch",
    "version",
    "device",
    "front",
    "case",
    "slow_variant",
    "fast_variant",
    "ratio",
    "ci_low",
    "ci_high",
    "verdict",
    "reason",
    "rounds",
    "n_slow",
    "n_fast",
    "median_slow_ns",
    "median_fast_ns",
    "p99_slow_ns",
    "p99_fast_ns",
    "max_slow_ns",
    "max_fast_ns",
    "spikes_slow",
    "spikes_fast",
    "harness_ns",
    "resampled",
    "question",
    # appended with adaptive sampling: processes resampled, why the cell stopped, the level
    "processes",
    "stop",
    "confidence",
    # appended with exact statistics for spikes (metric spikes only, else empty): each rate per
    # call and the largest the run could have missed (one-sided exact bound at `confidence`);
    # the excess rate slow - fast and its Newcombe interval, on which the verdict rests
    "rate_slow",
    "rate_slow_high",
    "rate_fast",
    "rate_fast_high",
    "excess",
    "excess_low",
    "excess_high",
]


# ---- from comparisons to rows ---------------------------------------------------------------


def expand_pairs(comparison, variants, medians, floor):
    """(slow, fast) variant pairs of a comparison in one case, or (None, reason) when a named
    variant is missing. `medians` maps variant -> median ns (to find the fastest)."""
    slow_spec, fast_spec = comparison["slow"], comparison["fast"]
    measured = [v for v in variants if v != HARNESS_VARIANT]

    def resolve(spec):
        if isinstance(spec, dict):
            return None  # fastest_of: resolved per slow variant below
        if is_pattern(spec):
            return [v for v in measured if matches(spec, v)]
        return [spec] if spec in measured else []

    fast_names = resolve(fast_spec)
    if slow_spec == "each":  # the technique's own variants: not the floor, the harness or a control
        excluded = {floor, HARNESS_VARIANT} | set(fast_names or [])
        slow_names = [v for v in measured if v not in excluded and not is_control(v)]
    else:
        slow_names = resolve(slow_spec)
    if not slow_names:
        return None, f"variant {slow_spec} was not measured"
    if fast_names is not None and not fast_names:
        return None, f"variant {fast_spec} was not measured"
    pairs = []
    for slow in slow_names:
        if fast_names is None:
            candidates = [v for v in measured if any(matches(p, v) for p in fast_spec["fastest_of"]) and v != slow]
            if not candidates:
                continue
            pairs.append((slow, min(candidates, key=lambda v: (medians[v], v))))
        else:
            pairs.extend((slow, fast) for fast in fast_names if fast != slow)
    if not pairs:
        return None, f"no pair of variants for {slow_spec} vs {fast_spec}"
    return pairs, ""


def case_matches(where, params):
    if not where:
        return True
    parsed = parse_params(params)
    return all(str(parsed.get(key)) in {str(v) for v in values} for key, values in where.items())


def _describe(spec):
    if isinstance(spec, dict):
        return "fastest of " + ", ".join(spec["fastest_of"])
    return spec


RESAMPLED = {
    "samples": "calls, each variant independently",
    "rounds": "processes, then rounds; paired",
    "counts": "none: spike counts per call (exact and score intervals)",
}


def identity(comparison, version, device, libtorch, front, case):
    """The columns that say which comparison, platform and case a row is about."""
    return {
        "claim": comparison["claim"],
        "comparison": comparison["id"],
        "metric": comparison["metric"],
        "primary": bool(comparison.get("primary", False)),
        "libtorch": libtorch,
        "version": version,
        "device": device,
        "front": front,
        "case": case,
        "question": comparison.get("question", ""),
    }


def not_run_row(comparison, version, device, libtorch, front, reason, case="all"):
    row = {c: np.nan for c in CLAIM_COLUMNS}
    row.update(identity(comparison, version, device, libtorch, front, case))
    row.update(
        slow_variant=_describe(comparison["slow"]),
        fast_variant=_describe(comparison["fast"]),
        verdict="not run",
        reason=reason,
    )
    return row


def variant_stats(ns, spike_factor):
    ns = np.asarray(ns, dtype=float)
    median = float(np.median(ns))
    return {
        "n": int(ns.size),
        "median": median,
        "p99": float(np.quantile(ns, 0.99)),
        "max": float(ns.max()),
        "spikes": int(np.count_nonzero(is_spike(ns, median, spike_factor))),
    }


def compare_case(comparison, case_samples, key, settings, floor, looks=1, stop="fixed"):
    """Rows of one comparison in one cell (key: version, device, libtorch, front, params).
    `looks`: how many times the cell's sampling looked at it (each interval's level is split
    over them); `stop`: why its sampling stopped (decided, budget; fixed: a fixed schedule)."""
    version, device, libtorch, front, params = key
    spike_factor = float(settings["spike_factor"])
    by_variant = {v: g for v, g in case_samples.groupby("variant", sort=True)}
    medians = {v: float(np.median(g["ns"])) for v, g in by_variant.items()}
    pairs, reason = expand_pairs(comparison, sorted(by_variant), medians, floor)
    if pairs is None:
        return [not_run_row(comparison, version, device, libtorch, front, f"not run: {reason} in this case", params)]
    harness = medians.get(HARNESS_VARIANT, np.nan)
    process_of = case_samples.groupby("round")["process"].first()
    confidence = look_confidence(float(settings["confidence_level"]), looks)
    matrices = {}

    def matrix(variant):
        if variant not in matrices:
            g = by_variant[variant]
            matrices[variant] = round_matrix(g["round"].to_numpy(), g["call"].to_numpy(), g["ns"].to_numpy())
        return matrices[variant]

    rows = []
    for slow, fast in pairs:
        s, f = by_variant[slow], by_variant[fast]
        a, b = variant_stats(s["ns"], spike_factor), variant_stats(f["ns"], spike_factor)
        rounds_index = matrix(slow).index.union(matrix(fast).index)
        clusters = process_of.reindex(rounds_index).to_numpy()
        units = len(set(clusters))
        counted = {}
        if comparison["metric"] == "spikes":  # a count over calls: exact and score intervals
            ratio, low, high, verdict, why, counted = spike_comparison(a, b, confidence, settings)
        else:
            slow_m, fast_m = paired_matrices(matrix(slow), matrix(fast))
            seed = comparison_seed(settings["seed"], comparison["id"], version, device, front, params, slow, fast)
            ratio, low, high = ratio_with_ci(
                slow_m,
                fast_m,
                comparison["metric"],
                n_resamples=int(settings["n_resamples"]),
                confidence_level=confidence,
                method=settings["method"],
                seed=seed,
                spike_factor=spike_factor,
                clusters=clusters,
            )
            if resampling_unit(comparison["metric"]) == "rounds" and units < int(settings["min_rounds"]):
                verdict = "inconclusive"
                why = f"only {units} processes ({TOO_FEW_ROUNDS} = {settings['min_rounds']})"
            elif low == high:  # every replicate equal: no verdict rests on a one-point interval
                verdict = "inconclusive"
                why = f"{ONE_POINT} [{low:.3g}, {high:.3g}]: the samples do not vary enough to bound it"
            else:
                verdict, why = verdict_of(low, high, float(settings["holds_above"]), float(settings["reversed_below"]))
        row = identity(comparison, version, device, libtorch, front, params)
        row.update(
            slow_variant=slow,
            fast_variant=fast,
            ratio=ratio,
            ci_low=low,
            ci_high=high,
            verdict=verdict,
            reason=why,
            rounds=len(rounds_index),
            n_slow=a["n"],
            n_fast=b["n"],
            median_slow_ns=a["median"],
            median_fast_ns=b["median"],
            p99_slow_ns=a["p99"],
            p99_fast_ns=b["p99"],
            max_slow_ns=a["max"],
            max_fast_ns=b["max"],
            spikes_slow=a["spikes"],
            spikes_fast=b["spikes"],
            harness_ns=harness,
            resampled=RESAMPLED[resampling_unit(comparison["metric"])],
            processes=units,
            stop=stop,
            confidence=confidence,
            **counted,
        )
        rows.append({c: row.get(c, np.nan) for c in CLAIM_COLUMNS})
    return rows


ONE_POINT = "the interval is a single point"


def spike_comparison(slow, fast, confidence, settings):
    """(ratio, low, high, verdict, reason, rate columns) of two variants' spike counts: the
    verdict from the excess rate's score interval against report.spike_rate_of_interest; the
    ratio of the rates with its exact conditional interval (libtorch_bench.rates)."""
    counts = (slow["spikes"], slow["n"], fast["spikes"], fast["n"])
    excess, low, high = rates.excess_interval(*counts, confidence)
    verdict, why = rates.excess_verdict(low, high, float(settings["spike_rate_of_interest"]))
    ratio, ratio_low, ratio_high = rates.ratio_interval(*counts, confidence)
    counted = {
        "rate_slow": slow["spikes"] / slow["n"],
        "rate_slow_high": rates.upper_bound(slow["spikes"], slow["n"], confidence),
        "rate_fast": fast["spikes"] / fast["n"],
        "rate_fast_high": rates.upper_bound(fast["spikes"], fast["n"], confidence),
        "excess": excess,
        "excess_low": low,
        "excess_high": high,
    }
    return ratio, ratio_low, ratio_high, verdict, why, counted


def sampling_of(record):
    """(looks, {case: its sampling record}) of a run from its provenance JSON: how often its
    cells were looked at, and where and why each stopped (a cell's own `looks` where its run's
    scenarios have different schedules, claim 1). A fixed schedule: one look."""
    sampling = json.loads(Path(record.json).read_text()).get("sampling") if Path(record.json).is_file() else None
    if not sampling:
        return 1, {}
    return len(sampling["looks"]), sampling.get("cells", {})


def platform_rows(comparison, claim, version, device, runs, cases, settings, configured_techniques, libtorch):
    """The rows of one comparison on one platform: per front, a row per case and pair, or one
    `not run` row with its reason."""
    technique = claim.technique

    def not_run(libtorch, front, reason):
        return not_run_row(comparison, version, device, libtorch, front, f"not run: {reason}")

    technique_runs = runs[(runs.version == version) & (runs.device == device) & (runs.technique == technique)]
    if technique_runs.empty:
        why = (
            "it is not enabled in this config" if technique not in configured_techniques else "no run record was found"
        )
        return [not_run(libtorch, "cpp", f"technique {technique} was not measured ({why})")]
    rows = []
    for record in technique_runs.sort_values("front").itertuples(index=False):
        if record.status != "ok":
            rows.append(not_run(record.libtorch, record.front, record.reason or record.status))
            continue
        matched = False
        looks, stops = sampling_of(record)
        for (case_libtorch, params), case_samples in cases.get((version, device, technique, record.front), []):
            if case_matches(comparison.get("where"), params):
                matched = True
                key = (version, device, case_libtorch, record.front, params)
                cell = stops.get(params, {})
                rows.extend(
                    compare_case(
                        comparison,
                        case_samples,
                        key,
                        settings,
                        claim.floor,
                        cell.get("looks", looks),
                        cell.get("stop", "fixed"),
                    )
                )
        if not matched:
            rows.append(not_run(record.libtorch, record.front, f"no measured case matches {comparison.get('where')}"))
    return rows


def compare_all(samples, runs, registry, settings, configured_techniques):
    """Every comparison on every platform (version, device) the pipeline ran, per front: one
    row per case and pair, or one `not run` row with its reason where there is nothing to compare."""
    platforms = sorted(set(runs[["version", "device"]].itertuples(index=False, name=None)))
    platform_libtorch = runs.groupby("version")["libtorch"].first().to_dict()
    cases = {
        key: list(group.groupby(["libtorch", "params"], sort=True))
        for key, group in samples.groupby(["version", "device", "technique", "front"], sort=True)
    }
    rows = []
    for comparison in registry.comparisons:
        claim = registry.claims[comparison["claim"]]
        for version, device in platforms:
            rows += platform_rows(
                comparison,
                claim,
                version,
                device,
                runs,
                cases,
                settings,
                configured_techniques,
                platform_libtorch.get(version, version),
            )
    return pd.DataFrame(rows, columns=CLAIM_COLUMNS)
