"""Claim 2's figures: time against B and N on one platform; cost per row across platforms."""

import matplotlib.pyplot as plt

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
    df = summary[(summary.technique == "batch_from_rows") & own_variants(summary)]
    df = df.join(params_table(df["params"]), on="params")
    b_values, n_values = sorted(df["B"].unique()), sorted(df["N"].unique())
    columns = max(len(b_values), len(n_values))
    fig, axes = plt.subplots(2, columns, figsize=(3.3 * columns, 6.4), squeeze=False, sharey=True)
    for row, (x, facet, facets) in enumerate((("B", "N", n_values), ("N", "B", b_values))):
        for col in range(columns):
            ax = axes[row][col]
            if col >= len(facets):
                ax.axis("off")
                continue
            panel = df[df[facet] == facets[col]]
            for (variant, front), g in panel.groupby(["variant", "front"], sort=True):
                g = g.sort_values(x)
                color = style_of(variant)[0]
                ax.errorbar(
                    g[x],
                    g["median_ns"] / 1e3,
                    yerr=[(g["median_ns"] - g["q25_ns"]) / 1e3, (g["q75_ns"] - g["median_ns"]) / 1e3],
                    color=color,
                    ms=3.5,
                    lw=2.2 if variant in FLOORS else 1.4,
                    capsize=2,
                    **front_style(variant, front),
                )
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_title(f"{facet} = {facets[col]}", fontsize=10)
            ax.set_xlabel(f"{x} ({'rows' if x == 'B' else 'floats per row'})")
            ax.grid(True, which="major", alpha=0.3)
        axes[row][0].set_ylabel("median time per batch (µs)")
    fig.legend(
        handles=variant_handles(df), loc="upper center", ncol=3, fontsize=9, frameon=False, bbox_to_anchor=(0.5, 0.0)
    )
    fig.suptitle(f"Claim 2 — building a [B, N] tensor from B rows: {title}", fontsize=12)
    fig.tight_layout()
    save(fig, path, dpi)


def mechanism(ctx, path, dpi):
    mech = ctx.mechanism
    df = mech[(mech.claim == "2") & (mech.quantity == "per_row_ns")].copy()
    if df.empty:
        return placeholder(path, "Claim 2 — cost per row", "not run: no batch_from_rows results", dpi)
    df["N"] = df["case"].str.removeprefix("N=").astype(float)
    platforms = platform_groups(df)
    rows, cols = panel_grid(len(platforms))
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.4 * rows + 0.8), squeeze=False, sharey=True)
    for ax, platform in zip(axes.flat, platforms):
        part = df[df[["libtorch", "version", "device", "front"]].apply(tuple, axis=1) == platform]
        for variant, g in part.groupby("variant", sort=True):
            g = g.sort_values("N")
            ax.plot(
                g["N"],
                g["value"].clip(lower=0.01),
                marker="o",
                ms=3.5,
                color=style_of(variant)[0],
                ls="--" if variant in FLOORS else "-",
                label=style_of(variant)[1],
            )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.grid(True, alpha=0.3)
        ax.set_xlabel("N (floats per row)")
        ax.set_title(platform_title(*platform[:3]), fontsize=9.5)
    for ax in axes[:, 0]:
        ax.set_ylabel("cost per row (ns, slope over B)")
    for ax in list(axes.flat)[len(platforms) :]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=9, frameon=False, bbox_to_anchor=(0.5, -0.07))
    fig.suptitle("Claim 2 — what each extra row costs: per-row tensors vs one copy", fontsize=11.5)
    fig.tight_layout()
    save(fig, path, dpi)
