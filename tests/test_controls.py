"""Can this run tell? Each control's cells read right, wrong or undecided against the answer its
registry entry states; only a control that reads wrong heads the page with a warning, and one
that stays undecided is named, with the difference its interval resolves, in "Can this run
tell?". Hand-made claims.csv rows, then the page rendered from the synthetic results."""

import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from libtorch_bench import format as fmt
from libtorch_bench import registry
from libtorch_bench.comparisons import TOO_FEW_ROUNDS
from libtorch_bench.controls import control_cells, control_results
from libtorch_bench.page.trust import controls
from synthetic_results import NOISY_CASE, SETTINGS, WRONG_TWICE

SAME = {"id": "same", "claim": "2", "slow": "control_same", "question": "A/A control: x again; must read equivalent."}
TWICE = {"id": "twice", "claim": "2", "slow": "control_twice", "question": "Known 2x slowdown: x, then a wait."}
CONTROLS = {
    "same": {"expect": "equivalent", "pass": 0.95},
    "twice": {"expect": "holds", "ratio": 2.0, "tolerance": 0.05, "pass": 1.0, "coverage": 0.9},
}


def registry_of(**overrides):
    blocks = {**CONTROLS, **overrides}
    return SimpleNamespace(comparisons=[{**SAME, "control": blocks["same"]}, {**TWICE, "control": blocks["twice"]}])


def cell(comparison, verdict, low, high, case="B=1;N=8", version="1.8.1", reason="", fast_ns=5000.0):
    return {
        "claim": "2",
        "comparison": comparison,
        "libtorch": version,
        "version": version,
        "device": "cpu",
        "front": "cpp",
        "case": case,
        "ratio": np.sqrt(low * high),
        "ci_low": low,
        "ci_high": high,
        "verdict": verdict,
        "reason": reason,
        "median_fast_ns": fast_ns,
    }


def readings(rows, **overrides):
    """(reading, resolvable) of each row the controls count."""
    cells = control_cells(pd.DataFrame(rows), registry_of(**overrides))
    return list(cells.reading), list(cells.resolvable)


def test_an_a_a_control_is_right_when_equivalent_wrong_when_decided_otherwise_else_undecided():
    got, resolvable = readings(
        [
            cell("same", "equivalent", 0.97, 1.03),
            cell("same", "holds", 1.2, 1.4),
            cell("same", "reversed", 0.7, 0.8),
            cell("same", "inconclusive", 0.95, 1.2),
        ]
    )
    assert got == ["right", "wrong", "wrong", "undecided"]
    # Only the undecided cell carries what it resolves: its relative half-width, sqrt(1.2 / 0.95) - 1.
    assert np.isnan(resolvable[:3]).all() and resolvable[3] == pytest.approx(0.1239, abs=1e-4)


def test_a_known_ratio_is_right_within_its_tolerance_and_wrong_beyond_it():
    got, _ = readings(
        [
            cell("twice", "holds", 1.95, 2.05),  # covers 2
            cell("twice", "holds", 2.08, 2.3),  # misses 2 but reaches 2.1: within 5%
            cell("twice", "holds", 2.15, 2.3),  # wholly beyond 2.1
            cell("twice", "equivalent", 0.95, 1.05),  # decided otherwise
            cell("twice", "inconclusive", 1.0, 1.5),  # undecided, yet wholly below 1.9: it mis-measures
            cell("twice", "inconclusive", 1.05, 2.0),  # reaches 2: the run could not tell
        ]
    )
    assert got == ["right", "right", "wrong", "wrong", "wrong", "undecided"]
    # Without a tolerance the same interval that reached 2.1 misses 2.
    assert readings([cell("twice", "holds", 2.08, 2.3)], twice={**CONTROLS["twice"], "tolerance": 0})[0] == ["wrong"]


def test_a_verdict_withheld_for_too_few_processes_stays_undecided_whatever_its_interval():
    reason = f"only 2 processes ({TOO_FEW_ROUNDS} = 3)"
    got, resolvable = readings([cell("twice", "inconclusive", 1.2, 1.5, reason=reason)])
    assert got == ["undecided"] and np.isnan(resolvable[0])


def test_min_ns_leaves_out_the_cells_too_short_to_count():
    plus20 = {"expect": "holds", "ratio": 1.2, "tolerance": 0.05, "min_ns": 10000}
    rows = [cell("twice", "holds", 1.0, 1.1, fast_ns=2000), cell("twice", "holds", 1.18, 1.22, fast_ns=20000)]
    assert readings(rows, twice=plus20)[0] == ["right"]


def test_a_typo_in_a_control_block_fails_loudly():
    with pytest.raises(ValueError, match="unknown control keys.*tolerence"):
        control_cells(
            pd.DataFrame([cell("same", "equivalent", 0.97, 1.03)]),
            registry_of(same={"expect": "equivalent", "tolerence": 0.1}),
        )


def status(rows, **overrides):
    results = control_results(pd.DataFrame(rows), registry_of(**overrides))
    return dict(zip(results.comparison + "@" + results.version, results.status, strict=True))


def test_a_platform_reads_wrong_on_one_wrong_cell_undecided_below_pass_else_right():
    cases = [f"B={b};N=8" for b in range(20)]
    rows = [cell("twice", "holds", 1.95, 2.05, case=c, version="a") for c in cases]  # right everywhere
    rows += [cell("twice", "holds", 1.95, 2.05, case=c, version="b") for c in cases[1:]]
    rows += [cell("twice", "holds", 1.5, 1.6, case=cases[0], version="b")]  # one wrong cell of 20
    rows += [cell("same", "equivalent", 0.97, 1.03, case=c, version="c") for c in cases[1:]]
    rows += [cell("same", "inconclusive", 0.9, 1.15, case=cases[0], version="c")]  # 19 of 20 >= pass 0.95
    rows += [cell("same", "equivalent", 0.97, 1.03, case=c, version="d") for c in cases[2:]]
    rows += [cell("same", "inconclusive", 0.9, 1.15, case=c, version="d") for c in cases[:2]]  # 18 of 20
    assert status(rows) == {"twice@a": "right", "twice@b": "wrong", "same@c": "right", "same@d": "undecided"}
    # Coverage short of its target reads wrong too.
    assert status(rows[:20], twice={**CONTROLS["twice"], "tolerance": 0.0, "coverage": 1.0})["twice@a"] == "right"
    missed = [cell("twice", "holds", 2.01, 2.1, case=c, version="a") for c in cases]
    assert status(missed, twice={**CONTROLS["twice"], "tolerance": 0.0, "coverage": 0.9}) == {"twice@a": "wrong"}


def test_only_a_wrong_control_heads_the_page():
    undecided_only = [cell("same", "equivalent", 0.97, 1.03, case="B=1;N=8")]
    undecided_only += [cell("same", "inconclusive", 0.82, 1.22, case="B=1024;N=512")]
    page = controls(pd.DataFrame(undecided_only), registry_of(), SETTINGS)
    assert page["wrong"] == []
    (entry,) = page["table"][0]["entries"]
    assert entry["status"] == "undecided"
    assert "undecided at B=1024, N=512: it resolves differences of ±22% there" in entry["text"]

    wrong = undecided_only + [cell("twice", "holds", 1.55, 1.65, case="B=16;N=8")]
    page = controls(pd.DataFrame(wrong), registry_of(), SETTINGS)
    assert page["wrong"] == ["libtorch 1.8.1 · cpu: claim 2 Known 2x slowdown (wrong in 1 of 1 cases)."]
    twice = next(row for row in page["table"] if row["id"] == "twice")
    assert "wrong at B=16, N=8 (1.6× [1.55, 1.65])" in twice["entries"][0]["text"]


def test_on_a_wide_run_the_warning_counts_platforms_and_the_table_counts_cells():
    versions = [f"2.{minor}.0" for minor in range(fmt.NAMED + 2)]
    rows = [cell("twice", "holds", 1.55, 1.65, version=v) for v in versions]
    rows += [cell("same", "inconclusive", 0.5 + i / 100, 1.5, case=f"B={i};N=8") for i in range(fmt.NAMED + 3)]
    page = controls(pd.DataFrame(rows), registry_of(), SETTINGS)
    assert page["wrong"] == [f"claim 2 Known 2x slowdown: wrong on {len(versions)} of {len(versions) + 1} platforms."]
    (same,) = next(row for row in page["table"] if row["id"] == "same")["entries"]
    # The coarsest first, four named, the rest counted.
    assert re.search(r"undecided in 7, where it resolves differences of ±73% \(B=0, N=8\), ", same["text"])
    assert same["text"].endswith("and 3 more (claims.csv lists them all)")


# ---- the page, rendered from the synthetic results (tests/synthetic_results.py) -----------------


def section(html, start, end):
    return html[html.index(start) : html.index(end, html.index(start))]


def test_the_synthetic_page_warns_of_the_wrong_control_only(synthetic_report):
    html = synthetic_report.read_text()
    warning = section(html, 'id="control-wrong"', "</div>")
    version = WRONG_TWICE[1]
    assert f"libtorch {version} · cpu: claim 2 Known 2x slowdown" in warning
    assert "A/A" not in warning and "claim 3" not in warning  # the undecided A/A of claim 3 is no warning
    findings = section(html, '<section id="findings">', "</section>")
    assert findings.index('id="control-wrong"') < findings.index('id="finding-claim1"')


def test_the_synthetic_page_says_what_each_control_must_read_and_where_it_stayed_undecided(synthetic_report):
    html = synthetic_report.read_text()
    tell = section(html, 'id="can-it-tell"', 'id="method"')
    # Each control's answer as the registry states it, not as the template would.
    for comparison in registry.load().comparisons:
        control = comparison.get("control") or {}
        if "ratio" in control:
            assert f"{fmt.ratio(control['ratio'])} ± {100 * control['tolerance']:g}%" in tell
    assert f"[{SETTINGS['reversed_below']:g}, {SETTINGS['holds_above']:g}]" in tell  # A/A: the band
    # Claim 3's A/A swings ±50% in one case: undecided there on each platform, with what it resolves.
    same3 = section(tell, 'id="control-control_same_claim3"', "</tr>")
    undecided = re.findall(
        r"undecided at K=1, cols=1000, density=0.01, rows=4: it resolves differences of ±(\d+)%", same3
    )
    assert NOISY_CASE[1] == "K=1;cols=1000;density=0.01;rows=4" and len(undecided) == 3
    assert all(50 <= int(d) <= 80 for d in undecided)  # exp(0.5) - 1 = 65%, give or take the bootstrap
    assert same3.count(">undecided</span>") == 3
    twice2 = section(tell, 'id="control-control_twice_claim2"', "</tr>")
    assert twice2.count(">wrong</span>") == 1 and twice2.count(">right</span>") == 1
    assert ">wrong</span>" not in tell.replace(twice2, "").split("<table>")[1]  # no other control reads wrong
