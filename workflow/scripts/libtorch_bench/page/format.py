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
