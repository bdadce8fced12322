"""A claim across libtorch releases (its registry `trend`: one comparison, one series per case
family): the ratio with its interval per release, in version order, with the changes the rule
of libtorch_bench.trend finds marked; and the median times of the comparison's slow and fast
variants per release, so a reader sees which side moved; and the trend small, at a glance, beside
the claim's finding. Devices (and fronts) are panels."""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D

from .. import trend as trends
from ..findings_across import TREND_RELEASES
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


def trend_data(ctx, path, dpi):
    """(points, changes, band) of the claim's trend; None where no release measured it (the
    'not run' card drawn instead)."""
    claim = ctx.registry_claim
    points = trends.family_points(ctx.claims, claim.trend) if claim.trend else None
    if points is None or points.empty:
        placeholder(path, f"Claim {claim.id} — across libtorch releases", "not run: no release measured it", dpi)
        return None
    band = float(ctx.settings["reversed_below"]), float(ctx.settings["holds_above"])
    return points, trends.changes(ctx.claims, claim.id, claim.trend), band


def trend(ctx, path, dpi):
    data = trend_data(ctx, path, dpi)
    if data is None:
        return
    (points, found, (low, high)), claim = data, ctx.registry_claim
    spec = claim.trend

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


def trend_glance(ctx, path, dpi):
    """The trend at a glance, beside the claim's finding: the points of `trend`, small, on the
    panels (device, front) with TREND_RELEASES releases or more; each change a dashed line, and
    only the first and last releases and those a change reached named, so that it stays legible
    at 360 px (4.8 in at the default 80 dpi)."""
    data = trend_data(ctx, path, dpi)
    if data is None:
        return
    (points, found, (low, high)), spec = data, ctx.registry_claim.trend
    counts = points.groupby(["device", "front"])["libtorch"].nunique()
    groups = sorted(counts[counts >= TREND_RELEASES].index) or sorted(counts.index)
    families = sorted(points["family"].unique(), key=lambda v: (isinstance(v, str), v))
    colors = {f: FAMILY_COLORS[i % len(FAMILY_COLORS)] for i, f in enumerate(families)}
    fig, axes = plt.subplots(len(groups), 1, figsize=(4.8, 1.2 * len(groups) + 0.45), squeeze=False)
    for ax, (device, front) in zip(axes[:, 0], groups, strict=True):
        part = points[(points.device == device) & (points.front == front)]
        releases = sorted(part["libtorch"].unique(), key=version_key)
        ax.axhspan(low, high, color="#eeeeee", zorder=0)
        ax.axhline(1.0, color="k", lw=0.6)
        for family, g in part.groupby("family"):
            x = g["libtorch"].map(releases.index).to_numpy()
            y = g["ratio"].to_numpy()
            err = np.clip(np.vstack([y - g["ci_low"].to_numpy(), g["ci_high"].to_numpy() - y]), 0, None)
            ax.errorbar(x, y, yerr=err, color=colors[family], marker="o", ms=2.5, lw=1.1, elinewidth=0.7, capsize=0)
        moved = found[(found.device == device) & (found.front == front)]
        for r in moved.itertuples(index=False):
            ax.axvline((releases.index(r.before) + releases.index(r.after)) / 2, color="#555555", ls="--", lw=0.8)
        named = sorted({0, len(releases) - 1} | {releases.index(a) for a in moved["after"]})
        labels = []  # a name within two releases of the one before it goes a line lower
        for i, at in enumerate(named):
            crowded = i and at - named[i - 1] <= 2 and not labels[-1].startswith("\n")
            labels.append(("\n" if crowded else "") + releases[at])
        ax.set_xticks(range(len(releases)), minor=True)
        ax.set_xticks(named, labels, fontsize=7.5)
        ax.tick_params(axis="x", which="minor", length=2)
        ax.set_xlim(-0.5, len(releases) - 0.5)
        ax.set_yscale("log")
        ax.tick_params(axis="y", labelsize=7.5)
        ax.grid(True, axis="y", alpha=0.3)
        ax.set_title(device + ("" if front == "cpp" else f" · {front}"), fontsize=7.5, loc="left", pad=2)
        ax.set_ylabel("slow / fast", fontsize=7.5)
        handles = [
            Line2D([], [], color=colors[f], marker="o", ms=2.5, lw=1.1, label=f"{spec['family']}={f}")
            for f in families
            if f in set(part["family"])
        ]
        ax.legend(
            handles=handles,
            fontsize=7,
            ncol=len(handles),
            frameon=False,
            loc="lower right",
            bbox_to_anchor=(1.0, 0.98),
            handlelength=1.2,
            columnspacing=0.8,
            borderaxespad=0,
        )
    save(fig, path, dpi)
