"""Claim 1's figures: latency per call and latency distributions on one platform; where the
spikes fall across platforms."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from ..samples import own_variants, params_table
from .common import panel_grid, placeholder, platform_groups, platform_title, save, size_text, style_of


def _model_cases(samples):
    # Claim 1 times one call per sample; its parameter `batch` (the input's) replaces the column.
    df = samples[(samples.technique == "model_inference") & own_variants(samples)].drop(
        columns="batch", errors="ignore"
    )
    table = params_table(df["params"])
    df = df.join(table, on="params")
    if "model" not in df:
        df["model"] = "model"
    if "scenario" not in df:
        df["scenario"] = "steady"
    df["model"] = df["model"].astype(str)
    df["scenario"] = df["scenario"].astype(str)
    # Cases that differ in more than model and scenario (e.g. a batch size) are told apart.
    extra = [c for c in table.columns if c not in ("model", "scenario")]
    # Models have different size parameters: a model's row leaves the others' empty (NaN).
    sizes = df[extra].apply(
        lambda row: " ".join(f"{name}={size_text(v)}" for name, v in row.items() if pd.notna(v) and v != ""), axis=1
    )
    df["panel"] = df["model"] + ("" if not extra else " · " + sizes)
    return df


def _variant_order(df):
    variants = sorted(df["variant"].unique(), key=lambda v: (v != "native", v))
    return variants


def _claim1_legend(fig, variants, extra=()):
    handles = [
        Line2D([], [], color=style_of(v, variants)[0], lw=2.4 if v == "native" else 1.4, label=v) for v in variants
    ]
    fig.legend(handles=handles + list(extra), loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=9, frameon=False)


def _claim1_grid(ctx, scenarios_wanted, path, dpi, figure):
    """The claim-1 cases and one axes per (model panel, scenario) for the scenarios measured;
    None, after drawing a card that says so, when none of `scenarios_wanted` was measured."""
    samples = ctx.samples()
    df = _model_cases(samples)
    panels = sorted(df["panel"].unique())
    scenarios = [s for s in scenarios_wanted if s in set(df["scenario"])]
    if not scenarios:
        placeholder(
            path, f"Claim 1 — {figure}", f"{ctx.title}: no {' or '.join(scenarios_wanted)} scenario was measured.", dpi
        )
        return None
    fig, axes = plt.subplots(
        len(panels), len(scenarios), figsize=(6.2 * len(scenarios), 3.3 * len(panels) + 0.5), squeeze=False
    )
    panels = [
        (axes[i][j], panel, scenario, df[(df.panel == panel) & (df.scenario == scenario)])
        for i, panel in enumerate(panels)
        for j, scenario in enumerate(scenarios)
    ]
    return fig, panels, _variant_order(df)


def latency_per_call(ctx, path, dpi):
    title = ctx.title
    grid = _claim1_grid(ctx, ("cold", "shapes"), path, dpi, "latency per call")
    if grid is None:
        return
    fig, panels, variants = grid
    for ax, panel_name, scenario, part in panels:
        for (variant, front), g in part.groupby(["variant", "front"], sort=True):
            color = style_of(variant, variants)[0]
            lw = 2.4 if variant == "native" else 1.2
            ls = "-" if front == "cpp" else ":"
            if scenario == "cold":
                per_call = g.groupby("call")["ns"]
                med, low, high = per_call.median() / 1e6, per_call.min() / 1e6, per_call.max() / 1e6
                ax.plot(med.index, med.values, color=color, lw=lw, ls=ls, marker="o", ms=3)
                ax.fill_between(med.index, low.values, high.values, color=color, alpha=0.08)
                events = g[g.event != ""]
                if not events.empty:
                    ev = events.groupby("call")["ns"].median() / 1e6
                    ax.scatter(ev.index, ev.values, marker="*", s=70, color=color, edgecolor="k", zorder=5)
            else:
                g = g.sort_values(["round", "call"], kind="stable")
                order = np.arange(1, len(g) + 1)
                new_shape = ((g["shape"] != "") & ~g.duplicated(["shape"])).to_numpy()
                ns = g["ns"].to_numpy() / 1e6
                ax.scatter(
                    order,
                    ns,
                    s=9 if variant == "native" else 5,
                    color=color,
                    alpha=0.7,
                    linewidths=0,
                    zorder=3 if variant == "native" else 2,
                )
                ax.scatter(
                    order[new_shape], ns[new_shape], marker="^", s=30, facecolor="none", edgecolor=color, zorder=4
                )
                events = (g["event"] != "").to_numpy()
                ax.scatter(order[events], ns[events], marker="*", s=70, color=color, edgecolor="k", zorder=5)
                ax.set_xscale("log")
        ax.set_yscale("log")
        ax.grid(True, alpha=0.3)
        if scenario == "cold":
            ax.set_title(f"{panel_name}\ncold start (median over fresh processes, band min–max)", fontsize=9.5)
            ax.set_xlabel("call after loading the model")
        else:
            ax.set_title(f"{panel_name}\ninput shape changes between calls", fontsize=9.5)
            ax.set_xlabel("call number, in the order taken (log)")
        ax.set_ylabel("latency (ms, log)")
    extra = [
        Line2D([], [], ls="none", marker="^", mfc="none", mec="k", label="first call with a new shape"),
        Line2D([], [], ls="none", marker="*", color="k", ms=9, label="call with a runner event"),
    ]
    _claim1_legend(fig, variants, extra)
    fig.suptitle(f"Claim 1 — latency per call, native vs TorchScript settings: {title}", fontsize=12)
    fig.tight_layout()
    save(fig, path, dpi)


def distribution(ctx, path, dpi):
    title, spike_factor = ctx.title, float(ctx.settings["spike_factor"])
    grid = _claim1_grid(ctx, ("steady", "shapes"), path, dpi, "latency distributions")
    if grid is None:
        return
    fig, panels, variants = grid
    for ax, panel_name, scenario, part in panels:
        for (variant, front), g in part.groupby(["variant", "front"], sort=True):
            values = np.sort(g["ns"].to_numpy() / 1e6)
            exceed = 1.0 - np.arange(values.size) / values.size  # fraction of calls >= value
            ax.step(
                values,
                exceed,
                where="post",
                color=style_of(variant, variants)[0],
                lw=2.4 if variant == "native" else 1.2,
                ls="-" if front == "cpp" else ":",
            )
        native = part[part.variant == "native"]["ns"]
        if not native.empty:
            ax.axvline(spike_factor * native.median() / 1e6, color="k", ls="--", lw=0.8)
            ax.text(
                spike_factor * native.median() / 1e6, 1.0, f" {spike_factor:g}× native median", fontsize=8, va="top"
            )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.grid(True, alpha=0.3)
        ax.set_title(f"{panel_name}\n{'steady state' if scenario == 'steady' else 'changing shapes'}", fontsize=9.5)
        ax.set_xlabel("latency (ms, log)")
        ax.set_ylabel("fraction of calls at least this slow")
    _claim1_legend(fig, variants)
    fig.suptitle(f"Claim 1 — how often a call is slow (tail of the latency distribution): {title}", fontsize=12)
    fig.tight_layout()
    save(fig, path, dpi)


def mechanism(ctx, path, dpi):
    mech, spike_factor = ctx.mechanism, float(ctx.settings["spike_factor"])
    df = mech[mech.claim == "1"]
    if df.empty:
        return placeholder(path, "Claim 1 — where the spikes are", "not run: no model_inference results", dpi)
    wide = df.pivot_table(
        index=["libtorch", "version", "device", "front", "variant"],
        columns="quantity",
        values="value",
        aggfunc="sum",
        fill_value=0,
    ).reset_index()
    for column in ("spikes", "spikes_at_new_shape", "spikes_on_event_same_shape"):
        if column not in wide:
            wide[column] = 0
    platforms = platform_groups(wide)
    rows, cols = panel_grid(len(platforms))
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.4 * rows + 0.6), squeeze=False)
    for ax, platform in zip(axes.flat, platforms):
        part = wide[(wide[["libtorch", "version", "device", "front"]].apply(tuple, axis=1) == platform)]
        part = part.set_index("variant").loc[_variant_order(part)]
        shape = part["spikes_at_new_shape"]
        event = part["spikes_on_event_same_shape"]
        other = (part["spikes"] - shape - event).clip(lower=0)
        x = np.arange(len(part))
        ax.bar(x, shape, color="#0969da", label="at a new input shape")
        ax.bar(x, event, bottom=shape, color="#fb8500", label="same shape, on a call with a runner event")
        ax.bar(x, other, bottom=shape + event, color="#8c8c8c", label="other")
        ax.set_xticks(x, part.index, rotation=35, ha="right", fontsize=8)
        ax.set_ylabel(f"spikes (calls > {spike_factor:g}× median)")
        ax.set_title(
            platform_title(platform[0], platform[1], platform[2])
            + ("" if platform[3] == "cpp" else f" · {platform[3]}"),
            fontsize=9.5,
        )
    for ax in list(axes.flat)[len(platforms) :]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=9, frameon=False, bbox_to_anchor=(0.5, -0.04))
    fig.suptitle("Claim 1 — where the spikes fall (all scenarios together)", fontsize=11.5)
    fig.tight_layout()
    save(fig, path, dpi)
