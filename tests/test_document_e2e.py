"""Studies on tiny specs through real workers, then `report --lang en/ru` from the database they fill."""
import subprocess
import sys

import pytest
import yaml

from conftest import SPECS, cli
from frameworkbench.report import document
from frameworkbench.store import Store

pytestmark = pytest.mark.slow

TINY = {"name": "tiny", "task": "binary", "input_shape": [6],
        "layers": [{"type": "dense", "units": 8, "activation": "relu"},
                   {"type": "dense", "units": 1, "activation": "sigmoid"}],
        "loss": "binary_crossentropy", "metrics": ["accuracy"], "training": {"epochs": 2, "batch_size": 32},
        "data": {"source": "synthetic", "n_samples": 320, "n_features": 6}}
STUDIES = {
    "frameworks": [
        {"name": "train", "mode": "train", "spec_file": "../tiny.yaml", "targets": ["torch", "keras:jax:stateless"]},
        {"name": "dynamic", "mode": "dynamic", "spec_file": "../tiny.yaml", "targets": ["torch", "keras:jax"]},
        {"name": "export", "mode": "export", "spec_file": "../tiny.yaml", "targets": ["torch"]},
        {"name": "codegen", "mode": "codegen", "spec_file": "../tiny.yaml", "targets": ["torch", "keras:jax"]},
    ],
    "activations": [
        {"name": "probe", "mode": "activations", "targets": ["torch"],
         "spec": {"task": "multiclass", "input_shape": [3], "layers": [{"type": "dense", "units": 3}],
                  "loss": "mse", "metrics": [], "data": {"source": "synthetic", "n_samples": 64, "n_features": 3,
                                                         "n_classes": 3}}},
        {"name": "deep", "mode": "train_stats", "targets": ["torch"], "hidden": ["relu", "leaky_relu"],
         "spec": {**TINY, "layers": [{"type": "dense", "units": 8}] * 3 + [TINY["layers"][1]]}},
    ],
    "layers": [
        {"name": "grid", "mode": "train", "targets": ["torch"], "seeds": 2, "isolate": "target",
         "hidden": ["relu", "tanh"], "base": {"hidden": [8], "training": {"epochs": 2}},
         "tasks": {"binary": {"outputs": [{"activation": "sigmoid", "loss": "binary_crossentropy"},
                                          {"activation": "linear", "loss": "mse"}],
                              "datasets": [{"source": "synthetic", "n_samples": 200, "n_features": 4}]}}},
    ],
}


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    root = tmp_path_factory.mktemp("studies")
    (root / "specs" / "studies").mkdir(parents=True)
    (root / "specs" / "tiny.yaml").write_text(yaml.safe_dump(TINY))
    for name, exps in STUDIES.items():
        (root / "specs" / "studies" / f"{name}.yaml").write_text(yaml.safe_dump({"name": name, "experiments": exps}))
    db = root / "studies.db"
    for name in STUDIES:
        p = cli("study", name, "--db", str(db), "--quiet", cwd=root)
        assert p.returncode == 0, p.stdout + p.stderr[-3000:]
    with Store(db) as st:
        records = st.records()
    return root, db, records


def _one(records, name, target):
    (r,) = [r for r in records if r["spec_name"] == name and r["target"] == target]
    return r


def test_dynamic_mode_observes_eager_inside_the_step(filled):
    _, _, records = filled
    torch = _one(records, "study:frameworks:dynamic", "torch")["dynamic"]
    assert torch["default_is"] == "eager" and torch["eager_by_default"] is True
    probe = torch["variants"]["eager"]["probe"]
    assert probe["step_body_calls"] == probe["steps"] == probe["eager_calls"] == 2 * 8
    jax = _one(records, "study:frameworks:dynamic", "keras:jax")["dynamic"]
    assert jax["eager_by_default"] is False
    probe = jax["variants"]["compiled"]["probe"]
    assert probe["eager_calls"] == 0 and probe["step_body_calls"] < probe["steps"]
    assert jax["variants"]["eager"]["status"] == "ok" and jax["eager_over_compiled"] > 1


def test_export_codegen_and_activation_probe_records(filled):
    _, _, records = filled
    paths = {p["path"]: p for p in _one(records, "study:frameworks:export", "torch")["export"]["paths"]}
    assert paths["TorchScript"]["status"] == "ok" and paths["TorchScript"]["max_abs_diff"] < 1e-5
    assert paths["TorchScript"]["size_bytes"] > 0 and paths["TorchScript"]["latency_batch1"]["median_s"] > 0
    for target in ("torch", "keras:jax"):
        cg = _one(records, "study:frameworks:codegen", target)["codegen"]
        assert cg["ran"] and cg["params_printed"] == cg["params_expected"] == 8 * 6 + 8 + 9, cg.get("error")
    probe = _one(records, "study:activations:probe", "torch")["activations"]["by_name"]
    assert set(probe) == set(document.ACTIVATION_ORDER)
    for name, p in probe.items():
        assert p["reference"]["forward_max_abs"] < 1e-6 and p["reference"]["derivative_max_abs"] < 1e-6, name
    assert probe["relu"]["derivative_at"]["0"] == 0 and probe["relu"]["range"] == [0, 6]
    assert probe["sigmoid"]["max_derivative"] == pytest.approx(0.25, abs=1e-6)
    assert probe["softmax"]["sum_minus_one_max"] < 1e-6
    deep = _one(records, "study:activations:deep:relu", "torch")
    assert deep["train_stats"]["init"]["gradients"]["method"].startswith("framework autodiff")
    assert len(deep["train_stats"]["final"]["units"]) == 3 and deep["api"] == "loop"


def test_report_in_both_languages_from_the_database(filled, tmp_path):
    root, db, _ = filled
    out = tmp_path / "rep"
    for lang in ("en", "ru"):
        p = cli("report", "--db", str(db), "--out", str(out), "--lang", lang)
        assert p.returncode == 0, p.stderr
    from test_document import tables

    for lang in ("en", "ru"):
        md = (out / f"document.{lang}.md").read_text()
        for tab in tables(md):
            for row in tab:
                assert all(c and c != "None" for c in row), row
        for ref in __import__("re").findall(r"\]\((plots/[^)]+\.png)\)", md):
            assert (out / ref).stat().st_size > 5000
    en = (out / "document.en.md").read_text()
    assert "`torch`: default: eager (16× step body for 16 steps)" in en
    assert "✓ `keras:jax:stateless`" in en  # the Keras low-level loop is measured, not asserted
    p = cli("report", "--db", str(db), "--out", str(out), "--lang", "en")
    assert p.returncode == 0 and (out / "document.en.md").read_text() == en


def test_codegen_cli_output_runs_and_prints_the_parameter_count(tmp_path):
    for spec, target, params in (("seed_torch_sequential.yaml", "torch", 241),
                                 ("seed_torch_net.yaml", "keras:torch", 11)):
        path = tmp_path / f"gen_{target.replace(':', '_')}.py"
        p = cli("codegen", str(SPECS / spec), "--target", target, "--out", str(path))
        assert p.returncode == 0, p.stderr
        run = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=300, cwd=tmp_path)
        assert run.returncode == 0, run.stderr[-2000:]
        assert run.stdout.strip().splitlines()[-1] == f"params: {params}"
    bad = cli("codegen", str(SPECS / "seed_torch_net.yaml"), "--target", "pytorch")
    assert bad.returncode == 2 and "unknown codegen target 'pytorch'" in bad.stderr


@pytest.mark.parametrize("module, cls, env", [
    ("tf_keras.tape", "TfGradientTapeAdapter", {"TF_USE_LEGACY_KERAS": "1"}),
    ("keras3.stateless", "KerasStatelessAdapter", {"KERAS_BACKEND": "jax"}),
])
def test_low_level_targets_train_through_their_own_loop(module, cls, env):
    """The loop variants must never fall back to the parent adapter's ``model.fit``: every epoch goes
    through their ``train`` (the hand-written step), whatever ``fit`` the parent defines."""
    code = (f"from frameworkbench.adapters.{module} import {cls} as A\n"
            "from frameworkbench.adapters.base import Adapter\n"
            "calls = []\n"
            "class Probe(A):\n"
            "    def __init__(self):\n"
            "        pass\n"
            "    def train(self, model, spec, x, y, bs, timer, order=None):\n"
            "        calls.append(len(x) if order is None else len(order))\n"
            "        return 0.5\n"
            "import numpy as np\n"
            "plan = np.stack([np.arange(8)] * 3)\n"
            "Probe().fit(None, None, np.zeros((8, 2)), np.zeros((8, 1)), plan, 4, lambda *a: True)\n"
            "print(calls)\n")
    import os

    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                       env={**os.environ, **env})
    assert p.returncode == 0, p.stderr[-2000:]
    assert p.stdout.strip().splitlines()[-1] == "[8, 8, 8]"
