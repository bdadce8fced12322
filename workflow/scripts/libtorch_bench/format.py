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


def rate(value, signed=False):
    """A rate of events per call: 0.0047 -> '0.47%'; signed: '+0.47%' (an excess)."""
    if value is None or not np.isfinite(value):
        return "–"
    if value == 0:
        return "0%"
    return f"{100 * value:{'+' if signed else ''}.2g}%"


def count(value):
    """An expected count: 'about 3', 'below 1'."""
    if value is None or not np.isfinite(value):
        return "–"
    return "below 1" if value < 1 else f"about {value:.0f}"


def duration_or_below(ns):
    """A time estimated as a difference: 'below resolution' where it is not above zero."""
    return duration(ns) if ns > 0 else "below resolution"


NAMED = 4  # a warning names this many items; beyond that it names the first and counts the rest


def first_few(items, where, sep=", "):
    """'a, b, c, d and 19 more (where)': a list that stays a line on a wide run (23 releases),
    while `where` (a CSV) lists them all."""
    items = list(items)
    if len(items) <= NAMED:
        return sep.join(items)
    return f"{sep.join(items[:NAMED])} and {len(items) - NAMED} more ({where} lists them all)"


def and_list(items):
    """'a, b and c'."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
