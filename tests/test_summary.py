"""summary.csv: one row of statistics per variant of each cell."""

import numpy as np
import pandas as pd
import pytest

from libtorch_bench.summary import summarize


def test_summary_statistics():
    rows = []
    for i, ns in enumerate([100, 100, 100, 100, 100, 100, 100, 100, 100, 5000]):
        rows.append(
            {
                "technique": "t",
                "variant": "v",
                "params": "a=1",
                "version": "x",
                "libtorch": "1",
                "device": "cpu",
                "front": "cpp",
                "threads": 1,
                "round": i,
                "call": 0,
                "ns": ns,
            }
        )
    summary = summarize(pd.DataFrame(rows), 10.0)
    row = summary.iloc[0]
    assert row.n == 10 and row.median_ns == 100 and row.max_ns == 5000 and row.spikes == 1 and row.iqr_ns == 0
    assert row.cv == pytest.approx(np.std([100] * 9 + [5000], ddof=1) / 590)
