"""Studies (specs/studies) and codegen, without any framework: expansion, validation, generated code."""
import pytest

from conftest import ROOT, SPECS
from frameworkbench import codegen, weights
from frameworkbench.analysis import study
from frameworkbench.spec import SpecError, load_spec
from frameworkbench.targets import TARGETS


def test_shipped_studies_expand_into_valid_named_specs():
    act = study.load("activations", root=ROOT)
    assert [(e.name, e.mode) for e in act.experiments] == [("probe", "activations"), ("deep", "train_stats")]
    deep = act.experiments[1]
    assert [s.name for s in deep.specs] == [f"study:activations:deep:{a}"
                                            for a in ("sigmoid", "tanh", "relu", "leaky_relu", "elu")]
    for s in deep.specs:  # every hidden layer gets the activation, the output keeps softmax
        names = [lay.activation.name for lay in s.dense_layers]
        assert names[-1] == "softmax" and set(names[:-1]) == {s.name.rsplit(":", 1)[1]}
    lay = study.load("layers", root=ROOT)
    grid = lay.experiments[0]
    assert len(grid.specs) == 3 * 2 * (4 + 4)  # tasks × datasets × (output pairs + other hidden activations)
    assert len({s.hash for s in grid.specs}) == len(grid.specs)
    assert all(study.parse_name(s.name)[:2] == ("layers", "grid") for s in grid.specs)
    fw = study.load("frameworks", root=ROOT)
    train = fw.experiments[0]
    assert train.specs[0].hash == load_spec(SPECS / "seed_tf_keras.yaml").hash
    assert set(train.targets) == set(TARGETS)  # the low-level loop variants are measured too


def test_grid_keeps_the_validators_rules():
    bad = {"name": "x", "experiments": [{
        "name": "g", "targets": ["torch"], "hidden": ["relu"],
        "tasks": {"binary": {"outputs": [{"activation": "linear", "loss": "binary_crossentropy"}],
                             "datasets": [{"source": "synthetic", "n_samples": 100, "n_features": 3}]}}}]}
    with pytest.raises(SpecError, match="needs output activation 'sigmoid'"):
        study.load(bad)


def test_study_problems_are_listed_with_their_place():
    bad = {"name": "x", "experiments": [{"name": "a", "mode": "trian", "targets": ["torch", "pytorch"],
                                         "spec_file": "nope.yaml"}]}
    with pytest.raises(SpecError) as err:
        study.load(bad)
    text = str(err.value)
    assert "experiments[0].mode: unknown worker mode 'trian' (did you mean 'train'?)" in text
    assert "unknown target 'pytorch'" in text
    with pytest.raises(SpecError, match="unknown study 'nosuch'; expected one of: activations, frameworks, layers"):
        study.find("nosuch", root=ROOT)


def test_study_names_round_trip():
    assert study.parse_name(study.spec_name("layers", "grid", "binary:x")) == ("layers", "grid", "binary:x")
    assert study.parse_name("seed_tf_keras") is None and study.is_study_spec("study:a:b")


@pytest.mark.parametrize("target", list(codegen.GENERATORS))
@pytest.mark.parametrize("spec_file", ["seed_tf_keras.yaml", "seed_torch_sequential.yaml", "seed_torch_net.yaml"])
def test_codegen_is_valid_python_with_marked_parts(target, spec_file):
    spec = load_spec(SPECS / spec_file)
    code = codegen.generate(spec, target)
    compile(code, f"<{target}>", "exec")
    counts = codegen.count_lines(code)
    assert 5 <= counts["lines"] < counts["total_lines"]
    assert code.rstrip().splitlines()[-1].startswith('print("params:"')


def test_codegen_covers_every_target_and_study_spec():
    assert set(codegen.GENERATORS) == set(TARGETS)
    for s in study.load("layers", root=ROOT).experiments[0].specs:
        for target in ("torch", "keras:jax"):
            compile(codegen.generate(s, target), s.name, "exec")
    with pytest.raises(SpecError, match="unknown codegen target 'pytorch'"):
        codegen.generate(load_spec(SPECS / "seed_torch_net.yaml"), "pytorch")


def test_codegen_idioms():
    seq = load_spec(SPECS / "seed_torch_sequential.yaml")
    torch_code = codegen.generate(seq, "torch")
    assert "nn.Linear(10, 20)" in torch_code and "nn.BCELoss()" in torch_code
    # softmax + cross-entropy: idiomatic torch folds the softmax into nn.CrossEntropyLoss
    digits = study.load("layers", root=ROOT).experiments[0].specs[16]
    assert digits.layers[-1].activation.name == "softmax" and digits.loss["name"].endswith("crossentropy")
    code = codegen.generate(digits, "torch")
    assert "nn.CrossEntropyLoss()" in code and "nn.Softmax" not in code
    assert "layers.Dense(10, activation='softmax')" in codegen.generate(digits, "keras:jax")
    # the counts differ the way the frameworks do: fit is shorter than a hand-written loop
    lines = {t: codegen.count_lines(codegen.generate(seq, t))["lines"] for t in codegen.GENERATORS}
    assert lines["keras:jax"] < lines["torch"] < lines["keras:jax:stateless"]
    assert lines["tf.keras"] < lines["tf:gradienttape"]
    assert codegen.parse_params("epoch 1\nparams: 241\n") == 241 and codegen.parse_params("nothing") is None
    assert weights.param_count(seq) == 241
