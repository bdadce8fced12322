"""The version trend: releases in version order, and the change rule — a step is found where it
was put, none on a flat noisy trend, and a lone case that steps does not make a family change."""

import numpy as np
import pandas as pd

from libtorch_bench.trend import changes, family_points

RELEASES = ["1.8.1", "1.9.1", "1.10.2", "1.11.0", "2.0.1", "2.2.2", "2.13.0"]
SPEC = {"comparison": "pair", "family": "N"}


def trend_rows(ratio_of, width, rng):
    rows = []
    for i, release in enumerate(RELEASES):
        for n in (8, 512):
            for b in (1, 16, 256):
                ratio = ratio_of(i, n, b) * np.exp(rng.normal(0, 0.01))
                rows.append(
                    {
                        "claim": "2",
                        "comparison": "pair",
                        "libtorch": release,
                        "version": release,
                        "device": "cpu",
                        "front": "cpp",
                        "case": f"B={b};N={n}",
                        "slow_variant": "s",
                        "fast_variant": "f",
                        "ratio": ratio,
                        "ci_low": ratio * (1 - width),
                        "ci_high": ratio * (1 + width),
                        "verdict": "holds",
                    }
                )
    return pd.DataFrame(rows)


def test_a_step_is_found_between_the_releases_where_it_was_put():
    rng = np.random.default_rng(1)
    rows = trend_rows(lambda i, n, b: 5.0 if i < 4 or n == 512 else 2.0, 0.05, rng)  # N=8 falls at 2.0.1
    found = changes(rows, "2", SPEC)
    assert list(found[["family", "before", "after", "direction"]].itertuples(index=False, name=None)) == [
        ("N=8", "1.11.0", "2.0.1", "fell")
    ]
    assert found.ratio_before.iloc[0] > 4.5 and found.ratio_after.iloc[0] < 2.5


def test_a_flat_noisy_trend_has_no_change():
    rng = np.random.default_rng(2)
    rows = trend_rows(lambda i, n, b: 3.0 * np.exp(rng.normal(0, 0.03)), 0.10, rng)
    assert changes(rows, "2", SPEC).empty


def test_one_case_alone_does_not_make_a_change():
    rng = np.random.default_rng(3)
    rows = trend_rows(lambda i, n, b: 5.0 if not (i >= 3 and b == 256) else 9.0, 0.05, rng)
    assert changes(rows, "2", SPEC).empty  # 1 of 3 cases stepped: not half of the family


def test_points_follow_version_order_not_text():
    rng = np.random.default_rng(4)
    points = family_points(trend_rows(lambda i, n, b: 2.0, 0.05, rng), SPEC)
    assert list(points[points.family == 8].libtorch) == RELEASES  # 1.10.2 after 1.9.1, 2.13.0 after 2.2.2


def test_a_change_is_shown_by_a_case_that_moved_so_its_intervals_do_not_overlap():
    rng = np.random.default_rng(4)
    base = {1: 5.0, 16: 4.0, 256: 6.0}  # the family's median case (B=1) stays put
    late = {1: 5.0, 16: 4.8, 256: 7.0}
    rows = trend_rows(lambda i, n, b: (late if i >= 3 and n == 8 else base)[b], 0.02, rng)
    found = changes(rows, "2", SPEC)
    assert list(found[["family", "before", "after", "direction"]].itertuples(index=False, name=None)) == [
        ("N=8", "1.10.2", "1.11.0", "rose")
    ]
    assert found.high_before.iloc[0] < found.low_after.iloc[0]
    assert found.case.iloc[0] in ("B=16;N=8", "B=256;N=8")  # the case quoted is one that stepped, named


def test_a_step_among_comparisons_with_too_few_processes_is_not_a_change():
    rng = np.random.default_rng(1)
    rows = trend_rows(lambda i, n, b: 5.0 if i < 4 or n == 512 else 2.0, 0.05, rng)
    assert not changes(rows, "2", SPEC).empty
    rows["reason"] = "only 2 processes (fewer than report.min_rounds = 3)"
    assert changes(rows, "2", SPEC).empty
