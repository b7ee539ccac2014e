"""Python API: load_spec, compare, build."""
import pytest

import frameworkbench as fb
from conftest import SPECS, BASE_SPEC
from frameworkbench.targets import TARGETS


def test_load_spec_from_path_and_dict():
    assert fb.load_spec(SPECS / "seed_torch_net.yaml").name == "seed_torch_net"
    assert fb.load_spec(BASE_SPEC).task == "binary"
    with pytest.raises(fb.SpecError):
        fb.load_spec({**BASE_SPEC, "task": "nope"})


@pytest.mark.slow
def test_compare_and_to_pandas(db_path):
    if not TARGETS["torch"].is_installed():
        pytest.skip("requires: torch installed")
    cmp = fb.compare(BASE_SPEC, targets=["torch"], seeds=2, db=str(db_path))
    assert [r["seed"] for r in cmp.records] == [3, 4] and cmp.ok
    df = cmp.to_pandas()
    assert list(df["target"]) == ["torch", "torch"] and (df["params"] == 65).all()
    assert cmp.records[0]["history"] != cmp.records[1]["history"]  # different seeds differ


@pytest.mark.slow
def test_build_returns_native_model_with_shared_weights():
    if not TARGETS["torch"].is_installed():
        pytest.skip("requires: torch installed")
    import numpy as np
    import torch

    from frameworkbench import weights

    model = fb.build(BASE_SPEC, "torch")
    assert isinstance(model, torch.nn.Module)
    expected = weights.initial_weights(fb.load_spec(BASE_SPEC), 3)[0].kernel.T
    assert np.array_equal(model[0].weight.detach().numpy(), expected)
