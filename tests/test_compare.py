"""`make compare` and `make stability` on synthetic claims tables with known answers: identical
tables agree, a shifted ratio is listed, moved verdicts are counted (and fail --strict),
unmatched comparisons are counted, gzipped reads like plain, spike rows' two scales, bad input
refused with a message, and the calibration of z (seeded generators; no timing)."""

import gzip

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from libtorch_bench import agreement, compare, registry
from libtorch_bench.comparisons import CLAIM_COLUMNS, TOO_FEW_ROUNDS
from libtorch_bench.finding_changes import changed_findings
from libtorch_bench.provenance import provenance_differences
from libtorch_bench.report_folder import read_claims, read_report
from libtorch_bench.stats import verdict_of

HOLDS_ABOVE, REVERSED_BELOW = 1.1, 0.9091


def claims_table(log_ratios, se, level=0.95, reported_se=None, version="1.8.1", device="cpu", claim="2"):
    """One claims.csv row per case of claim 2's blog pair: the ratio exp(log_ratio) with an
    interval of half-width norm.ppf((1 + level) / 2) * reported_se on the log scale."""
    log_ratios = np.asarray(log_ratios, dtype=float)
    width = norm.ppf((1 + level) / 2) * np.broadcast_to(se if reported_se is None else reported_se, log_ratios.shape)
    rows = []
    for i, (x, w) in enumerate(zip(log_ratios, width)):
        low, high = np.exp(x - w), np.exp(x + w)
        verdict, reason = verdict_of(low, high, HOLDS_ABOVE, REVERSED_BELOW)
        row = {c: np.nan for c in CLAIM_COLUMNS}
        row.update(
            claim=claim,
            comparison="blog_slow_vs_blog_fast",
            metric="median",
            primary=True,
            libtorch=version,
            version=version,
            device=device,
            front="cpp",
            case=f"B={i};N=8",
            slow_variant="per_row_vstack",
            fast_variant="flat_from_blob",
            ratio=np.exp(x),
            ci_low=low,
            ci_high=high,
            verdict=verdict,
            reason=reason,
            median_slow_ns=1000.0 * np.exp(x),
            median_fast_ns=1000.0,
            max_slow_ns=2000.0,
            stop="decided",
            confidence=level,
        )
        rows.append(row)
    return pd.DataFrame(rows, columns=CLAIM_COLUMNS)


def runs_table(host="vm", cpu="AMD EPYC", commit="abc"):
    return pd.DataFrame(
        [
            {
                "version": "1.8.1",
                "device": "cpu",
                "technique": "batch_from_rows",
                "front": "cpp",
                "status": "ok",
                "libtorch": "1.8.1",
                "host": host,
                "cpu_model": cpu,
                "cores": "2",
                "gpu": "",
                "git_commit": commit,
                "config_hash": "f3bba25cf5105c22",
                "threads": "1",
                "environment": "OMP_NUM_THREADS=2",
                "date": "2026-12-02T23:50:41+00:00",
            }
        ]
    )


def write_report(folder, claims, runs=None, gz=False):
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".csv.gz" if gz else ".csv"
    claims.to_csv(folder / f"claims{suffix}", index=False)
    (runs if runs is not None else runs_table()).to_csv(folder / f"runs{suffix}", index=False)
    return folder


def test_identical_tables_agree_fully_with_z_zero():
    rng = np.random.default_rng(1)
    table = claims_table(rng.normal(0.5, 1.0, 30), se=0.05)
    result = agreement.compare(table, table.copy(), names=("baseline", "candidate"))
    counts = agreement.counts(result)
    assert counts["comparisons"] == counts["agree"] == counts["within_uncertainty"] == counts["with_interval"] == 30
    assert (result.rows.z == 0).all() and (result.rows.moved == "same").all()
    assert agreement.worst(result).empty and counts["only_1"] == counts["only_2"] == 0


def test_a_ratio_shifted_beyond_its_interval_is_listed_first():
    rng = np.random.default_rng(2)
    log_ratios = rng.normal(0.5, 1.0, 20)
    shifted = log_ratios.copy()
    shifted[7] += 6 * 0.05  # six standard errors: |z| = 6 / sqrt(2)
    result = agreement.compare(claims_table(log_ratios, 0.05), claims_table(shifted, 0.05))
    worst = agreement.worst(result)
    assert list(worst.case) == ["B=7;N=8"]
    assert worst.z.iloc[0] == pytest.approx(-6 / np.sqrt(2))
    assert agreement.counts(result)["beyond_uncertainty"] == 1


def test_a_verdict_that_moves_holds_to_reversed_is_counted_and_fails_strict(tmp_path, capsys):
    rng = np.random.default_rng(3)
    log_ratios = rng.normal(1.0, 0.2, 10)  # every case clearly holds
    flipped = log_ratios.copy()
    flipped[4] = -1.0  # reversed
    baseline = write_report(tmp_path / "baseline", claims_table(log_ratios, 0.05))
    candidate = write_report(tmp_path / "candidate", claims_table(flipped, 0.05))
    counts = agreement.counts(
        agreement.compare(read_claims(baseline / "claims.csv"), read_claims(candidate / "claims.csv"))
    )
    assert counts["moved_between_decided"] == counts["holds_reversed"] == 1 and counts["agree"] == 9
    args = [str(baseline), "--candidate", str(candidate), "--out", str(tmp_path / "out")]
    assert compare.main(args) == 0  # the comparison was made
    assert compare.main(args + ["--strict"]) == 1
    assert compare.main([str(baseline), "--candidate", str(baseline), "--out", str(tmp_path / "same"), "--strict"]) == 0
    written = pd.read_csv(tmp_path / "out" / "comparison.csv")
    assert written.loc[written.moved != "same", "case"].tolist() == ["B=4;N=8"]
    assert "holds <-> reversed" in set(written.moved)
    assert "B=4, N=8" in (tmp_path / "out" / "index.html").read_text()


def test_unmatched_cases_and_versions_are_counted_with_why(tmp_path):
    rng = np.random.default_rng(4)
    log_ratios = rng.normal(0.5, 1.0, 12)
    baseline = claims_table(log_ratios, 0.05)
    candidate = pd.concat(
        [
            claims_table(log_ratios, 0.05).iloc[:9],  # three cases fewer
            claims_table(log_ratios[:5], 0.05, version="2.13.0"),  # a version the baseline lacks
        ],
        ignore_index=True,
    )
    result = agreement.compare(baseline, candidate, names=("baseline", "candidate"))
    counts = agreement.counts(result)
    assert (counts["comparisons"], counts["only_1"], counts["only_2"]) == (9, 3, 5)
    why = agreement.unmatched(result, baseline, candidate).set_index("side")
    assert why.loc["baseline", "comparisons"] == 3 and "did not measure" in why.loc["baseline", "why"]
    assert why.loc["candidate", "comparisons"] == 5 and "did not run this platform" in why.loc["candidate", "why"]


def test_a_gzipped_baseline_reads_like_a_plain_one(tmp_path):
    rng = np.random.default_rng(5)
    table = claims_table(rng.normal(0.5, 1.0, 15), 0.05)
    plain = read_report(write_report(tmp_path / "plain", table), "baseline")
    zipped = read_report(write_report(tmp_path / "archive" / "report", table, gz=True), "baseline")
    with gzip.open(tmp_path / "archive" / "report" / "claims.csv.gz", "rt") as f:
        assert f.readline().startswith("claim,comparison")
    pd.testing.assert_frame_equal(plain.claims, zipped.claims)
    pd.testing.assert_frame_equal(plain.runs, zipped.runs)
    assert read_report(tmp_path / "archive", "baseline").folder == tmp_path / "archive" / "report"  # the top folder


def test_z_agrees_95_percent_for_calibrated_intervals_and_less_for_too_narrow_ones():
    rng = np.random.default_rng(6)
    n, se = 4000, rng.uniform(0.02, 0.3, 4000)  # widths differ from comparison to comparison
    truth = rng.normal(0.3, 1.0, n)
    first, second = truth + rng.normal(0, se), truth + rng.normal(0, se)
    calibrated = agreement.counts(agreement.compare(claims_table(first, se), claims_table(second, se)))
    share = calibrated["within_uncertainty"] / calibrated["with_interval"]
    assert 0.935 < share < 0.965
    # The secondary line: run 1's interval holds run 2's estimate far less often (~83% at equal widths).
    assert calibrated["covered"] / calibrated["with_interval"] < 0.9
    narrow = agreement.counts(
        agreement.compare(claims_table(first, se, reported_se=se / 2), claims_table(second, se, reported_se=se / 2))
    )
    assert narrow["within_uncertainty"] / narrow["with_interval"] < 0.8


def test_z_reads_each_interval_at_its_own_level():
    rng = np.random.default_rng(7)
    log_ratios = rng.normal(0.5, 1.0, 10)
    # The same estimates and se, one side's intervals at 0.95, the other's at 0.99 (wider).
    result = agreement.compare(claims_table(log_ratios, 0.05), claims_table(log_ratios + 0.1, 0.05, level=0.99))
    assert np.allclose(result.rows.z, -0.1 / np.hypot(0.05, 0.05))


def spike_rows(table, excess=None):
    """claim 1's spike comparison; with `excess`: today's columns (rate difference and interval)."""
    table = table.assign(claim="1", comparison="blog_torchscript_vs_native_spikes_shapes", metric="spikes")
    if excess is not None:
        d, half = excess
        table = table.assign(excess=d, excess_low=d - half, excess_high=d + half)
    return table


def test_spike_rows_use_the_excess_rate_where_both_sides_have_it_and_else_the_ratio():
    rng = np.random.default_rng(8)
    log_ratios = rng.normal(0.0, 0.5, 6)
    half = norm.ppf(0.975) * 0.01
    new_1 = spike_rows(claims_table(log_ratios, 0.05), excess=(0.02, half))
    new_2 = spike_rows(claims_table(log_ratios, 0.05), excess=(0.05, half))
    both_new = agreement.compare(new_1, new_2).rows
    assert (both_new.z_scale == "excess rate").all() and np.allclose(both_new.z, -0.03 / np.hypot(0.01, 0.01))
    old = spike_rows(claims_table(log_ratios + 0.1, 0.05))
    mixed = agreement.compare(old, new_2).rows  # an older archive: the ratio scale for both
    assert (mixed.z_scale == "log ratio").all() and np.allclose(mixed.z, 0.1 / np.hypot(0.05, 0.05))
    no_spikes = spike_rows(claims_table(log_ratios, 0.05), excess=(0.0, 0.0))  # no spike on either side: a point
    assert agreement.compare(no_spikes, new_2).rows.z.isna().all()


def test_single_point_and_untrusted_intervals_get_no_z_and_never_agree():
    rng = np.random.default_rng(9)
    table = spike_rows(claims_table(rng.normal(0.0, 0.5, 4), 0.05))
    second = table.copy()
    second.loc[0, ["ratio", "ci_low", "ci_high"]] = 1.0  # an older archive's spike row: a point
    second.loc[1, ["ci_low", "ci_high"]] = np.nan
    second.loc[2, "reason"] = f"only 2 processes ({TOO_FEW_ROUNDS} = 3)"
    result = agreement.compare(table, second)
    counts = agreement.counts(result)
    assert result.rows.z.isna().tolist() == [True, True, True, False]
    assert (counts["no_interval"], counts["within_uncertainty"], counts["with_interval"]) == (3, 1, 1)


def test_the_stability_check_counts_how_verdicts_moved():
    rng = np.random.default_rng(10)
    log_ratios = np.log([2.0, 1.3, 1.0, 1.1]) + rng.normal(0, 0.001, 4)
    first = claims_table(log_ratios, [0.04, 0.03, 0.02, 0.1])  # holds, holds, equivalent, inconclusive
    second = claims_table(np.log([2.1, 0.8, 1.05, 1.2]), [0.04, 0.03, 0.04, 0.1])
    counts = agreement.counts(agreement.compare(first, second))
    assert [first.verdict.tolist(), second.verdict.tolist()] == [
        ["holds", "holds", "equivalent", "inconclusive"],
        ["holds", "reversed", "inconclusive", "inconclusive"],
    ]
    assert {k: counts[k] for k in ("agree", "moved_between_decided", "holds_reversed", "to_or_from_inconclusive")} == {
        "agree": 2,
        "moved_between_decided": 1,
        "holds_reversed": 1,
        "to_or_from_inconclusive": 1,
    }
    assert (counts["inconclusive_1"], counts["inconclusive_2"], counts["within_10pct"]) == (1, 2, 3)


def test_an_older_verdict_word_is_read_as_today_s(tmp_path):
    rng = np.random.default_rng(11)
    table = claims_table(rng.normal(0.0, 0.01, 2), 0.01)
    table["verdict"] = "no clear difference"
    table["reason"] = ["interval [1, 1.02] inside [0.9091, 1.1]: too small to matter", "interval reaches into it"]
    write_report(tmp_path, table)
    assert read_claims(tmp_path / "claims.csv").verdict.tolist() == ["equivalent", "inconclusive"]


def test_findings_change_only_where_a_rule_holds_on_one_side():
    rng = np.random.default_rng(12)
    reg = registry.load()
    holds = claims_table(rng.normal(1.0, 0.1, 8), 0.05)
    holds_again = claims_table(rng.normal(1.2, 0.1, 8), 0.05)  # other numbers, the same verdicts
    reversed_ = claims_table(rng.normal(-1.0, 0.1, 8), 0.05)
    assert changed_findings(reg, holds, holds_again)[0] == []
    changed, common, _ = changed_findings(reg, holds, reversed_)
    assert [c["id"] for c in changed] == ["2"] and common == 1
    assert "contradicts" in " ".join(changed[0]["second"])


def test_the_machine_is_named_first_among_provenance_differences():
    differences = provenance_differences(runs_table(), runs_table(host="gpu-node", cpu="Intel Xeon", commit="def"))
    assert [d["what"] for d in differences] == ["machine (host)", "CPU", "commit"]
    assert differences[0]["machine"] and not differences[2]["machine"]


@pytest.mark.parametrize(
    "make_bad, cause",
    [
        (lambda tmp: tmp / "missing", "does not exist"),
        (lambda tmp: tmp, "holds no claims.csv"),
        (lambda tmp: write_report(tmp / "other", pd.DataFrame({"claim": ["2"], "ratio": [1.0]})), "lacks 28 of the 30"),
    ],
)
def test_bad_input_is_refused_with_its_cause_and_nothing_is_written(tmp_path, capsys, make_bad, cause):
    candidate = write_report(tmp_path / "candidate", claims_table([0.5], 0.05))
    out = tmp_path / "out"
    assert compare.main([str(make_bad(tmp_path)), "--candidate", str(candidate), "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert cause in error and "Traceback" not in error
    assert not out.exists()


def test_a_baseline_at_another_confidence_level_is_refused(tmp_path, capsys):
    fixed = claims_table([0.5, 0.7], 0.05, level=0.9).assign(stop="fixed")
    baseline = write_report(tmp_path / "baseline", fixed)
    candidate = write_report(tmp_path / "candidate", claims_table([0.5, 0.7], 0.05).assign(stop="fixed"))
    assert compare.main([str(baseline), "--candidate", str(candidate), "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert "0.9" in error and "0.95" in error and "confidence_level" in error
    assert not (tmp_path / "out").exists()


def test_different_machines_are_said_before_the_differences(tmp_path, capsys):
    table = claims_table([0.5, 0.7], 0.05)
    baseline = write_report(tmp_path / "baseline", table, runs_table(host="gpu-node", cpu="Intel Xeon"))
    candidate = write_report(tmp_path / "candidate", table)
    assert compare.main([str(baseline), "--candidate", str(candidate), "--out", str(tmp_path / "out")]) == 0
    text = capsys.readouterr().out
    assert text.index("different machines") < text.index("same verdict")
    page = (tmp_path / "out" / "index.html").read_text()
    assert page.index("Different machines") < page.index("Where they differ")


def test_nothing_in_common_says_why_and_exits_zero(tmp_path, capsys):
    baseline = write_report(tmp_path / "baseline", claims_table([0.5], 0.05, device="cuda"))
    cpu_only = claims_table([0.5], 0.05)
    not_run = cpu_only.assign(device="cuda", case="all", verdict="not run", reason="not run: no CUDA device")
    candidate = write_report(tmp_path / "candidate", pd.concat([cpu_only, not_run], ignore_index=True))
    assert compare.main([str(baseline), "--candidate", str(candidate), "--out", str(tmp_path / "out")]) == 0
    text = capsys.readouterr().out
    assert "Nothing in common" in text and "no CUDA device" in text


def test_an_unpacked_report_zip_is_read_from_its_top_folder_with_its_recorded_level(tmp_path, capsys):
    top = tmp_path / "libtorch-claims-report"  # the layout archive_report writes
    write_report(top / "report", claims_table([0.5, 0.7], 0.05, level=0.9))
    (top / "config").mkdir()
    (top / "config" / "config.used.yaml").write_text("report:\n  confidence_level: 0.9\n")
    report = read_report(top, "baseline")
    assert report.folder == top / "report" and report.level == 0.9 and report.level_known
    candidate = write_report(tmp_path / "candidate", claims_table([0.5, 0.7], 0.05).assign(stop="fixed"))
    assert compare.main([str(top), "--candidate", str(candidate), "--out", str(tmp_path / "out")]) == 2
    assert "config.used.yaml" in capsys.readouterr().err


def test_a_run_s_own_report_takes_its_level_from_the_archive_it_wrote(tmp_path):
    import zipfile

    results = tmp_path / "results"
    write_report(results / "report", claims_table(np.zeros(3), 0.02))
    with zipfile.ZipFile(results / "libtorch-claims-report.zip", "w") as archive:
        archive.writestr("libtorch-claims-report/config/config.used.yaml", "report: {confidence_level: 0.9}\n")
    report = read_report(results / "report", "candidate")
    assert report.level == 0.9 and "libtorch-claims-report.zip" in report.level_source
