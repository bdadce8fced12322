"""Claim 3's figures: time per application against size and density on one platform; the
cost of one mask conversion across platforms."""

import matplotlib.pyplot as plt
import numpy as np

from ..samples import own_variants, params_table
from .common import (
    FLOORS,
    front_style,
    panel_grid,
    placeholder,
    platform_groups,
    platform_title,
    save,
    style_of,
    variant_handles,
)


def time(ctx, path, dpi):
    summary, title = ctx.summary, ctx.title
    df = summary[(summary.technique == "mask_indexing") & own_variants(summary)]
    df = df.join(params_table(df["params"]), on="params")
    df["size"] = df["rows"] * df["cols"]
    densities, ks = sorted(df["density"].unique()), sorted(df["K"].unique())
    fig, axes = plt.subplots(
        len(ks),
        len(densities),
        figsize=(3.6 * len(densities), 3.0 * len(ks) + 0.6),
        squeeze=False,
        sharex=True,
        sharey=True,
    )
    for i, k in enumerate(ks):
        for j, density in enumerate(densities):
            ax = axes[i][j]
            panel = df[(df.K == k) & (df.density == density)]
            for (variant, front), g in panel.groupby(["variant", "front"], sort=True):
                g = g.sort_values("size")
                ax.plot(
                    g["size"],
                    g["median_ns"] / k / 1e3,
                    color=style_of(variant)[0],
                    ms=3.5,
                    lw=2.2 if variant in FLOORS else 1.4,
                    **front_style(variant, front),
                )
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_title(f"density {density:g}, K = {k}", fontsize=10)
            ax.grid(True, alpha=0.3)
            if i == len(ks) - 1:
                ax.set_xlabel("elements of x (rows × cols)")
        axes[i][0].set_ylabel("median time per application (µs)")
    fig.legend(
        handles=variant_handles(df), loc="upper center", ncol=3, fontsize=9, frameon=False, bbox_to_anchor=(0.5, 0.0)
    )
    fig.suptitle(f"Claim 3 — the same mask applied K times: {title}", fontsize=12)
    fig.tight_layout()
    save(fig, path, dpi)


def mechanism(ctx, path, dpi):
    mech = ctx.mechanism
    df = mech[(mech.claim == "3") & (mech.quantity == "conversion_ns")].copy()
    if df.empty:
        return placeholder(
            path, "Claim 3 — cost of one mask conversion", "not run: no mask_indexing results with K > 1", dpi
        )
    df = df.join(params_table(df["case"]), on="case")
    platforms = platform_groups(df)
    rows, cols = panel_grid(len(platforms))
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.4 * rows + 0.8), squeeze=False, sharey=True)
    densities = sorted(df["density"].unique())
    colors = plt.cm.viridis(np.linspace(0.1, 0.85, len(densities)))
    for ax, platform in zip(axes.flat, platforms):
        part = df[df[["libtorch", "version", "device", "front"]].apply(tuple, axis=1) == platform]
        for density, color in zip(densities, colors):
            for (rows_, k), g in part[part.density == density].groupby(["rows", "K"]):
                g = g.sort_values("cols")
                ax.plot(
                    g["cols"],
                    g["value"].clip(lower=1.0),
                    marker="o" if rows_ == part["rows"].min() else "s",
                    ms=4,
                    color=color,
                    label=f"density {density:g}, rows {rows_}, K {k}",
                )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.grid(True, alpha=0.3)
        ax.set_xlabel("cols (length of the mask)")
        ax.set_title(
            platform_title(*platform[:3]) + ("" if platform[3] == "cpp" else f" · {platform[3]}"), fontsize=9.5
        )
    for ax in axes[:, 0]:
        ax.set_ylabel("one conversion (ns)")
    for ax in list(axes.flat)[len(platforms) :]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=8.5, frameon=False, bbox_to_anchor=(0.5, -0.1))
    fig.suptitle("Claim 3 — the cost mask indexing pays on every call: one mask → indices conversion", fontsize=11.5)
    fig.tight_layout()
    save(fig, path, dpi)
