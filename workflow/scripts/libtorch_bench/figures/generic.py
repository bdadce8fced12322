"""The figure a claim gets when its registry entry names none of its own: the median time of
each variant in each case of its technique, on one platform."""

import matplotlib.pyplot as plt
import numpy as np

from ..samples import own_variants
from .common import front_style, save, style_of, variant_handles


def time_by_case(ctx, path, dpi):
    df = ctx.summary[(ctx.summary.technique == ctx.claim.technique) & own_variants(ctx.summary)]
    cases = sorted(df["params"].unique())
    fig, ax = plt.subplots(figsize=(max(6.0, 0.5 * len(cases) + 3), 4.2))
    for (variant, front), g in df.groupby(["variant", "front"], sort=True):
        g = g.set_index("params").reindex(cases)
        ax.plot(
            np.arange(len(cases)), g["median_ns"] / 1e3, color=style_of(variant)[0], ms=4, **front_style(variant, front)
        )
    ax.set_xticks(range(len(cases)), cases, rotation=40, ha="right", fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel("median time per call (µs)")
    ax.grid(True, axis="y", alpha=0.3)
    fig.legend(
        handles=variant_handles(df), loc="upper center", ncol=3, fontsize=9, frameon=False, bbox_to_anchor=(0.5, 0.0)
    )
    fig.suptitle(f"Claim {ctx.claim.id} — {ctx.claim.title}: {ctx.title}", fontsize=12)
    fig.tight_layout()
    save(fig, path, dpi)
