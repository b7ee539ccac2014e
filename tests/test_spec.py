"""Spec validation: normalisation, defaults, and every problem reported at once."""
import json

import pytest

from frameworkbench.spec import SpecError, load_spec, validate


def problems(raw) -> list[str]:
    with pytest.raises(SpecError) as e:
        validate(raw)
    return [str(p) for p in e.value.problems]


def test_seed_specs_load(tmp_path):
    from conftest import SPECS

    for name in ("seed_tf_keras", "seed_torch_net", "seed_torch_sequential"):
        s = load_spec(SPECS / f"{name}.yaml")
        assert s.name == name and s.task == "binary" and s.n_features == 10


def test_defaults_are_explicit(spec_dict):
    s = validate(spec_dict)
    assert s.optimizer == {"name": "adam", "learning_rate": 0.01, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}
    assert s.loss == {"name": "binary_crossentropy", "epsilon": 1e-7}
    assert s.metrics == ["accuracy"] and s.init == "shared"
    spec_dict["layers"][0]["activation"] = "leaky_relu"
    assert validate(spec_dict).layers[0].activation.params == {"negative_slope": 0.01}


def test_misspelled_activation_message(spec_dict):
    spec_dict["layers"][1]["activation"] = "rleu"
    spec_dict["loss"] = "mse"
    (msg,) = problems(spec_dict)
    assert msg == ("layers[1].activation.name: unknown activation 'rleu' (did you mean 'relu'?); expected one of: "
                   "elu, leaky_relu, linear, relu, sigmoid, softmax, tanh")


def test_every_problem_at_once(spec_dict):
    spec_dict["task"] = "classify"
    spec_dict["layers"][0]["units"] = 0
    spec_dict["optimizer"]["learning_rate"] = -1
    spec_dict["training"]["epochs"] = 2.5
    spec_dict["extra"] = 1
    found = problems(spec_dict)
    assert len(found) == 5
    joined = "\n".join(found)
    for field in ("task:", "layers[0].units:", "optimizer.learning_rate:", "training.epochs:", "extra:"):
        assert field in joined


def test_loss_must_fit_task_and_output(spec_dict):
    spec_dict["layers"][1]["activation"] = "linear"
    (msg,) = problems(spec_dict)
    assert msg.startswith("layers[1].activation: loss 'binary_crossentropy' needs output activation 'sigmoid'")
    spec_dict["task"] = "regression"
    spec_dict["data"].pop("n_features")
    assert any("does not fit task 'regression'" in m for m in problems(spec_dict))


def test_batch_larger_than_training_set(spec_dict):
    spec_dict["training"]["batch_size"] = 500
    (msg,) = problems(spec_dict)
    assert "training.batch_size" in msg and "160" in msg


def test_hash_ignores_name_and_tracks_content(spec_dict):
    a = validate(spec_dict)
    b = validate({**spec_dict, "name": "other", "description": "x"})
    assert a.hash == b.hash
    assert a.with_overrides(epochs=3).hash != a.hash


def test_malformed_yaml_and_json(tmp_path):
    y = tmp_path / "bad.yaml"
    y.write_text("task: binary\nlayers: [\n")
    with pytest.raises(SpecError, match=r"malformed YAML at line"):
        load_spec(y)
    j = tmp_path / "bad.json"
    j.write_text("{")
    with pytest.raises(SpecError, match=r"malformed JSON at line 1"):
        load_spec(j)
    with pytest.raises(SpecError, match="spec file not found"):
        load_spec(tmp_path / "nope.yaml")


def test_yaml_is_loaded_safely(tmp_path):
    y = tmp_path / "evil.yaml"
    y.write_text("task: !!python/object/apply:os.system ['echo hi']\n")
    with pytest.raises(SpecError, match="malformed YAML"):
        load_spec(y)


def test_json_spec_round_trip(tmp_path, spec_dict):
    p = tmp_path / "s.json"
    p.write_text(json.dumps(spec_dict))
    assert load_spec(p).to_dict() == validate(spec_dict).to_dict()
