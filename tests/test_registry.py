"""The claim registry (workflow/resources/comparisons.yaml) against the code: every technique,
axis, variant and glob it names exists in the C++ technique list (asked of the built module),
every figure has a drawer and a caption, every mechanism a derivation and its sentences. A
rename fails here, not as 'not run' rows on the page."""

import pytest

from conftest import REPO
from libtorch_bench import registry
from libtorch_bench.figures import DRAWERS
from libtorch_bench.mechanism import DERIVATIONS
from libtorch_bench.page.mechanism import SENTENCES
from libtorch_bench.samples import HARNESS_VARIANT, SAMPLE_COLUMNS

REG = registry.load()


@pytest.fixture(scope="module")
def techniques(extension):
    return extension.techniques()


@pytest.mark.parametrize("claim", REG.claims.values(), ids=lambda c: f"claim{c.id}")
def test_every_name_in_the_registry_exists_in_the_technique(claim, techniques, extension):
    assert claim.technique in techniques, f"claim {claim.id}: no C++ technique {claim.technique}"
    offered = set(techniques[claim.technique]["variants"]) | {HARNESS_VARIANT}
    if claim.controls:  # the harness builds its controls over this variant
        assert claim.controls in offered, f"claim {claim.id}: no variant {claim.controls} to build the controls on"
        offered |= set(extension.control_variants())
    assert set(claim.axes) <= set(techniques[claim.technique]["params"])
    names, globs = REG.named_variants(claim.id)
    assert names <= offered, f"claim {claim.id} names variants the technique lacks: {sorted(names - offered)}"
    for pattern in globs:
        assert any(registry.matches(pattern, v) for v in offered), f"claim {claim.id}: {pattern} matches nothing"


def test_a_renamed_variant_is_caught(techniques, tmp_path):
    text = (REPO / "workflow/resources/comparisons.yaml").read_text().replace("fast: flat_from_blob", "fast: flat_blob")
    (tmp_path / "c.yaml").write_text(text)
    names, _ = registry.load(tmp_path / "c.yaml").named_variants("2")
    assert "flat_blob" in names - set(techniques["batch_from_rows"]["variants"])


def test_the_runner_and_python_write_the_same_sample_columns(extension):
    assert extension.sample_columns().split(",") == SAMPLE_COLUMNS


def test_every_figure_has_a_drawer_and_a_caption():
    for figure in REG.figures():
        assert figure.draw in DRAWERS, figure
        assert (REPO / "workflow" / "report" / f"{figure.caption}.rst").exists(), figure


def test_every_mechanism_has_a_derivation_and_sentences():
    for claim in REG.claims.values():
        if claim.mechanism:
            assert claim.mechanism in DERIVATIONS and claim.mechanism in SENTENCES, claim.mechanism


def test_a_claim_without_figures_gets_the_generic_ones(tmp_path):
    text = (REPO / "workflow/resources/comparisons.yaml").read_text()
    start, end = text.index("    figures:\n      - {name: claim2_time"), text.index("    mechanism: claim2.per_row")
    (tmp_path / "c.yaml").write_text(text[:start] + text[end:])
    figures = registry.load(tmp_path / "c.yaml").claims["2"].figures
    assert [(f.name, f.draw, f.caption) for f in figures] == [
        ("claim2_time", "generic.time_by_case", "generic_time"),
        ("claim2_trend", "across.trend", "generic_trend"),
        ("claim2_glance", "across.trend_glance", "generic_trend_glance"),
    ]
    assert [f.section for f in figures] == ["figures", "figures", "findings"]
