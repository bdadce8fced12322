"""What the measurements say about *why* each claim holds or not: one long table of derived
quantities per claim, version, device and front.

- claim 1: per variant and case, how many calls spiked (> spike_factor x the variant's median)
  and how many of those spikes fell on a call with a shape not seen before (in that process
  for cold start), or else on a call the runner marked with a mechanism event (`optimized`,
  `fallback`, ...); and how many calls carried each event.
- claim 2: per variant and row length N, the cost per row (slope of median time over B, by
  least squares) and the fixed cost (intercept): building one tensor per row shows up as a
  per-row cost far above a plain copy's.
- claim 3: per case, the cost of one mask-to-indices conversion, estimated as
  (median(mask_index) - median(indices_index)) / (K - 1): mask indexing converts K times,
  reusing indices converts once. K = 1 is the control (nothing to reuse).
"""

import numpy as np
import pandas as pd

from .samples import own_variants, params_table
from .stats import is_spike

COLUMNS = ["claim", "version", "libtorch", "device", "front", "case", "variant", "quantity", "value", "unit"]


def _rows(frame, claim, quantity, unit, value_column, variant_column="variant", case_column="case"):
    out = pd.DataFrame(
        {
            "claim": claim,
            "version": frame["version"],
            "libtorch": frame["libtorch"],
            "device": frame["device"],
            "front": frame["front"],
            "case": frame[case_column],
            "variant": frame[variant_column],
            "quantity": quantity,
            "value": frame[value_column].astype(float),
            "unit": unit,
        }
    )
    return out[COLUMNS]


def claim1_spikes(samples, spike_factor):
    df = samples[samples.technique == "model_inference"]
    if df.empty:
        return pd.DataFrame(columns=COLUMNS)
    df = df[own_variants(df)].copy()
    df["order"] = np.arange(len(df))
    keys = ["version", "libtorch", "device", "front", "params", "variant"]
    df["median"] = df.groupby(keys)["ns"].transform("median")
    df["spike"] = is_spike(df["ns"], df["median"], spike_factor)
    # A shape is new the first time a process meets it (every process is fresh), except the base
    # shape of steady state and changing shapes, which their warm-up calls met before any timed one.
    cold = df["params"].str.contains("scenario=cold")
    base = df["params"].str.extract(r"(?:^|;)batch=(\d+)", expand=False)
    warmed = ~cold & (df["shape"].str.split("x").str[0] == base)
    df["new_shape"] = (df["shape"] != "") & ~warmed & ~df.duplicated(keys + ["process", "shape"])
    df["has_event"] = df["event"] != ""
    grouped = df.groupby(keys, sort=True)
    table = (
        pd.DataFrame(
            {
                "calls": grouped.size(),
                "spikes": grouped["spike"].sum(),
                "spikes_at_new_shape": grouped.apply(
                    lambda g: int((g.spike & g.new_shape).sum()), include_groups=False
                ),
                "spikes_on_event_same_shape": grouped.apply(
                    lambda g: int((g.spike & g.has_event & ~g.new_shape).sum()), include_groups=False
                ),
                "new_shapes": grouped["new_shape"].sum(),
            }
        )
        .reset_index()
        .rename(columns={"params": "case"})
    )
    parts = [
        _rows(table, "1", q, "calls", q)
        for q in ("calls", "spikes", "spikes_at_new_shape", "spikes_on_event_same_shape", "new_shapes")
    ]
    events = df[df.has_event].groupby(keys + ["event"]).size().rename("count").reset_index()
    if not events.empty:
        events = events.rename(columns={"params": "case"})
        events["quantity"] = "event:" + events["event"]
        parts += [_rows(g, "1", q, "calls", "count") for q, g in events.groupby("quantity")]
    return pd.concat(parts, ignore_index=True)


def claim2_per_row(summary):
    df = summary[(summary.technique == "batch_from_rows") & own_variants(summary)]
    if df.empty:
        return pd.DataFrame(columns=COLUMNS)
    df = df.join(params_table(df["params"]), on="params")
    rows = []
    for key, g in df.groupby(["version", "libtorch", "device", "front", "N", "variant"], sort=True):
        if g["B"].nunique() < 2:
            continue
        slope, intercept = np.polyfit(g["B"].astype(float), g["median_ns"].astype(float), 1)
        version, libtorch, device, front, n, variant = key
        for quantity, value in (("per_row_ns", slope), ("fixed_ns", intercept)):
            rows.append(
                {
                    "claim": "2",
                    "version": version,
                    "libtorch": libtorch,
                    "device": device,
                    "front": front,
                    "case": f"N={n}",
                    "variant": variant,
                    "quantity": quantity,
                    "value": float(value),
                    "unit": "ns",
                }
            )
    return pd.DataFrame(rows, columns=COLUMNS)


def claim3_conversion(summary):
    df = summary[summary.technique == "mask_indexing"]
    keys = ["version", "libtorch", "device", "front", "params"]
    wide = df.pivot_table(index=keys, columns="variant", values="median_ns").reset_index()
    if wide.empty or not {"mask_index", "indices_index"} <= set(wide.columns):
        return pd.DataFrame(columns=COLUMNS)
    wide = wide.join(params_table(wide["params"]), on="params")
    wide = wide[wide["K"] > 1].copy()
    wide["value"] = (wide["mask_index"] - wide["indices_index"]) / (wide["K"] - 1)
    wide["per_application"] = wide["mask_index"] / wide["K"]
    wide["share"] = wide["value"] / wide["per_application"]
    wide["case"] = wide["params"]
    wide["variant"] = "mask_index"
    return pd.concat(
        [_rows(wide, "3", "conversion_ns", "ns", "value"), _rows(wide, "3", "conversion_share", "fraction", "share")],
        ignore_index=True,
    )


# The derivations a claim's registry entry can name (`mechanism: claim2.per_row`).
DERIVATIONS = {
    "claim1.spikes": lambda samples, summary, spike_factor: claim1_spikes(samples, spike_factor),
    "claim2.per_row": lambda samples, summary, spike_factor: claim2_per_row(summary),
    "claim3.conversion": lambda samples, summary, spike_factor: claim3_conversion(summary),
}


def derive(registry, samples, summary, spike_factor):
    """Every claim's mechanism table, in registry order, as one long table."""
    parts = [
        DERIVATIONS[claim.mechanism](samples, summary, spike_factor)
        for claim in registry.claims.values()
        if claim.mechanism
    ]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=COLUMNS)
