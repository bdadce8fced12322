"""The findings: each claim's answer in plain words, derived from claims.csv by the registry's
rules. Every number in them is a value of claims.csv; the words follow the data; a claim with
nothing measured says 'not run' once; a contradiction of the blog is said as such."""

import re

import pandas as pd
import pytest

from libtorch_bench import registry
from libtorch_bench.comparisons import compare_all
from libtorch_bench.findings import RuleError, facts_on, findings, holds
from libtorch_bench.samples import read_runs, read_samples
from synthetic_results import SETTINGS, write_results

REG = registry.load()
NUMBER = re.compile(
    r"(\d+(?:\.\d+)?)(?:×| ?(?:ns|µs|ms|s)\b)|\[(\d+(?:\.\d+)?), (\d+(?:\.\d+)?)\]|[+-]?(\d+(?:\.\d+)?)%"
)


@pytest.fixture(scope="module")
def claims(tmp_path_factory):
    raw = write_results(tmp_path_factory.mktemp("findings"), rounds=10, calls=8, processes=4)
    samples, runs = read_samples(raw), read_runs([p[:-4] + ".json" for p in raw])
    return compare_all(samples, runs, REG, SETTINGS, set(runs.technique))


def text_of(section):
    parts = [section["measured_on"], *section["not_run"]]
    for claim in section["claims"]:
        parts += [claim["question"], claim["not_run"] or "", *claim["sentences"], *claim["across"], *claim["advice"]]
    return " ".join(p for p in parts if p)


def csv_values(claims):
    """Every number of claims.csv as the page would print it (3 significant digits), and times."""
    values = set()
    for column in ("ratio", "ci_low", "ci_high"):
        values |= {f"{v:.3g}" for v in claims[column].dropna()}
    for column in ("median_slow_ns", "median_fast_ns", "max_slow_ns", "max_fast_ns"):
        for ns in claims[column].dropna():
            for scale in (1, 1e3, 1e6, 1e9):
                values.add(f"{ns / scale:.3g}")
    for column in ("rate_slow", "rate_slow_high", "rate_fast", "rate_fast_high", "excess", "excess_low", "excess_high"):
        values |= {f"{abs(100 * v):.2g}" for v in claims[column].dropna()} if column in claims else set()
    if "confidence" in claims:  # an interval's level, 98.3%
        values |= {f"{100 * v:.3g}" for v in claims["confidence"].dropna()}
    return values


@pytest.mark.parametrize("table", ["synthetic", "claim 1's cases"])
def test_every_number_in_the_findings_is_in_claims_csv(claims, table):
    claims = claims if table == "synthetic" else claim1_rows()
    text = re.sub(r"“[^”]*”", "", text_of(findings(REG, claims)))  # the blog's words are quoted, not measured
    found = [n for m in NUMBER.finditer(text) for n in m.groups() if n]
    assert found, text
    known = csv_values(claims)
    assert [n for n in found if n not in known] == [], text


def test_the_findings_stay_short(claims):
    section = findings(REG, claims)
    assert len(text_of(section).split()) <= 250
    assert [c["id"] for c in section["claims"]] == ["1", "2", "3"]
    assert all(c["advice"] for c in section["claims"])  # a "what to do" line per claim


def test_what_the_synthetic_data_says_is_what_the_findings_say(claims):
    by_id = {c["id"]: c for c in findings(REG, claims)["claims"]}
    assert by_id["2"]["sentences"][0].startswith("Holds: a tensor per row plus vstack takes")  # 5x by construction
    assert "Changing shapes add TorchScript spikes" in " ".join(by_id["1"]["sentences"])  # spikes at new shapes
    assert "not run" not in text_of(findings(REG, claims)).split("Not run on")[0]


def test_the_words_follow_the_data(claims):
    flipped = claims.copy()
    blog = flipped.comparison == "blog_slow_vs_blog_fast"
    flipped.loc[blog, ["ratio", "ci_low", "ci_high", "verdict"]] = [0.5, 0.45, 0.55, "reversed"]
    claim2 = {c["id"]: c for c in findings(REG, flipped)["claims"]}["2"]
    assert claim2["sentences"][0].startswith("The data contradicts the blog")
    assert "0.5× [0.45, 0.55]" in claim2["sentences"][0]


def test_a_claim_with_nothing_measured_says_not_run_once(claims):
    gone = claims.copy()
    claim1 = (gone.claim == "1") & (gone.device == "cpu")  # on cuda nothing ran anyway, for its own reason
    gone.loc[claim1, "verdict"] = "not run"
    gone.loc[claim1, "reason"] = "not run: technique model_inference was not measured (it is not enabled)"
    section = findings(REG, gone)
    claim = {c["id"]: c for c in section["claims"]}["1"]
    assert claim["not_run"].startswith("technique model_inference was not measured") and claim["sentences"] == []
    assert text_of(section).count("model_inference was not measured") == 1


def test_one_platform_names_no_versions(claims):
    one = claims[(claims.version == "1.8.1") & (claims.device == "cpu")]
    text = text_of(findings(REG, one))
    assert "2.13.0" not in text and " (1.8.1)" not in text and "On 1.8.1" not in text


def test_conditions():
    facts = facts_on(
        pd.DataFrame(columns=["libtorch", "version", "device", "front", "verdict", "comparison", "case"]),
        ("1", "1", "cpu", "cpp"),
        {"a": {"comparison": "x"}},
    )
    assert holds("not a.measured and a.n == 0 and (a.holds < 0.5 or a.reversed > 0)", facts)
    assert holds("a.holds + 0.25 >= 0.25", facts) and not holds("a.measured", facts)
    with pytest.raises(RuleError, match="fact 'b'"):
        holds("b.holds > 0", facts)
    with pytest.raises(RuleError, match="unknown field"):
        holds("a.speed > 0", facts)


def claim1_rows():
    """A claims table of claim 1 on one platform whose every finding sentence has its case: the
    p99 the same, no excess of spikes (bounded), spikes when shapes change, a slow first call,
    and second-long calls with CPU fusion forced on."""
    from libtorch_bench.comparisons import CLAIM_COLUMNS

    base = {c: float("nan") for c in CLAIM_COLUMNS}
    base.update(claim="1", libtorch="1.8.1", version="1.8.1", device="cpu", front="cpp", fast_variant="native")
    base.update(slow_variant="torchscript_default", reason="", confidence=0.9833, n_slow=1500, n_fast=1500)
    rows = []
    for model in ("mlp", "cnn"):
        case = f"model={model};scenario=steady"
        rows += [
            {**base, "comparison": "blog_torchscript_vs_native_p99", "metric": "p99", "case": case, "ratio": 1.01,
             "ci_low": 0.95, "ci_high": 1.06, "verdict": "equivalent", "max_slow_ns": 3e6},
            {**base, "comparison": "blog_torchscript_vs_native_spikes", "metric": "spikes", "case": case,
             "verdict": "equivalent", "spikes_slow": 0, "spikes_fast": 0, "rate_slow": 0.0, "rate_fast": 0.0,
             "rate_slow_high": 0.0027 if model == "cnn" else 0.002, "rate_fast_high": 0.002, "excess": 0.0,
             "excess_low": -0.004, "excess_high": 0.004, "ratio": float("nan"), "ci_low": 0.0, "ci_high": float("inf")},
            {**base, "comparison": "blog_torchscript_vs_native_spikes_shapes", "metric": "spikes",
             "case": f"model={model};scenario=shapes", "verdict": "holds", "spikes_slow": 300, "spikes_fast": 0,
             "rate_slow": 0.2, "rate_slow_high": 0.22, "rate_fast": 0.0, "rate_fast_high": 0.002, "excess": 0.2,
             "excess_low": 0.17, "excess_high": 0.23},
            {**base, "comparison": "blog_torchscript_vs_native_first_call", "metric": "first_call",
             "case": f"model={model};scenario=cold", "ratio": 3.2, "ci_low": 2.8, "ci_high": 3.6, "verdict": "holds"},
            {**base, "comparison": "torchscript_vs_native_p99", "metric": "p99", "case": case,
             "slow_variant": "torchscript_fusion_on", "ratio": 480.0, "ci_low": 400.0, "ci_high": 520.0,
             "verdict": "holds", "max_slow_ns": 1.2e9},
        ]  # fmt: skip
    return pd.DataFrame(rows, columns=CLAIM_COLUMNS)


def test_every_claim_1_sentence_has_a_case_that_says_it():
    table = claim1_rows()
    claim = {c["id"]: c for c in findings(REG, table)["claims"]}["1"]
    text = " ".join(claim["sentences"])
    assert "TorchScript's p99 is native's (1.01× [0.95, 1.06]" in text  # the tail, decided the same
    assert "spikes no more often than native: 0 of 1500 calls, at most 0.27% at 98.3%" in text  # its bound
    assert "Changing shapes add TorchScript spikes in 2 of 2 models (+20%)" in text
    assert "first call after loading takes 3.2× [2.8, 3.6]" in text
    assert "only with CPU fusion forced on (slowest 1.2 s)" in text
    assert "Warm TorchScript up with every input shape it serves." in claim["advice"]


def test_an_undecided_tail_is_said_to_be_undecided():
    table = claim1_rows()
    tail = table.comparison == "blog_torchscript_vs_native_p99"
    table.loc[tail, ["ci_low", "ci_high", "verdict"]] = [0.8, 1.3, "inconclusive"]
    text = " ".join({c["id"]: c for c in findings(REG, table)["claims"]}["1"]["sentences"])
    assert "this run cannot tell TorchScript's p99 from native's" in text and "no worse" not in text


def test_a_claims_table_from_before_the_spike_rates_says_the_counts(claims):
    """An archived claims.csv lacks the appended rate columns: a spike bound is said as the count."""
    rates = ["rate_slow", "rate_slow_high", "rate_fast", "rate_fast_high", "excess", "excess_low", "excess_high"]
    old = claims.drop(columns=rates)
    old.loc[old.comparison == "blog_torchscript_vs_native_spikes", "verdict"] = "equivalent"  # the bound is said
    text = text_of(findings(REG, old))
    assert re.search(r"\d+ of \d+ calls in the least measured model", text), text
    assert "at most" not in text
