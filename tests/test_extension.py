"""The pybind11 module: built from csrc/ against the installed torch, every variant of
claims 2 and 3 equal to an independent Python computation."""

import pytest
import torch


def test_reports_the_installed_torch_version(extension):
    assert extension.libtorch_version() == torch.__version__.split("+")[0]


def test_lists_the_techniques_with_their_claims(extension):
    techniques = extension.techniques()
    assert techniques["batch_from_rows"]["claim"] == "2"
    assert techniques["mask_indexing"]["claim"] == "3"
    assert (
        techniques["batch_from_rows"]["variants"][0] == "rows_from_blob_vstack"
    )  # the blog's slow path is the reference
    assert techniques["mask_indexing"]["variants"][0] == "mask_index"


@pytest.mark.parametrize("B, N", [(1, 1), (1, 8), (3, 5), (16, 64), (257, 33)])
def test_every_batch_variant_builds_the_rows_exactly(extension, B, N):
    outputs, inputs = extension.variant_outputs("batch_from_rows", {"B": B, "N": N})
    expected = inputs["rows"]
    assert expected.shape == (B, N) and expected.dtype == torch.float32
    assert expected.abs().sum() > 0  # real data, not zeros
    assert list(outputs) == extension.techniques()["batch_from_rows"]["variants"]
    for name, out in outputs.items():
        assert out.shape == (B, N), name
        assert out.dtype == torch.float32, name
        assert torch.equal(out, expected), name


@pytest.mark.parametrize(
    "rows, cols, density, K",
    [(1, 10, 0.5, 1), (4, 100, 0.01, 3), (3, 1000, 0.99, 2), (2, 7, 1.0, 1), (5, 50, 0.02, 1)],
)
def test_every_mask_variant_selects_what_python_indexing_selects(extension, rows, cols, density, K):
    params = {"rows": rows, "cols": cols, "density": density, "K": K}
    outputs, inputs = extension.variant_outputs("mask_indexing", params)
    x, mask = inputs["x"], inputs["mask"]
    assert x.shape == (rows, cols) and mask.dtype == torch.bool
    assert int(mask.sum()) == min(cols, int(density * cols + 0.5))
    expected = x[..., mask]
    assert torch.equal(outputs["mask_index"], expected)
    assert torch.equal(outputs["masked_select"], torch.masked_select(x, mask))
    assert torch.equal(outputs["masked_select"], expected.reshape(-1))
    assert torch.equal(outputs["indices_index"], expected)
    assert torch.equal(outputs["indices_index_select"], x.index_select(-1, mask.nonzero().reshape(-1)))
    assert torch.equal(outputs["floor_copy"], expected)


@pytest.mark.parametrize(
    "technique, params",
    [
        ("batch_from_rows", {"B": 16, "N": 64}),
        ("mask_indexing", {"rows": 4, "cols": 100, "density": 0.5, "K": 2}),
    ],
)
def test_the_harness_check_accepts_the_real_variants(extension, technique, params):
    extension.check(technique, params)


def test_the_harness_check_names_a_variant_that_differs(extension):
    ref = torch.arange(6.0)
    with pytest.raises(extension.MismatchError, match=r"variant wrong.*differs from reference variant ref"):
        extension._time_python_variants(
            [("ref", lambda: ref), ("same", lambda: ref.clone()), ("wrong", lambda: ref + 1)], 0, 1, 1
        )
    with pytest.raises(extension.MismatchError, match="5 elements, the reference 6"):
        extension._time_python_variants([("ref", lambda: ref), ("short", lambda: ref[:5])], 0, 1, 1)


def test_bad_parameters_and_unknown_techniques_are_named(extension):
    with pytest.raises(ValueError, match="unknown technique 'nope'.*batch_from_rows"):
        extension.check("nope", {})
    with pytest.raises(ValueError, match="needs parameter 'N'"):
        extension.run("batch_from_rows", {"B": [1]}, rounds=1)


def test_a_missing_cuda_device_is_reported_not_crashed(extension):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(extension.DeviceUnavailable):
        extension.check("batch_from_rows", {"B": 1, "N": 1}, device="cuda")
