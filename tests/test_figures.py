"""Figures: what the panels say."""

import pandas as pd

from libtorch_bench.figures.claim1 import _model_cases


def test_claim1_panels_name_each_size_as_configured():
    """Models with different size parameters: each panel names its own sizes, as integers."""
    samples = pd.DataFrame(
        {
            "technique": "model_inference",
            "variant": "native",
            "params": [
                "batch=8;depth=3;features=512;hidden=1024;model=mlp;scenario=steady",
                "batch=8;channels=32;image=64;model=cnn;scenario=steady",
            ],
        }
    )
    panels = list(_model_cases(samples)["panel"])
    assert panels == ["mlp · batch=8 depth=3 features=512 hidden=1024", "cnn · batch=8 channels=32 image=64"]
