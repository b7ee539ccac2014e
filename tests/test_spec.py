"""Spec validation: normalisation, defaults, and every problem reported at once."""
import json

import pytest

from frameworkbench.spec import FIELDS, SpecError, fields_markdown, load_spec, validate


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


# --------------------------------------------------------------------------- one type rule, from the field table
def _set(raw: dict, table_path: str, value) -> str:
    """Put ``value`` at a FIELDS path in ``raw`` (list items: the first); return the path messages use."""
    parts = table_path.split(".")
    node, shown = raw, []
    for part in parts[:-1]:
        if part.endswith("[]"):
            node = node[part[:-2]][0]
            shown.append(part[:-2] + "[0]")
        else:
            if not isinstance(node.get(part), dict):
                node[part] = {"name": node[part]} if isinstance(node.get(part), str) else {}
            node = node[part]
            shown.append(part)
    node[parts[-1]] = value
    return ".".join(shown + [parts[-1]])


def _variant_for(field, spec_dict) -> dict:
    """The base spec switched to the variant a field applies to (e.g. leaky_relu, sgd, synthetic)."""
    raw = json.loads(json.dumps(spec_dict))
    if field.when.startswith("name: leaky_relu"):
        raw["layers"][0]["activation"] = {"name": "leaky_relu"}
    elif field.when.startswith("name: elu"):
        raw["layers"][0]["activation"] = {"name": "elu"}
    elif field.when == "name: sgd":
        raw["optimizer"] = {"name": "sgd"}
    elif "multiclass" in field.when:
        raw.update(task="multiclass", loss="sparse_categorical_crossentropy")
        raw["layers"][-1].update(units=3, activation="softmax")
    elif field.when.startswith("type: ") and "dense" not in field.when:  # a conv / pool field: that layer first
        from frameworkbench.layers import LAYERS

        shape, example = LAYERS[field.when[6:].split(", ")[0]].EXAMPLES[0]
        raw.update(input_shape=list(shape), layers=[dict(example), {"type": "flatten"}, *raw["layers"]])
    elif "task: regression" in field.when:
        raw.update(task="regression", loss="mse", metrics=["mae"])
        raw["layers"][-1].update(units=1, activation="linear")
    return raw


NUMERIC = [f for f in FIELDS.values() if f.kind in ("integer", "number")]


@pytest.mark.parametrize("field", NUMERIC, ids=[f.path for f in NUMERIC])
@pytest.mark.parametrize("bad", ["2", True])
def test_no_strings_or_bools_for_numbers(field, bad, spec_dict):
    raw = _variant_for(field, spec_dict)
    path = _set(raw, field.path, bad)
    found = problems(raw)
    assert any(m.startswith(f"{path}: expected ") and f"({type(bad).__name__})" in m for m in found), found
    if isinstance(bad, str):
        assert any("write the number without quotes" in m for m in found)


CHOICES = [f for f in FIELDS.values() if f.kind == "choice"]


@pytest.mark.parametrize("field", CHOICES, ids=[f.path for f in CHOICES])
def test_every_vocabulary_suggests_case_insensitively(field, spec_dict):
    raw = _variant_for(field, spec_dict)
    choice = sorted(field.choices)[-1]
    if field.path == "data.name":
        raw["data"] = {"source": "sklearn"}
    elif field.path in ("data.path", "data.format"):
        raw["data"] = {"source": "file", "path": "x.csv", "target": "y"}
    path = _set(raw, field.path, choice.upper())
    found = problems(raw)
    assert any(m.startswith(f"{path}: unknown ") and f"(did you mean '{choice}'?)" in m for m in found), found


def test_sgd_and_dense_get_suggestions(spec_dict):
    spec_dict["optimizer"] = "SGD"
    spec_dict["layers"][0]["type"] = "Dense"
    found = problems(spec_dict)
    assert "did you mean 'sgd'" in found[1] and "did you mean 'dense'" in found[0]


def test_yaml_reads_exponent_numbers(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text("task: binary\ninput_shape: [6]\nlayers: [{type: dense, units: 1, activation: sigmoid}]\n"
                 "optimizer: {name: adam, learning_rate: 1e-3, epsilon: 1E-8}\n"
                 "data: {source: synthetic, n_samples: 200}\n")
    s = load_spec(p)
    assert s.optimizer["learning_rate"] == 1e-3 and s.optimizer["epsilon"] == 1e-8 and s.source == str(p)
    p.write_text(p.read_text().replace("1e-3", '"0.05"'))
    with pytest.raises(SpecError, match=r"s.yaml: optimizer.learning_rate: expected a number, got '0.05' \(str\)"):
        load_spec(p)


def test_a_missing_loss_says_so(spec_dict):
    del spec_dict["loss"]
    assert validate(spec_dict).loss["name"] == "binary_crossentropy"  # the task's default
    spec_dict["layers"][1]["activation"] = "linear"
    (msg,) = problems(spec_dict)
    assert msg.startswith("loss: missing; the default for task 'binary', 'binary_crossentropy', needs output "
                          "activation 'sigmoid'") and msg.endswith("set loss to one of: mse")
    spec_dict["task"] = "classify"  # no task to take a default from: the task's problem alone
    assert [m.split(":")[0] for m in problems(spec_dict)] == ["task"]


def test_field_table_renders_every_field():
    table = fields_markdown()
    lines = table.splitlines()
    assert len(lines) == len(FIELDS) + 2
    for f in FIELDS.values():
        assert f"| `{f.path}` | {f.kind} |" in table
    assert "| `data.standardize` | boolean | `true` |" in table and "`breast_cancer`" in table


def test_overrides_keep_the_source(tmp_path, spec_dict):
    p = tmp_path / "s.json"
    p.write_text(json.dumps(spec_dict))
    assert load_spec(p).with_overrides(epochs=1).source == str(p)


def test_spec_is_typed_frozen_and_rebuilt_from_its_snapshot(spec_dict):
    import dataclasses

    from frameworkbench.spec import from_snapshot

    s = validate(spec_dict)
    assert isinstance(s.layers, tuple) and s.layers is s.layers and s.shapes == ((6,), (8,), (1,))
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.task = "regression"
    s.loss["name"] = "mse"  # sections are copies: the spec does not change
    assert s.loss["name"] == "binary_crossentropy"
    back = from_snapshot(s.to_dict(), source="x.yaml")
    assert back == s and back.hash == s.hash and back.to_dict() == s.to_dict() and back.source == "x.yaml"


def test_image_input_shape_and_conv_layers_normalise():
    """N-D input_shape, conv/pool sizes given as ints become lists, pool strides default to pool_size."""
    s = load_spec("specs/cnn_digits.yaml")
    assert s.input_shape == (8, 8, 1) and s.data["reshape"] == [8, 8, 1]
    assert s.shapes == ((8, 8, 1), (8, 8, 8), (8, 8, 8), (4, 4, 8), (2, 2, 16), (64,), (64,), (10,))
    assert s.to_dict()["layers"][0] == {"type": "conv2d", "filters": 8, "kernel_size": [3, 3], "strides": [1, 1],
                                  "padding": "same", "activation": {"name": "relu"}, "use_bias": True}
    assert s.to_dict()["layers"][1] == {"type": "batch_norm", "momentum": 0.99, "epsilon": 1e-3}
    assert s.to_dict()["layers"][2] == {"type": "max_pool2d", "pool_size": [2, 2], "strides": [2, 2], "padding": "valid"}
    assert s.to_dict()["layers"][5] == {"type": "dropout", "rate": 0.25}
    assert problems({**s.to_dict(), "input_shape": [8, 8, 1, 1]})[0].startswith("input_shape: expected a list of 1 to 3")
    assert "layers[0].kernel_size" in problems({**s.to_dict(), "layers": [{**s.to_dict()["layers"][0], "kernel_size": [0, 3]},
                                                                     *s.to_dict()["layers"][1:]]})[0]


# ----------------------------------------------------------------------------- sequences and token ids (issue 11)
def _tokens(**data):
    return {"task": "multiclass", "input_shape": [10], "loss": "sparse_categorical_crossentropy",
            "layers": [{"type": "embedding", "input_dim": 30, "output_dim": 4}, {"type": "global_avg_pool1d"},
                       {"type": "dense", "units": 3, "activation": "softmax"}],
            "data": {"source": "synthetic", "n_samples": 100, "sequence_length": 10, "vocab_size": 30,
                     "n_classes": 3, **data}}


def _floats(**data):
    return {**_tokens(), "input_shape": [10, 2], "layers": [{"type": "lstm", "units": 4},
                                                          {"type": "dense", "units": 3, "activation": "softmax"}],
            "data": {**{k: v for k, v in _tokens()["data"].items() if k != "vocab_size"}, "n_features": 2, **data}}


def test_sequence_fields_normalise_and_set_the_input_dtype():
    t, f = validate(_tokens()), validate(_floats())
    assert t.input_dtype == "int32" and f.input_dtype == "float32"
    assert t.data == {"source": "synthetic", "n_samples": 100, "sequence_length": 10, "vocab_size": 30,
                      "n_classes": 3, "flip_y": 0.01, "validation_split": 0.2, "standardize": True, "seed": 0}
    assert "vocab_size" not in f.data and f.data["n_features"] == 2
    plain = validate({"task": "binary", "input_shape": [4], "layers": [{"type": "dense", "units": 1,
                                                                        "activation": "sigmoid"}]})
    assert "sequence_length" not in plain.data and plain.input_dtype == "float32"  # vector specs keep their hash


def _without(raw, key):
    raw["data"].pop(key)
    return raw


@pytest.mark.parametrize("raw, message", [
    (_without(_tokens(), "vocab_size"), "data.sequence_length: set exactly one of data.n_features (float sequences, "
                                        "input_shape [T, F]) or data.vocab_size (token ids, input_shape [T])"),
    (_tokens(n_features=2), "data.sequence_length: got both n_features and vocab_size"),
    (_tokens(vocab_size=31), "layers[0].input_dim: got 30, but data.vocab_size is 31: token ids go up to 30; set "
                             "input_dim to at least 31"),
    (_tokens(vocab_size=6), "data.vocab_size: got 6; expected at least 7 for 3 classes"),
    (_tokens(sequence_length=1), "data.sequence_length: got 1; expected at least 2 for token ids"),
    ({**_tokens(), "input_shape": [10, 1]}, "input_shape: got [10, 1], but synthetic token ids of sequence_length "
                                            "10 (vocab_size 30) have shape [10]; set input_shape: [10]"),
    ({**_floats(), "input_shape": [10]}, "input_shape: got [10], but synthetic float sequences of sequence_length "
                                         "10 (n_features 2) have shape [10, 2]; set input_shape: [10, 2]"),
    ({**_tokens(), "layers": _floats()["layers"][1:]}, "data.vocab_size: token ids need an embedding first layer "
                                                       "(e.g. {type: embedding, input_dim: 30, output_dim: 16}), but "
                                                       "layers[0] is 'dense'"),
    ({**_tokens(), "input_shape": [6], "layers": [{"type": "dense", "units": 4}, *_tokens()["layers"]],
      "data": {"source": "synthetic", "n_samples": 100, "n_features": 6, "n_classes": 3}},
     "layers[1]: embedding reads integer token ids, but here it gets the float output of layers[0] (dense); make it "
     "the first layer"),
    ({**_tokens(), "input_shape": [6], "data": {"source": "synthetic", "n_samples": 100, "n_features": 6,
                                                 "n_classes": 3}},
     "layers[0]: embedding reads integer token ids, but synthetic data without data.vocab_size are float features"),
    ({**_tokens(), "input_shape": [64], "data": {"source": "sklearn", "name": "digits"}},
     "layers[0]: embedding reads integer token ids, but scikit-learn dataset 'digits' holds float features"),
    ({**_floats(), "layers": _tokens()["layers"]}, "layers[0]: embedding reads token ids of shape [T] (rank 1)"),
    ({**_floats(class_sep=1.0)}, "data.class_sep: not used with synthetic sequences (data.sequence_length)"),
    ({**_floats(), "task": "regression", "loss": "mse", "metrics": ["mae"],
      "layers": [{"type": "lstm", "units": 4}, {"type": "dense", "units": 1}]},
     "data.n_classes: only used with task 'multiclass'"),
    ({**_tokens(), "task": "regression", "loss": "mse", "metrics": ["mae"], "data": _without(_tokens(), "n_classes")
      ["data"], "layers": [*_tokens()["layers"][:2], {"type": "dense", "units": 1}]},
     "data.vocab_size: token sequences are generated for binary and multiclass tasks"),
    ({**_floats(), "task": "regression", "loss": "mse", "metrics": ["mae"], "data": _without(_floats(), "n_classes")
      ["data"], "layers": [{"type": "lstm", "units": 4}, {"type": "dense", "units": 2}]},
     "layers: synthetic sequences have one regression target, but the output layer has 2 units"),
    ({**_floats(noise=0.1)}, "data.noise: not used with task 'multiclass'; synthetic multiclass sequences take: "
                             "flip_y"),
    ({**_tokens(), "data": {"source": "synthetic", "n_samples": 100, "vocab_size": 30, "n_classes": 3}},
     "data.vocab_size: token ids need data.sequence_length"),
    ({**_floats(), "data": {"source": "synthetic", "n_samples": 100, "n_features": 2, "n_classes": 3}},
     "input_shape: got [10, 2], but synthetic data without data.sequence_length are vectors [n_features]"),
])
def test_sequence_and_token_input_problems(raw, message):
    found = problems(raw)
    assert any(p.startswith(message) for p in found), found


def test_token_problems_exit_2_before_any_worker(tmp_path, capsys):
    from frameworkbench import cli

    p = tmp_path / "bad.json"
    p.write_text(json.dumps(_tokens(vocab_size=40)))
    assert cli.main(["validate", "--no-data", str(p)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {p}: layers[0].input_dim: got 30, but data.vocab_size is 40")
    assert "Traceback" not in err
