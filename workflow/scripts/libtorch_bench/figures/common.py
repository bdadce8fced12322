"""What every figure shares: variant colours and labels (from the claim registry), log axes
with plain tick labels, saving, the 'not run' card and the platform title."""

import io
import textwrap
import zlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from PIL import Image  # noqa: E402

from .. import registry  # noqa: E402

VERDICT_COLORS = {"holds": "#1a7f37", "equivalent": "#0969da", "inconclusive": "#8c8c8c", "reversed": "#cf222e"}
# Variants the registry does not style (claim 1's TorchScript settings) take these in order.
FALLBACK_COLORS = registry.GENERIC_COLORS
REGISTRY = registry.load()
FLOORS = REGISTRY.floors


def style_of(variant, order=None):
    """(colour, label): the registry's, else a colour by position in `order` (or by name)."""
    style = REGISTRY.style(variant)
    if style:
        return style
    order = order or []
    index = order.index(variant) if variant in order else zlib.crc32(variant.encode())
    return FALLBACK_COLORS[index % len(FALLBACK_COLORS)], variant.replace("_", " ")


def platform_title(libtorch, version, device):
    name = f"libtorch {libtorch}" + (f" ({version})" if version != libtorch else "")
    return f"{name} on {device}"


def placeholder(path, title, message, dpi):
    fig, ax = plt.subplots(figsize=(7, 1.6))
    ax.axis("off")
    ax.text(0.0, 0.8, title, fontsize=12, weight="bold", transform=ax.transAxes, va="top")
    ax.text(0.0, 0.4, "\n".join(textwrap.wrap(message, 95)), fontsize=10, transform=ax.transAxes, va="top")
    write_png(fig, path, dpi)


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
    write_png(fig, path, dpi, bbox_inches="tight")


def write_png(fig, path, dpi, **savefig):
    """The figure as a 256-colour PNG: these line and point plots look the same, and each file is
    about a third the size (the answer page inlines every figure; a 22-release page was 16 MB)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, **savefig)
    plt.close(fig)
    Image.open(buffer).convert("RGB").quantize(256).save(path, format="PNG", optimize=True)


def variant_label(variant, front):
    label = style_of(variant)[1]
    return label + (" [python]" if front != "cpp" else "")


def variant_handles(df):
    """Legend entries: one per variant in the registry's order, plus one for the Python front."""
    order = REGISTRY.legend_order()
    variants = sorted(df["variant"].unique(), key=lambda v: (order.index(v) if v in order else len(order), v))
    handles = [
        Line2D(
            [],
            [],
            color=style_of(v)[0],
            ls="--" if v in FLOORS else "-",
            marker="o",
            ms=4,
            lw=2.2 if v in FLOORS else 1.4,
            label=style_of(v)[1],
        )
        for v in variants
    ]
    if (df["front"] != "cpp").any():
        handles.append(
            Line2D(
                [],
                [],
                color="#555555",
                ls=":",
                marker="s",
                mfc="none",
                ms=4,
                label="same variant from Python (front=python)",
            )
        )
    return handles


def front_style(variant, front):
    """Line style, marker and face of a variant's line; the Python front is dotted with open squares."""
    if front != "cpp":
        return {"ls": ":", "marker": "s", "mfc": "none"}
    return {"ls": "--" if variant in FLOORS else "-", "marker": "o"}


def platform_groups(table):
    """(libtorch, version, device, front) groups present, ordered by real libtorch version."""
    from ..samples import version_key

    keys = table[["libtorch", "version", "device", "front"]].drop_duplicates()
    keys = keys.assign(order=keys["libtorch"].map(version_key)).sort_values(["order", "device", "front"])
    return [tuple(k) for k in keys[["libtorch", "version", "device", "front"]].itertuples(index=False)]


def panel_grid(n):
    cols = min(n, 3)
    return (n + cols - 1) // cols, cols


def size_text(value):
    """A size as written in the config: 8, not the 8.0 it was parsed into."""
    return f"{value:g}" if isinstance(value, float) else str(value)
