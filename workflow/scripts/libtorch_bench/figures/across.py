"""A claim across libtorch releases (its registry `trend`: one comparison, one series per case
family): the ratio with its interval per release, in version order, with the changes the rule
of libtorch_bench.trend finds marked; and the median times of the comparison's slow and fast
variants per release, so a reader sees which side moved. Devices (and fronts) are panels."""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D

from .. import trend as trends
from ..samples import version_key
from .common import placeholder, save

FAMILY_COLORS = ["#0969da", "#cf222e", "#2a9d8f", "#fb8500", "#6f42c1", "#bc6c25", "#d63384", "#6c757d"]


def _panels(points, titles_of, ylabel, path, dpi, title, draw):
    groups = sorted(points.groupby(["device", "front"]).groups)
    releases = sorted(points["libtorch"].unique(), key=version_key)
    width = max(6.0, min(0.45 * len(releases) + 3, 14))
    fig, axes = plt.subplots(len(groups), 1, figsize=(width, 3.2 * len(groups) + 0.9), squeeze=False, sharex=True)
    families = sorted(points["family"].unique(), key=lambda v: (isinstance(v, str), v))
    colors = {f: FAMILY_COLORS[i % len(FAMILY_COLORS)] for i, f in enumerate(families)}
    for ax, (device, front) in zip(axes[:, 0], groups, strict=True):
        part = points[(points.device == device) & (points.front == front)]
        draw(ax, part, releases, colors, device, front)
        ax.set_yscale("log")
        ax.set_xticks(
            range(len(releases)),
            releases,
            rotation=45 if len(releases) > 6 else 0,
            ha="right" if len(releases) > 6 else "center",
            fontsize=8.5,
        )
        ax.set_xlim(-0.5, len(releases) - 0.5)
        ax.grid(True, axis="y", alpha=0.3)
        ax.set_title(f"{device}" + ("" if front == "cpp" else f" · {front}"), fontsize=9.5)
        ax.set_ylabel(ylabel)
    axes[-1][0].set_xlabel("libtorch release (in version order)")
    handles = [Line2D([], [], color=colors[f], marker="o", label=titles_of(f)) for f in families]
    fig.legend(
        handles=handles,
        loc="upper center",
        ncol=min(len(handles), 5),
        fontsize=9,
        frameon=False,
        bbox_to_anchor=(0.5, 0.0),
    )
    fig.suptitle(title, fontsize=11.5)
    fig.tight_layout()
    save(fig, path, dpi)


def trend(ctx, path, dpi):
    claim = ctx.registry_claim
    spec = claim.trend
    points = trends.family_points(ctx.claims, spec) if spec else None
    if points is None or points.empty:
        return placeholder(path, f"Claim {claim.id} — across libtorch releases", "not run: no release measured it", dpi)
    found = trends.changes(ctx.claims, claim.id, spec)
    low, high = float(ctx.settings["reversed_below"]), float(ctx.settings["holds_above"])

    def draw(ax, part, releases, colors, device, front):
        ax.axhspan(low, high, color="#eeeeee", zorder=0)
        ax.axhline(1.0, color="k", lw=0.8)
        for family, g in part.groupby("family"):
            x = g["libtorch"].map(releases.index).to_numpy()
            y = g["ratio"].to_numpy()
            err = np.vstack([y - g["ci_low"].to_numpy(), g["ci_high"].to_numpy() - y])
            ax.errorbar(x, y, yerr=np.clip(err, 0, None), color=colors[family], marker="o", ms=4, lw=1.4, capsize=2)
        labels = {}  # one label per step, naming every family that moved there (else they overprint)
        for r in found[(found.device == device) & (found.front == front)].itertuples(index=False):
            at = (releases.index(r.before) + releases.index(r.after)) / 2
            labels.setdefault(at, []).append(f"{r.family} {r.direction}")
        for at, text in labels.items():
            ax.axvline(at, color="#555555", ls="--", lw=0.9)
            ax.text(at, ax.get_ylim()[1], " " + ", ".join(text), fontsize=7.5, va="top", rotation=90)

    comparison = spec["comparison"]
    _panels(
        points,
        lambda f: f"{spec['family']} = {f}",
        "slow / fast (median case)",
        path,
        dpi,
        f"Claim {claim.id} — {comparison} across releases: the median case of each {spec['family']}, "
        "with its interval; dashed: a change",
        draw,
    )


def times(ctx, path, dpi):
    claim = ctx.registry_claim
    spec = claim.trend
    points = trends.family_points(ctx.claims, spec) if spec else None
    if points is None or points.empty:
        return placeholder(path, f"Claim {claim.id} — times across releases", "not run: no release measured it", dpi)
    slow, fast = points["slow_variant"].iloc[0], points["fast_variant"].iloc[0]
    metric = "median" if points["metric"].iloc[0] != "p99" else "p99"

    def draw(ax, part, releases, colors, device, front):
        for family, g in part.groupby("family"):
            x = g["libtorch"].map(releases.index).to_numpy()
            ax.plot(x, g[f"{metric}_slow_ns"] / 1e3, color=colors[family], marker="o", ms=4, lw=1.4)
            ax.plot(x, g[f"{metric}_fast_ns"] / 1e3, color=colors[family], marker="s", ms=4, lw=1.4, ls="--")

    _panels(
        points,
        lambda f: f"{spec['family']} = {f}",
        f"{metric} time per call (µs)",
        path,
        dpi,
        f"Claim {claim.id} — which side moved: {slow} (solid) and {fast} (dashed), the median case of each "
        f"{spec['family']}",
        draw,
    )
