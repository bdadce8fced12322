"""The version trend of a claim: its primary comparisons' ratios with their intervals against
the libtorch version, one panel per comparison and device."""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Patch

from ..samples import version_key
from .common import VERDICT_COLORS, placeholder, save


def _device_fronts(table):
    """(device, front) groups present, with the version order by real libtorch version."""
    return sorted(table.groupby(["device", "front"]).groups)


def trend(ctx, path, dpi):
    claims, claim, titles = ctx.claims, ctx.claim, ctx.titles
    holds_above, reversed_below = float(ctx.settings["holds_above"]), float(ctx.settings["reversed_below"])
    df = claims[
        (claims.claim == claim) & claims.primary.astype(str).isin(["True", "true", "1"]) & (claims.verdict != "not run")
    ]
    if df.empty:
        reasons = claims[(claims.claim == claim) & (claims.verdict == "not run")]["reason"].unique()
        return placeholder(
            path, f"Claim {claim} — ratio by libtorch version", "; ".join(reasons[:3]) or "not run: no results", dpi
        )
    comparisons = list(dict.fromkeys(df["comparison"]))
    groups = _device_fronts(df)
    versions = sorted(df["libtorch"].unique(), key=version_key)
    # Side by side, many versions would squeeze each panel into a strip: then one panel a row.
    stacked = len(versions) > 3 and len(groups) > 1
    rows, cols = (len(comparisons) * len(groups), 1) if stacked else (len(comparisons), len(groups))
    panel_width = max(5.5, min(1.2 * len(versions) + 2, 10))
    fig, axes = plt.subplots(
        rows, cols, figsize=(panel_width * cols, 2.9 * rows + 0.6), squeeze=False, sharey=False if stacked else "row"
    )
    rng = np.random.default_rng(0)
    for i, comparison in enumerate(comparisons):
        for j, (device, front) in enumerate(groups):
            row, col = (i * len(groups) + j, 0) if stacked else (i, j)
            ax = axes[row][col]
            part = df[(df.comparison == comparison) & (df.device == device) & (df.front == front)]
            ax.axhspan(reversed_below, holds_above, color="#eeeeee", zorder=0)
            ax.axhline(1.0, color="k", lw=0.8)
            for _, r in part.iterrows():
                x = versions.index(r["libtorch"]) + rng.uniform(-0.25, 0.25)
                low, high = r["ci_low"], r["ci_high"]
                if np.isfinite(low) and np.isfinite(high):
                    ax.plot([x, x], [low, high], color=VERDICT_COLORS[r["verdict"]], lw=1.3, alpha=0.8)
                ax.plot([x], [r["ratio"]], marker="o", ms=4, color=VERDICT_COLORS[r["verdict"]])
            ax.set_yscale("log")
            ax.set_xticks(range(len(versions)), versions)
            ax.set_xlim(-0.6, len(versions) - 0.4)
            ax.grid(True, axis="y", alpha=0.3)
            metric = part["metric"].iloc[0] if not part.empty else ""
            ax.set_title(f"{comparison} · {device}" + ("" if front == "cpp" else f" · {front}"), fontsize=9.5)
            if col == 0:
                ax.set_ylabel(f"slow / fast ({metric})")
            if row == rows - 1:
                ax.set_xlabel("libtorch version")
    handles = [Patch(color=c, label=v) for v, c in VERDICT_COLORS.items()]
    handles.append(Patch(color="#eeeeee", label=f"[{reversed_below:g}, {holds_above:g}]: too small to matter"))
    fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=9, frameon=False, bbox_to_anchor=(0.5, -0.05))
    fig.suptitle(
        f"Claim {claim} — {titles.get(claim, '')}\nslow / fast with its interval, one point per case", fontsize=11.5
    )
    fig.tight_layout()
    save(fig, path, dpi)
