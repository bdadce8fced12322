"""Reading raw results: parameters, the run a file holds, and version order."""

from libtorch_bench.samples import parse_params, run_of, version_key


def test_params_and_paths():
    assert parse_params("K=100;cols=1000;density=0.5;rows=64") == {"K": 100, "cols": 1000, "density": 0.5, "rows": 64}
    assert parse_params("model=mlp;scenario=cold") == {"model": "mlp", "scenario": "cold"}
    assert run_of("results/raw/1.8.1/cuda/mask_indexing.python.csv") == ("1.8.1", "cuda", "mask_indexing", "python")
    assert run_of("results/raw/installed/cpu/batch_from_rows.csv") == ("installed", "cpu", "batch_from_rows", "cpp")


def test_versions_sort_by_number_not_by_text():
    versions = ["2.13.0", "1.10.2", "2.2.2", "1.8.1", "1.9.1", "2.13.0+cpu"]
    assert sorted(versions, key=version_key) == ["1.8.1", "1.9.1", "1.10.2", "2.2.2", "2.13.0", "2.13.0+cpu"]
