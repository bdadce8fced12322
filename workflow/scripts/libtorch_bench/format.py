"""Numbers as the page prints them."""

import numpy as np


def ratio(value):
    if value is None or not np.isfinite(value):
        return "–"
    return f"{value:.3g}×"


def duration(ns):
    if ns is None or not np.isfinite(ns):
        return "–"
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def count(value):
    """An expected count: 'about 3', 'below 1'."""
    if value is None or not np.isfinite(value):
        return "–"
    return "below 1" if value < 1 else f"about {value:.0f}"


def duration_or_below(ns):
    """A time estimated as a difference: 'below resolution' where it is not above zero."""
    return duration(ns) if ns > 0 else "below resolution"
