"""The comparisons of workflow/resources/comparisons.yaml on the raw samples: for each claim,
libtorch version, device, front and case, the ratio metric(slow) / metric(fast) with a
bootstrap confidence interval and a verdict computed from the interval.

What is resampled depends on what the metric describes:
- medians, first calls, per-process totals: whole rounds, paired. The harness interleaves
  the variants of a case within each round (A B C, B C A, ...), so one round of every
  variant shares the machine's state at that moment, and calls within a round are not
  independent. A replicate draws R round indices with replacement and takes *both*
  variants' samples from those rounds, so a slow moment of the machine lands on both sides
  of the ratio, as it did in the measurement. For cold start a round is a fresh process.
- the tail (p99, max, spike rate): single calls, each variant independently. The tail is
  a property of individual calls; spikes are rare and cluster where their cause puts them
  (the first call with a new shape falls in the first round), so resampling rounds would
  make the interval hinge on which round a handful of spikes happened to fall in.

The seed of each interval is derived from the report seed and the comparison's identity
(not from its position), so the same data always gives the same intervals and verdicts.
"""

import fnmatch
import sys
import warnings
import zlib

import numpy as np
import pandas as pd
from scipy import stats

from report_data import HARNESS_VARIANT, load_comparisons, parse_params, read_runs, read_samples

METRICS = ("median", "p99", "max", "spikes", "first_call", "process_total")
VERDICTS = ("holds", "reversed", "no clear difference", "not run")
CLAIM_COLUMNS = [
    "claim", "comparison", "metric", "primary", "libtorch", "version", "device", "front", "case",
    "slow_variant", "fast_variant", "ratio", "ci_low", "ci_high", "verdict", "reason", "rounds",
    "n_slow", "n_fast", "median_slow_ns", "median_fast_ns", "p99_slow_ns", "p99_fast_ns",
    "max_slow_ns", "max_fast_ns", "spikes_slow", "spikes_fast", "harness_ns", "resampled", "question",
]


# ---- the statistics -------------------------------------------------------------------------

def round_matrix(rounds, calls, ns):
    """Samples of one variant as a DataFrame (index: round; columns: call; NaN where missing).
    Calls are placed by their `call` index when that is unique within a round (cold start:
    the call after loading), else in the order they were taken."""
    rounds = np.asarray(rounds, dtype=np.int64)
    calls = np.asarray(calls, dtype=np.int64)
    ns = np.asarray(ns, dtype=float)
    round_labels, row = np.unique(rounds, return_inverse=True)
    keys = row.astype(np.int64) * (int(calls.max(initial=0)) + 1) + calls
    if np.unique(keys).size != keys.size:  # repeated call index within a round: use the order
        order = np.argsort(row, kind="stable")
        position = np.empty_like(row)
        counts = np.bincount(row)
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        position[order] = np.arange(row.size) - np.repeat(starts, counts)
        calls = position
    matrix = np.full((round_labels.size, int(calls.max(initial=0)) + 1), np.nan)
    matrix[row, calls] = ns
    return pd.DataFrame(matrix, index=pd.Index(round_labels, name="round"))


def paired_matrices(slow, fast):
    """Two round matrices aligned on the union of their rounds: arrays (R, Cs) and (R, Cf)."""
    rounds = slow.index.union(fast.index)
    return (slow.reindex(rounds).to_numpy(dtype=float), fast.reindex(rounds).to_numpy(dtype=float))


def _flat(m):
    """(..., R, C) -> (..., R*C)."""
    return m.reshape(m.shape[:-2] + (-1,))


def metric_of(m, metric, spike_factor=10.0):
    """The metric of samples arranged as (..., rounds, calls), reduced over the last two axes."""
    has_nan = np.isnan(m).any()
    if metric == "median":
        return (np.nanmedian if has_nan else np.median)(_flat(m), axis=-1)
    if metric == "p99":
        return (np.nanquantile if has_nan else np.quantile)(_flat(m), 0.99, axis=-1)
    if metric == "max":
        return np.nanmax(_flat(m), axis=-1)
    if metric == "spikes":
        flat = _flat(m)
        med = (np.nanmedian if has_nan else np.median)(flat, axis=-1)
        with np.errstate(invalid="ignore"):
            count = np.sum(flat > spike_factor * med[..., None], axis=-1)
        n = np.sum(~np.isnan(flat), axis=-1)
        return (count + 0.5) / (n + 1.0)  # smoothed rate: finite when one side has none
    if metric == "first_call":
        return np.nanmedian(m[..., 0], axis=-1)
    if metric == "process_total":
        totals = np.where(np.isnan(m).all(axis=-1), np.nan, np.nansum(m, axis=-1))
        return np.nanmedian(totals, axis=-1)
    raise ValueError(f"unknown metric {metric!r}; known: {METRICS}")


# The tail is a property of single calls: spikes are rare and cluster where the mechanism
# puts them (the first sight of a shape), so tail metrics resample calls; the others resample
# paired rounds (see the module docstring).
TAIL_METRICS = ("p99", "max", "spikes")


def resampling_unit(metric):
    return "samples" if metric in TAIL_METRICS else "rounds"


def ratio_with_ci(slow, fast, metric, *, n_resamples, confidence_level, method, seed, spike_factor=10.0,
                  unit=None):
    """ratio = metric(slow) / metric(fast) and its bootstrap interval. `slow` and `fast` are
    (R, C) arrays whose row r holds round r of each variant (NaN where a call is missing).
    unit 'rounds': replicates draw R round indices and take both variants from them;
    unit 'samples': replicates draw each variant's calls independently.
    Returns (ratio, low, high); the interval is NaN with fewer than two rounds or samples."""
    slow = np.asarray(slow, dtype=float)
    fast = np.asarray(fast, dtype=float)
    unit = unit or resampling_unit(metric)
    ratio = float(metric_of(slow, metric, spike_factor) / metric_of(fast, metric, spike_factor))
    if unit == "rounds":
        if slow.shape[0] < 2:
            return ratio, float("nan"), float("nan")

        def statistic(index, axis=-1):
            index = np.asarray(index).astype(np.intp)
            return metric_of(slow[index], metric, spike_factor) / metric_of(fast[index], metric, spike_factor)

        data = (np.arange(slow.shape[0]),)
    elif unit == "samples":
        slow_calls, fast_calls = slow[~np.isnan(slow)], fast[~np.isnan(fast)]
        if min(slow_calls.size, fast_calls.size) < 2:
            return ratio, float("nan"), float("nan")

        def statistic(s, f, axis=-1):
            return metric_of(s[..., None], metric, spike_factor) / metric_of(f[..., None], metric, spike_factor)

        data = (slow_calls, fast_calls)
    else:
        raise ValueError(f"unknown resampling unit {unit!r}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # degenerate resamples (all equal) are handled below
        result = stats.bootstrap(
            data, statistic, vectorized=True, n_resamples=n_resamples,
            confidence_level=confidence_level, method=method, batch=500,
            rng=np.random.default_rng(seed),
        )
    low, high = float(result.confidence_interval.low), float(result.confidence_interval.high)
    if np.isnan(low) or np.isnan(high):  # every replicate equal: the interval is the point
        spread = result.bootstrap_distribution
        if np.all(spread == spread[0]):
            low = high = float(spread[0])
    return ratio, low, high


def verdict_of(low, high, holds_above, reversed_below):
    """The verdict and its reason from an interval of slow/fast."""
    if np.isnan(low) or np.isnan(high):
        return "no clear difference", "no interval (fewer than two rounds)"
    interval = f"interval [{low:.3g}, {high:.3g}]"
    if low > holds_above:
        return "holds", f"{interval} lies above {holds_above:g}"
    if high < reversed_below:
        return "reversed", f"{interval} lies below {reversed_below:g}"
    if low >= reversed_below and high <= holds_above:
        return "no clear difference", f"{interval} inside [{reversed_below:g}, {holds_above:g}]: too small to matter"
    return "no clear difference", f"{interval} reaches into [{reversed_below:g}, {holds_above:g}]: too uncertain to call"


def comparison_seed(base_seed, *parts):
    """A seed fixed by the comparison's identity, independent of evaluation order."""
    return (int(base_seed) * 1_000_003 + zlib.crc32("|".join(map(str, parts)).encode())) % (2**32)


# ---- from comparisons to rows ---------------------------------------------------------------

def _matches(spec, name):
    return fnmatch.fnmatchcase(name, spec)


def _is_pattern(spec):
    return any(ch in spec for ch in "*?[")


def expand_pairs(comparison, variants, medians, floor):
    """(slow, fast) variant pairs of a comparison in one case, or (None, reason) when a named
    variant is missing. `medians` maps variant -> median ns (to find the fastest)."""
    slow_spec, fast_spec = comparison["slow"], comparison["fast"]
    measured = [v for v in variants if v != HARNESS_VARIANT]

    def resolve(spec):
        if isinstance(spec, dict):
            return None  # fastest_of: resolved per slow variant below
        if _is_pattern(spec):
            return [v for v in measured if _matches(spec, v)]
        return [spec] if spec in measured else []

    fast_names = resolve(fast_spec)
    if slow_spec == "each":
        excluded = {floor, HARNESS_VARIANT} | set(fast_names or [])
        slow_names = [v for v in measured if v not in excluded]
    else:
        slow_names = resolve(slow_spec)
    if not slow_names:
        return None, f"variant {slow_spec} was not measured"
    if fast_names is not None and not fast_names:
        return None, f"variant {fast_spec} was not measured"
    pairs = []
    for slow in slow_names:
        if fast_names is None:
            candidates = [v for v in measured
                          if any(_matches(p, v) for p in fast_spec["fastest_of"]) and v != slow]
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


def not_run_row(comparison, version, device, libtorch, front, reason):
    row = {c: np.nan for c in CLAIM_COLUMNS}
    row.update({
        "claim": comparison["claim"], "comparison": comparison["id"], "metric": comparison["metric"],
        "primary": bool(comparison.get("primary", False)), "libtorch": libtorch, "version": version,
        "device": device, "front": front, "case": "all", "slow_variant": _describe(comparison["slow"]),
        "fast_variant": _describe(comparison["fast"]), "verdict": "not run", "reason": reason,
        "question": comparison.get("question", ""),
    })
    return row


def variant_stats(ns, spike_factor):
    ns = np.asarray(ns, dtype=float)
    median = float(np.median(ns))
    return {"n": int(ns.size), "median": median, "p99": float(np.quantile(ns, 0.99)),
            "max": float(ns.max()), "spikes": int(np.count_nonzero(ns > spike_factor * median))}


def compare_case(comparison, case_samples, key, settings, floor):
    """Rows of one comparison in one case (one technique, version, device, front, params)."""
    version, device, libtorch, front, params = key
    spike_factor = float(settings["spike_factor"])
    by_variant = {v: g for v, g in case_samples.groupby("variant", sort=True)}
    medians = {v: float(np.median(g["ns"])) for v, g in by_variant.items()}
    pairs, reason = expand_pairs(comparison, sorted(by_variant), medians, floor)
    if pairs is None:
        row = not_run_row(comparison, version, device, libtorch, front, f"not run: {reason} in this case")
        row["case"] = params
        return [row]
    harness = medians.get(HARNESS_VARIANT, np.nan)
    matrices = {}

    def matrix(variant):
        if variant not in matrices:
            g = by_variant[variant]
            matrices[variant] = round_matrix(g["round"].to_numpy(), g["call"].to_numpy(), g["ns"].to_numpy())
        return matrices[variant]

    rows = []
    for slow, fast in pairs:
        s, f = by_variant[slow], by_variant[fast]
        slow_m, fast_m = paired_matrices(matrix(slow), matrix(fast))
        seed = comparison_seed(settings["seed"], comparison["id"], version, device, front, params, slow, fast)
        ratio, low, high = ratio_with_ci(
            slow_m, fast_m, comparison["metric"], n_resamples=int(settings["n_resamples"]),
            confidence_level=float(settings["confidence_level"]), method=settings["method"],
            seed=seed, spike_factor=spike_factor)
        rounds = slow_m.shape[0]
        if rounds < int(settings["min_rounds"]):
            verdict = "no clear difference"
            why = f"only {rounds} rounds (fewer than report.min_rounds = {settings['min_rounds']})"
        else:
            verdict, why = verdict_of(low, high, float(settings["holds_above"]), float(settings["reversed_below"]))
        a, b = variant_stats(s["ns"], spike_factor), variant_stats(f["ns"], spike_factor)
        rows.append({
            "claim": comparison["claim"], "comparison": comparison["id"], "metric": comparison["metric"],
            "primary": bool(comparison.get("primary", False)), "libtorch": libtorch, "version": version,
            "device": device, "front": front, "case": params, "slow_variant": slow, "fast_variant": fast,
            "ratio": ratio, "ci_low": low, "ci_high": high, "verdict": verdict, "reason": why,
            "rounds": rounds, "n_slow": a["n"], "n_fast": b["n"], "median_slow_ns": a["median"],
            "median_fast_ns": b["median"], "p99_slow_ns": a["p99"], "p99_fast_ns": b["p99"],
            "max_slow_ns": a["max"], "max_fast_ns": b["max"], "spikes_slow": a["spikes"],
            "spikes_fast": b["spikes"], "harness_ns": harness,
            "resampled": "calls, each variant independently" if resampling_unit(comparison["metric"]) == "samples"
            else "rounds, paired", "question": comparison.get("question", ""),
        })
    return rows


def compare_all(samples, runs, claims, comparisons, settings, configured_techniques):
    """Every comparison in every cell (version, device) the pipeline ran, per front: one row
    per case and pair, or one `not run` row with its reason where there is nothing to compare."""
    rows = []
    cells = sorted(set(runs[["version", "device"]].itertuples(index=False, name=None)))
    cell_libtorch = runs.groupby("version")["libtorch"].first().to_dict()
    cases = {key: list(group.groupby(["libtorch", "params"], sort=True))
             for key, group in samples.groupby(["version", "device", "technique", "front"], sort=True)}
    for comparison in comparisons:
        claim = claims[comparison["claim"]]
        technique, floor = claim["technique"], claim.get("floor")
        for version, device in cells:
            cell_runs = runs[(runs.version == version) & (runs.device == device) & (runs.technique == technique)]
            if cell_runs.empty:
                why = ("it is not enabled in this config" if technique not in configured_techniques
                       else "no run record was found")
                rows.append(not_run_row(comparison, version, device, cell_libtorch.get(version, version), "cpp",
                                        f"not run: technique {technique} was not measured ({why})"))
                continue
            for record in cell_runs.sort_values("front").itertuples(index=False):
                if record.status != "ok":
                    rows.append(not_run_row(comparison, version, device, record.libtorch, record.front,
                                            f"not run: {record.reason or record.status}"))
                    continue
                matched = False
                for (libtorch, params), case_samples in cases.get((version, device, technique, record.front), []):
                    if not case_matches(comparison.get("where"), params):
                        continue
                    matched = True
                    rows.extend(compare_case(comparison, case_samples,
                                             (version, device, libtorch, record.front, params), settings, floor))
                if not matched:
                    rows.append(not_run_row(comparison, version, device, record.libtorch, record.front,
                                            f"not run: no measured case matches {comparison.get('where')}"))
    return pd.DataFrame(rows, columns=CLAIM_COLUMNS)


def main(snakemake):
    with open(snakemake.log[0], "w") as log:
        sys.stderr = log
        claims, comparisons = load_comparisons(snakemake.input.comparisons)
        samples = read_samples(snakemake.input.samples)
        runs = read_runs(snakemake.input.provenance)
        table = compare_all(samples, runs, claims, comparisons, snakemake.params.settings,
                            set(snakemake.params.techniques))
        table.to_csv(snakemake.output.claims, index=False, float_format="%.6g")
        print(table["verdict"].value_counts().to_string(), file=log)


if __name__ == "__main__" and "snakemake" in globals():
    main(snakemake)  # noqa: F821 -- injected by Snakemake's script directive
