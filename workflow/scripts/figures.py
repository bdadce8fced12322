"""The report's figures (matplotlib, PNG). One function per figure; `cell` figures show one
libtorch version on one device, `across` figures compare versions and devices.

Cell figures: claim 1 latency per call (cold start, changing shapes), claim 1 latency
distributions (steady, changing shapes), claim 2 time vs B and N, claim 3 time vs size and
density. Across figures: one trend per claim (ratio with its interval against the libtorch
version) and one mechanism figure per claim. Where there is nothing to draw, the figure
says `not run: <reason>` instead.
"""

import sys
import textwrap
import zlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from report_data import HARNESS_VARIANT, params_table, read_samples, read_table, version_key  # noqa: E402

VERDICT_COLORS = {"holds": "#1a7f37", "no clear difference": "#8c8c8c", "reversed": "#cf222e"}
# Fixed colours so that a variant looks the same in every figure.
VARIANT_STYLE = {
    "rows_from_blob_vstack": ("#cf222e", "blog slow: from_blob per row + vstack"),
    "rows_from_blob_cat": ("#fb8500", "from_blob per row + cat"),
    "rows_from_blob_stack": ("#bc6c25", "from_blob per row + stack"),
    "flat_from_blob": ("#0969da", "blog fast: flatten + one from_blob"),
    "prealloc_row_copy": ("#2a9d8f", "preallocate + copy per row"),
    "floor_memcpy": ("#000000", "floor: one memcpy"),
    "mask_index": ("#cf222e", "blog slow: index with mask, K times"),
    "masked_select": ("#fb8500", "masked_select, K times"),
    "indices_index": ("#0969da", "blog fast: indices once, index K times"),
    "indices_index_select": ("#2a9d8f", "indices once, index_select K times"),
    "floor_copy": ("#000000", "floor: copy the selected values"),
    "native": ("#000000", "native C++ (torch::nn)"),
    "aotinductor": ("#6f42c1", "AOTInductor"),
}
TORCHSCRIPT_COLORS = ["#cf222e", "#0969da", "#fb8500", "#2a9d8f", "#bc6c25", "#d63384", "#6c757d", "#20c997"]
FLOORS = {"floor_memcpy", "floor_copy"}


def style_of(variant, order=None):
    if variant in VARIANT_STYLE:
        return VARIANT_STYLE[variant]
    order = order or []
    index = order.index(variant) if variant in order else zlib.crc32(variant.encode())
    return TORCHSCRIPT_COLORS[index % len(TORCHSCRIPT_COLORS)], variant.replace("_", " ")


def cell_title(libtorch, version, device):
    name = f"libtorch {libtorch}" + (f" ({version})" if version != libtorch else "")
    return f"{name} on {device}"


def placeholder(path, title, message, dpi):
    fig, ax = plt.subplots(figsize=(7, 1.6))
    ax.axis("off")
    ax.text(0.0, 0.8, title, fontsize=12, weight="bold", transform=ax.transAxes, va="top")
    ax.text(0.0, 0.4, "\n".join(textwrap.wrap(message, 95)), fontsize=10, transform=ax.transAxes, va="top")
    fig.savefig(path, dpi=dpi)
    plt.close(fig)


NICE = np.array([1, 1.5, 2, 3, 5, 7])
NICE_FINE = np.array([1, 1.1, 1.2, 1.3, 1.5, 1.7, 2, 2.5, 3, 4, 5, 6, 7, 8, 9])


def plain_log(ax, axis="both"):
    """Log axes with plain tick labels (0.2, 1, 20) instead of powers of ten, and enough of
    them: an axis spanning less than about a decade gets 1-1.5-2-3-5-7 ticks."""
    formatter = matplotlib.ticker.FuncFormatter(lambda value, _: f"{value:g}")
    for name in ("x", "y") if axis == "both" else (axis,):
        target = ax.xaxis if name == "x" else ax.yaxis
        if (ax.get_xscale() if name == "x" else ax.get_yscale()) != "log":
            continue
        low, high = sorted(ax.get_xlim() if name == "x" else ax.get_ylim())
        if low > 0 and high / low < 30:
            decades = 10.0 ** np.arange(np.floor(np.log10(low)) - 1, np.ceil(np.log10(high)) + 1)
            for steps in (NICE_FINE, NICE):
                ticks = np.unique(np.round((decades[:, None] * steps[None, :]).ravel(), 12))
                ticks = ticks[(ticks >= low) & (ticks <= high)]
                if len(ticks) <= 8:
                    break
            target.set_major_locator(matplotlib.ticker.FixedLocator(ticks))
        target.set_major_formatter(formatter)
        target.set_minor_formatter(matplotlib.ticker.NullFormatter())


def save(fig, path, dpi):
    for ax in fig.axes:
        plain_log(ax)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    plt.close(fig)


def variant_label(variant, front):
    label = style_of(variant)[1]
    return label + (" [python]" if front != "cpp" else "")


def variant_handles(df):
    """Legend entries: one per variant in the fixed order, plus one for the Python front."""
    variants = sorted(df["variant"].unique(), key=lambda v: (list(VARIANT_STYLE).index(v) if v in VARIANT_STYLE
                                                             else len(VARIANT_STYLE), v))
    handles = [Line2D([], [], color=style_of(v)[0], ls="--" if v in FLOORS else "-", marker="o", ms=4,
                      lw=2.2 if v in FLOORS else 1.4, label=style_of(v)[1]) for v in variants]
    if (df["front"] != "cpp").any():
        handles.append(Line2D([], [], color="#555555", ls=":", marker="s", mfc="none", ms=4,
                              label="same variant from Python (front=python)"))
    return handles


def front_style(variant, front):
    """Line style, marker and face of a variant's line; the Python front is dotted with open squares."""
    if front != "cpp":
        return {"ls": ":", "marker": "s", "mfc": "none"}
    return {"ls": "--" if variant in FLOORS else "-", "marker": "o"}


# ---- claim 2 ---------------------------------------------------------------------------

def claim2_time(summary, title, path, dpi):
    df = summary[(summary.technique == "batch_from_rows") & (summary.variant != HARNESS_VARIANT)]
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
                ax.errorbar(g[x], g["median_ns"] / 1e3,
                            yerr=[(g["median_ns"] - g["q25_ns"]) / 1e3, (g["q75_ns"] - g["median_ns"]) / 1e3],
                            color=color, ms=3.5, lw=2.2 if variant in FLOORS else 1.4, capsize=2,
                            **front_style(variant, front))
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_title(f"{facet} = {facets[col]}", fontsize=10)
            ax.set_xlabel(f"{x} ({'rows' if x == 'B' else 'floats per row'})")
            ax.grid(True, which="major", alpha=0.3)
        axes[row][0].set_ylabel("median time per batch (µs)")
    fig.legend(handles=variant_handles(df), loc="upper center", ncol=3, fontsize=9, frameon=False,
               bbox_to_anchor=(0.5, 0.0))
    fig.suptitle(f"Claim 2 — building a [B, N] tensor from B rows: {title}", fontsize=12)
    fig.tight_layout()
    save(fig, path, dpi)


# ---- claim 3 ---------------------------------------------------------------------------

def claim3_time(summary, title, path, dpi):
    df = summary[(summary.technique == "mask_indexing") & (summary.variant != HARNESS_VARIANT)]
    df = df.join(params_table(df["params"]), on="params")
    df["size"] = df["rows"] * df["cols"]
    densities, ks = sorted(df["density"].unique()), sorted(df["K"].unique())
    fig, axes = plt.subplots(len(ks), len(densities), figsize=(3.6 * len(densities), 3.0 * len(ks) + 0.6),
                             squeeze=False, sharex=True, sharey=True)
    for i, k in enumerate(ks):
        for j, density in enumerate(densities):
            ax = axes[i][j]
            panel = df[(df.K == k) & (df.density == density)]
            for (variant, front), g in panel.groupby(["variant", "front"], sort=True):
                g = g.sort_values("size")
                ax.plot(g["size"], g["median_ns"] / k / 1e3, color=style_of(variant)[0], ms=3.5,
                        lw=2.2 if variant in FLOORS else 1.4, **front_style(variant, front))
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_title(f"density {density:g}, K = {k}", fontsize=10)
            ax.grid(True, alpha=0.3)
            if i == len(ks) - 1:
                ax.set_xlabel("elements of x (rows × cols)")
        axes[i][0].set_ylabel("median time per application (µs)")
    fig.legend(handles=variant_handles(df), loc="upper center", ncol=3, fontsize=9, frameon=False,
               bbox_to_anchor=(0.5, 0.0))
    fig.suptitle(f"Claim 3 — the same mask applied K times: {title}", fontsize=12)
    fig.tight_layout()
    save(fig, path, dpi)


# ---- claim 1 ---------------------------------------------------------------------------

def size_text(value):
    """A size as written in the config: 8, not the 8.0 it was parsed into."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def _model_cases(samples):
    df = samples[(samples.technique == "model_inference") & (samples.variant != HARNESS_VARIANT)].copy()
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
    sizes = df[extra].apply(lambda row: " ".join(f"{name}={size_text(v)}" for name, v in row.items()
                                                 if pd.notna(v) and v != ""), axis=1)
    df["panel"] = df["model"] + ("" if not extra else " · " + sizes)
    return df


def _variant_order(df):
    variants = sorted(df["variant"].unique(), key=lambda v: (v != "native", v))
    return variants


def _claim1_legend(fig, variants, extra=()):
    handles = [Line2D([], [], color=style_of(v, variants)[0], lw=2.4 if v == "native" else 1.4, label=v)
               for v in variants]
    fig.legend(handles=handles + list(extra), loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=9,
               frameon=False)


def _claim1_grid(samples, scenarios_wanted):
    """The claim-1 cases and one axes per (model panel, scenario) for the scenarios measured,
    or None when none of `scenarios_wanted` was measured."""
    df = _model_cases(samples)
    panels = sorted(df["panel"].unique())
    scenarios = [s for s in scenarios_wanted if s in set(df["scenario"])]
    if not scenarios:
        return None
    fig, axes = plt.subplots(len(panels), len(scenarios), figsize=(6.2 * len(scenarios), 3.3 * len(panels) + 0.5),
                             squeeze=False)
    cells = [(axes[i][j], panel, scenario, df[(df.panel == panel) & (df.scenario == scenario)])
             for i, panel in enumerate(panels) for j, scenario in enumerate(scenarios)]
    return fig, cells, _variant_order(df)


def claim1_latency_per_call(samples, title, path, dpi):
    grid = _claim1_grid(samples, ("cold", "shapes"))
    if grid is None:
        return placeholder(path, "Claim 1 — latency per call", f"{title}: no cold-start or shape-change scenario "
                           "was measured.", dpi)
    fig, cells, variants = grid
    for ax, panel_name, scenario, part in cells:
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
                ax.scatter(order, ns, s=9 if variant == "native" else 5, color=color, alpha=0.7,
                           linewidths=0, zorder=3 if variant == "native" else 2)
                ax.scatter(order[new_shape], ns[new_shape], marker="^", s=30, facecolor="none",
                           edgecolor=color, zorder=4)
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
    extra = [Line2D([], [], ls="none", marker="^", mfc="none", mec="k", label="first call with a new shape"),
             Line2D([], [], ls="none", marker="*", color="k", ms=9, label="call with a runner event")]
    _claim1_legend(fig, variants, extra)
    fig.suptitle(f"Claim 1 — latency per call, native vs TorchScript settings: {title}", fontsize=12)
    fig.tight_layout()
    save(fig, path, dpi)


def claim1_distribution(samples, title, path, dpi, spike_factor):
    grid = _claim1_grid(samples, ("steady", "shapes"))
    if grid is None:
        return placeholder(path, "Claim 1 — latency distributions", f"{title}: no steady or shape-change scenario "
                           "was measured.", dpi)
    fig, cells, variants = grid
    for ax, panel_name, scenario, part in cells:
        for (variant, front), g in part.groupby(["variant", "front"], sort=True):
            values = np.sort(g["ns"].to_numpy() / 1e6)
            exceed = 1.0 - np.arange(values.size) / values.size  # fraction of calls >= value
            ax.step(values, exceed, where="post", color=style_of(variant, variants)[0],
                    lw=2.4 if variant == "native" else 1.2, ls="-" if front == "cpp" else ":")
        native = part[part.variant == "native"]["ns"]
        if not native.empty:
            ax.axvline(spike_factor * native.median() / 1e6, color="k", ls="--", lw=0.8)
            ax.text(spike_factor * native.median() / 1e6, 1.0, f" {spike_factor:g}× native median",
                    fontsize=8, va="top")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.grid(True, alpha=0.3)
        ax.set_title(f"{panel_name}\n{'steady state' if scenario == 'steady' else 'changing shapes'}",
                     fontsize=9.5)
        ax.set_xlabel("latency (ms, log)")
        ax.set_ylabel("fraction of calls at least this slow")
    _claim1_legend(fig, variants)
    fig.suptitle(f"Claim 1 — how often a call is slow (tail of the latency distribution): {title}", fontsize=12)
    fig.tight_layout()
    save(fig, path, dpi)


# ---- across versions: trends and mechanisms ------------------------------------------------

def _cells(table):
    """(device, front) groups present, with the version order by real libtorch version."""
    return sorted(table.groupby(["device", "front"]).groups)


def trend(claims, claim, path, dpi, holds_above, reversed_below, titles):
    df = claims[(claims.claim == claim) & claims.primary.astype(str).isin(["True", "true", "1"])
                & (claims.verdict != "not run")]
    if df.empty:
        reasons = claims[(claims.claim == claim) & (claims.verdict == "not run")]["reason"].unique()
        return placeholder(path, f"Claim {claim} — ratio by libtorch version",
                           "; ".join(reasons[:3]) or "not run: no results", dpi)
    comparisons = list(dict.fromkeys(df["comparison"]))
    groups = _cells(df)
    versions = sorted(df["libtorch"].unique(), key=version_key)
    # Side by side, many versions would squeeze each panel into a strip: then one panel a row.
    stacked = len(versions) > 3 and len(groups) > 1
    rows, cols = (len(comparisons) * len(groups), 1) if stacked else (len(comparisons), len(groups))
    panel_width = max(5.5, min(1.2 * len(versions) + 2, 10))
    fig, axes = plt.subplots(rows, cols, figsize=(panel_width * cols, 2.9 * rows + 0.6), squeeze=False,
                             sharey=False if stacked else "row")
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
    fig.suptitle(f"Claim {claim} — {titles.get(claim, '')}\nslow / fast with its interval, one point per case",
                 fontsize=11.5)
    fig.tight_layout()
    save(fig, path, dpi)


def _cell_groups(table):
    keys = table[["libtorch", "version", "device", "front"]].drop_duplicates()
    keys = keys.assign(order=keys["libtorch"].map(version_key)).sort_values(["order", "device", "front"])
    return [tuple(k) for k in keys[["libtorch", "version", "device", "front"]].itertuples(index=False)]


def _grid(n):
    cols = min(n, 3)
    return (n + cols - 1) // cols, cols


def mechanism_claim1(mech, path, dpi, spike_factor=10.0):
    df = mech[mech.claim == "1"]
    if df.empty:
        return placeholder(path, "Claim 1 — where the spikes are", "not run: no model_inference results", dpi)
    wide = df.pivot_table(index=["libtorch", "version", "device", "front", "variant"], columns="quantity",
                          values="value", aggfunc="sum", fill_value=0).reset_index()
    for column in ("spikes", "spikes_at_new_shape", "spikes_on_event_same_shape"):
        if column not in wide:
            wide[column] = 0
    cells = _cell_groups(wide)
    rows, cols = _grid(len(cells))
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.4 * rows + 0.6), squeeze=False)
    for ax, cell in zip(axes.flat, cells):
        part = wide[(wide[["libtorch", "version", "device", "front"]].apply(tuple, axis=1) == cell)]
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
        ax.set_title(cell_title(cell[0], cell[1], cell[2]) + ("" if cell[3] == "cpp" else f" · {cell[3]}"),
                     fontsize=9.5)
    for ax in list(axes.flat)[len(cells):]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=9, frameon=False, bbox_to_anchor=(0.5, -0.04))
    fig.suptitle("Claim 1 — where the spikes fall (all scenarios together)", fontsize=11.5)
    fig.tight_layout()
    save(fig, path, dpi)


def mechanism_claim2(mech, path, dpi):
    df = mech[(mech.claim == "2") & (mech.quantity == "per_row_ns")].copy()
    if df.empty:
        return placeholder(path, "Claim 2 — cost per row", "not run: no batch_from_rows results", dpi)
    df["N"] = df["case"].str.removeprefix("N=").astype(float)
    cells = _cell_groups(df)
    rows, cols = _grid(len(cells))
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.4 * rows + 0.8), squeeze=False, sharey=True)
    for ax, cell in zip(axes.flat, cells):
        part = df[df[["libtorch", "version", "device", "front"]].apply(tuple, axis=1) == cell]
        for variant, g in part.groupby("variant", sort=True):
            g = g.sort_values("N")
            ax.plot(g["N"], g["value"].clip(lower=0.01), marker="o", ms=3.5, color=style_of(variant)[0],
                    ls="--" if variant in FLOORS else "-", label=style_of(variant)[1])
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.grid(True, alpha=0.3)
        ax.set_xlabel("N (floats per row)")
        ax.set_title(cell_title(*cell[:3]), fontsize=9.5)
    for ax in axes[:, 0]:
        ax.set_ylabel("cost per row (ns, slope over B)")
    for ax in list(axes.flat)[len(cells):]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=9, frameon=False, bbox_to_anchor=(0.5, -0.07))
    fig.suptitle("Claim 2 — what each extra row costs: per-row tensors vs one copy", fontsize=11.5)
    fig.tight_layout()
    save(fig, path, dpi)


def mechanism_claim3(mech, path, dpi):
    df = mech[(mech.claim == "3") & (mech.quantity == "conversion_ns")].copy()
    if df.empty:
        return placeholder(path, "Claim 3 — cost of one mask conversion", "not run: no mask_indexing results with K > 1",
                           dpi)
    df = df.join(params_table(df["case"]), on="case")
    cells = _cell_groups(df)
    rows, cols = _grid(len(cells))
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.4 * rows + 0.8), squeeze=False, sharey=True)
    densities = sorted(df["density"].unique())
    colors = plt.cm.viridis(np.linspace(0.1, 0.85, len(densities)))
    for ax, cell in zip(axes.flat, cells):
        part = df[df[["libtorch", "version", "device", "front"]].apply(tuple, axis=1) == cell]
        for density, color in zip(densities, colors):
            for (rows_, k), g in part[part.density == density].groupby(["rows", "K"]):
                g = g.sort_values("cols")
                ax.plot(g["cols"], g["value"].clip(lower=1.0), marker="o" if rows_ == part["rows"].min() else "s",
                        ms=4, color=color, label=f"density {density:g}, rows {rows_}, K {k}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.grid(True, alpha=0.3)
        ax.set_xlabel("cols (length of the mask)")
        ax.set_title(cell_title(*cell[:3]) + ("" if cell[3] == "cpp" else f" · {cell[3]}"), fontsize=9.5)
    for ax in axes[:, 0]:
        ax.set_ylabel("one conversion (ns)")
    for ax in list(axes.flat)[len(cells):]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=8.5, frameon=False, bbox_to_anchor=(0.5, -0.1))
    fig.suptitle("Claim 3 — the cost mask indexing pays on every call: one mask → indices conversion", fontsize=11.5)
    fig.tight_layout()
    save(fig, path, dpi)


# ---- entry points ------------------------------------------------------------------------------

def run_status(runs, version, device, technique):
    """('ok', '') or ('not run', reason) for one technique in one cell (any front that ran counts)."""
    rows = runs[(runs.version == version) & (runs.device == device) & (runs.technique == technique)]
    if rows.empty:
        return "not run", f"technique {technique} was not measured (not enabled in this config)"
    if (rows.status == "ok").any():
        return "ok", ""
    return "not run", rows.iloc[0]["reason"] or rows.iloc[0]["status"]


def cell_figures(samples_paths, summary_path, runs_path, version, device, out, dpi, spike_factor):
    runs = read_table(runs_path)
    summary = read_table(summary_path)
    summary = summary[(summary.version == version) & (summary.device == device)]
    libtorch = runs[runs.version == version]["libtorch"].iloc[0] if (runs.version == version).any() else version
    title = cell_title(libtorch, version, device)
    status = {t: run_status(runs, version, device, t)
              for t in ("model_inference", "batch_from_rows", "mask_indexing")}
    if status["model_inference"][0] == "ok":
        samples = read_samples([p for p in samples_paths if "model_inference" in p])
        claim1_latency_per_call(samples, title, out["claim1_latency"], dpi)
        claim1_distribution(samples, title, out["claim1_distribution"], dpi, spike_factor)
    else:
        for key, name in (("claim1_latency", "latency per call"), ("claim1_distribution", "latency distributions")):
            placeholder(out[key], f"Claim 1 — {name}: {title}", f"not run: {status['model_inference'][1]}", dpi)
    for key, technique, draw in (("claim2_time", "batch_from_rows", claim2_time),
                                 ("claim3_time", "mask_indexing", claim3_time)):
        if status[technique][0] == "ok":
            draw(summary, title, out[key], dpi)
        else:
            placeholder(out[key], f"Claim {key[5]} — {title}", f"not run: {status[technique][1]}", dpi)


def across_figures(claims_path, mechanism_path, out, dpi, settings, titles):
    claims = read_table(claims_path)
    mech = read_table(mechanism_path)
    for claim in ("1", "2", "3"):
        trend(claims, claim, out[f"claim{claim}_trend"], dpi, float(settings["holds_above"]),
              float(settings["reversed_below"]), titles)
    mechanism_claim1(mech, out["claim1_mechanism"], dpi, float(settings["spike_factor"]))
    mechanism_claim2(mech, out["claim2_mechanism"], dpi)
    mechanism_claim3(mech, out["claim3_mechanism"], dpi)


def main(snakemake):
    with open(snakemake.log[0], "w") as log:
        sys.stderr = log
        settings = snakemake.params.settings
        dpi = int(settings["figure_dpi"])
        out = dict(snakemake.output.items())
        if snakemake.params.kind == "cell":
            cell_figures(list(snakemake.input.samples), snakemake.input.summary, snakemake.input.runs,
                         snakemake.wildcards.version, snakemake.wildcards.device, out, dpi,
                         float(settings["spike_factor"]))
        else:
            across_figures(snakemake.input.claims, snakemake.input.mechanism, out, dpi, settings,
                           snakemake.params.titles)


if __name__ == "__main__" and "snakemake" in globals():
    main(snakemake)  # noqa: F821 -- injected by Snakemake's script directive
