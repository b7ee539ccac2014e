"""The bad-input corpus: every case gives exit 2 and a one-line cause naming the field or file, no traceback.

Cases live in tests/bad_inputs/cases.json (written by tests/bad_inputs/make_corpus.py together with
the spec and data files). They run in-process through the CLI's ``main()`` -- ``run`` with worker
launches forbidden (bad input is refused before any worker starts) and, for spec files,
``validate --data`` -- and a few through a real ``frameworkbench`` subprocess.
"""
from __future__ import annotations

import copy
import json
import sqlite3
from pathlib import Path

import pytest

from conftest import cli
from frameworkbench import cli as cli_module
from frameworkbench.execution import runner
from frameworkbench.spec import FIELDS, OPTIMIZERS, SpecError, fmt, invalid_values, validate

CORPUS = Path(__file__).resolve().parent / "bad_inputs"
CASES = json.loads((CORPUS / "cases.json").read_text())


@pytest.fixture
def in_corpus(monkeypatch, tmp_path):
    """cwd = the corpus (specs name their data files relatively); launching a worker is a test failure."""
    monkeypatch.chdir(CORPUS)

    def no_worker(*args, **kwargs):
        raise AssertionError("a worker was launched for bad input")

    monkeypatch.setattr(runner, "launch", no_worker)
    return tmp_path


def call(argv: list[str], capsys) -> tuple[int, str]:
    try:
        code = cli_module.main(argv)
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code
    return code, capsys.readouterr().err


def check_error(code: int, err: str, case: dict) -> None:
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    first = next(line for line in lines if "error:" in line)
    argparse_error = not err.startswith("error: ")
    multi = "problems found:" in first
    if argparse_error:  # "usage: ..." then "frameworkbench run: error: argument --x: ..."
        assert "argument --" in first
    elif multi:  # the first line names the file; one indented line per problem
        assert case["spec"] in first or ".csv" in first or ".npz" in first
        assert all(line.startswith("  ") for line in lines[1:]) and len(lines) >= 3
    else:  # one line: the field or file, the received value, what is allowed
        assert len(lines) == 1, err
        assert case["expect"][0] in first, err
    for text in case["expect"]:
        assert text in err, err


def test_corpus_is_large_enough():
    spec_files = {c["spec"] for c in CASES}
    data_files = [p for p in (CORPUS / "data").iterdir() if not p.name.startswith("good")]
    assert len(CASES) >= 40 and len(spec_files) >= 40 and len(data_files) >= 20


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_bad_input_run(case, in_corpus, capsys):
    db = in_corpus / "results.db"
    code, err = call(["run", case["spec"], "--targets", "torch", "--db", str(db), "--quiet", *case["args"]], capsys)
    check_error(code, err, case)
    if db.exists():  # nothing half-written: the database holds no run
        with sqlite3.connect(db) as conn:
            assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 0


SPEC_CASES = [c for c in CASES if not c["args"]]


@pytest.mark.parametrize("case", SPEC_CASES, ids=[c["name"] for c in SPEC_CASES])
def test_bad_input_validate(case, in_corpus, capsys):
    code, err = call(["validate", "--data", case["spec"]], capsys)
    check_error(code, err, case)


def test_good_controls_pass(in_corpus, capsys):
    """The corpus' bad files differ from these valid ones only in the fault they carry."""
    for spec in ("specs/good.yaml", "specs/good_file.yaml"):
        code, err = call(["validate", "--data", spec], capsys)
        assert code == 0, err


@pytest.mark.parametrize("name", ["malformed", "data_nan", "too_big_for_memory", "arg_unknown_target"])
def test_real_process_gives_one_line_and_exit_2(name, tmp_path):
    case = next(c for c in CASES if c["name"] == name)
    p = cli("run", case["spec"], "--targets", "torch", "--db", str(tmp_path / "r.db"), *case["args"], cwd=CORPUS)
    check_error(p.returncode, p.stderr, case)
    assert p.stdout == ""


def test_debug_shows_the_traceback(in_corpus, capsys):
    with pytest.raises(SpecError, match="unknown activation 'rleu'"):
        cli_module.main(["--debug", "validate", "specs/unknown_activation.yaml"])
    p = cli("--debug", "validate", "specs/unknown_activation.yaml", cwd=CORPUS)
    assert p.returncode != 0 and "Traceback" in p.stderr and "SpecError" in p.stderr


def test_nothing_is_unpickled_or_constructed(in_corpus, capsys):
    """The pickle and the python/object YAML tag would call sys.exit if they were ever loaded unsafely."""
    for spec in ("specs/data_npz_is_a_pickle.yaml", "specs/python_tag.yaml", "specs/data_npz_object_array.yaml"):
        code, err = call(["validate", "--data", spec], capsys)
        assert code == 2 and "unpickled" not in err and "unsafe yaml" not in err


DATA_CASES = [c for c in SPEC_CASES if c["name"].startswith("data_")]


@pytest.mark.parametrize("case", DATA_CASES, ids=[c["name"] for c in DATA_CASES])
def test_data_errors_name_the_spec_file(case, in_corpus, capsys):
    code, err = call(["validate", case["spec"]], capsys)  # validate checks the data by default
    assert code == 2 and err.startswith(f"error: {case['spec']}"), err


# --------------------------------------------------------------------------- derived from the field table
DATA_BY_SOURCE = {"synthetic": {"source": "synthetic", "n_samples": 200, "n_features": 6},
                  "sklearn": {"source": "sklearn", "name": "breast_cancer"},
                  "file": {"source": "file", "path": "data.csv", "target": "label"}}


def _base_for(field) -> tuple[dict, list]:
    """A valid spec where ``field`` applies, and the keys that lead to the field in it."""
    from frameworkbench.layers import LAYERS

    raw = {"task": "binary", "input_shape": [6], "loss": {"name": "binary_crossentropy"},
           "optimizer": {"name": "adam"}, "training": {}, "data": dict(DATA_BY_SOURCE["synthetic"]),
           "layers": [{"type": "dense", "units": 6, "activation": {"name": "relu"}},
                      {"type": "dense", "units": 1, "activation": {"name": "sigmoid"}}]}
    when: dict = {}
    for part in field.when.split(", ") if field.when else []:  # "type: conv1d, conv2d": several values of a key
        key, _, value = part.rpartition(": ")
        when[key or last] = f"{when[last]}, {value}" if not key else value
        last = key or last
    if "source" in when:
        raw["data"] = dict(DATA_BY_SOURCE[when["source"]])
    if when.get("task") == "multiclass":
        raw.update(task="multiclass", loss={"name": "sparse_categorical_crossentropy"})
        raw["layers"][1] = {"type": "dense", "units": 3, "activation": {"name": "softmax"}}
    if when.get("task") == "regression":
        raw.update(task="regression", loss={"name": "mse"}, metrics=["mae"])
        raw["layers"][1] = {"type": "dense", "units": 1, "activation": {"name": "linear"}}
    if when.get("name") in OPTIMIZERS:
        raw["optimizer"]["name"] = when["name"]
    keys: list = field.path.split(".")
    if keys[0] == "layers[]":
        keys[0:1] = ["layers", 0]
        if "type" in when:  # a layer type's own field: that type's example layer, after a first dense layer
            keys[1] = 1
            module = LAYERS[when["type"].split(", ")[0]]
            shape, example = module.EXAMPLES[0]
            if getattr(module, "INTEGER_INPUT", False):  # reads token ids: the first layer, on token data
                keys[1] = 0
                raw["layers"][0:1] = [copy.deepcopy(example), {"type": "flatten"}]
                raw["input_shape"] = list(shape)
                raw["data"] = {"source": "synthetic", "n_samples": 200, "sequence_length": shape[0],
                               "vocab_size": example["input_dim"]}
            else:
                raw["layers"].insert(1, copy.deepcopy(example))
            if len(shape) > 1:  # an N-D layer (conv, pool): on an N-D input, then back to a vector
                raw["input_shape"], raw["layers"][2:2] = list(shape), [{"type": "flatten"}]
                raw["layers"][0]["units"] = shape[-1]  # the first dense keeps the width (attention needs it)
                raw["data"] = {"source": "file", "path": "data.npz", "target": "y"}
        if "name" in when:  # an activation's parameter
            raw["layers"][0]["activation"] = {"name": when["name"]}
    return raw, keys


def _put(raw: dict, keys: list, value) -> str:
    """Set the value at ``keys``; the field's path as messages write it (``layers[1].units``)."""
    *parents, last = keys
    node = raw
    for k in parents:
        node = node[k]
    node[last] = value
    return ".".join(f"[{k}]" if isinstance(k, int) else k for k in keys).replace(".[", "[")


DERIVED = [(f, v) for f in FIELDS.values() for v in invalid_values(f)]


@pytest.mark.parametrize("field,value", DERIVED, ids=[f"{f.path}={v!r}" for f, v in DERIVED])
def test_invalid_values_from_the_field_table_are_refused(field, value):
    """Each value the table says is invalid is refused, and the message names the field and shows the value."""
    raw, keys = _base_for(field)
    validate(copy.deepcopy(raw))  # the control: valid before the value is put in
    where = _put(raw, keys, value)
    with pytest.raises(SpecError) as exc:
        validate(raw)
    named = [str(p) for p in exc.value.problems if p.path.startswith(where)]
    assert named, f"{where} not named in: {exc.value}"
    if not isinstance(value, list):
        assert any(fmt(value) in msg for msg in named), named


def test_every_constrained_field_yields_invalid_values():
    assert all(invalid_values(f) for f in FIELDS.values())
    assert len(DERIVED) >= 100


# --------------------------------------------------------------------------- shapes of N-D layers (issue 11)
_IMAGE = {"task": "multiclass", "input_shape": [8, 8, 1], "loss": "sparse_categorical_crossentropy",
          "data": {"source": "sklearn", "name": "digits", "reshape": [8, 8, 1]}}
_OUT = {"type": "dense", "units": 10, "activation": "softmax"}
SHAPE_CASES = [  # (layers, the problem's first words, words the message must hold: shapes and the fix)
    ([{"type": "flatten"}, {"type": "conv2d", "filters": 2, "kernel_size": 3}, {"type": "flatten"}, _OUT],
     "layers[1]: conv2d needs an input of rank 3", ["got rank 1", "input shape [64]", "before any flatten"]),
    ([{"type": "conv2d", "filters": 2, "kernel_size": [9, 3]}, {"type": "flatten"}, _OUT],
     "layers[0]: conv2d.kernel_size [9, 3] is larger than its input [8, 8]", ["padding 'same'", "[8, 8, 1]"]),
    ([{"type": "conv2d", "filters": 2, "kernel_size": 3}, {"type": "max_pool2d", "pool_size": 4},
      {"type": "max_pool2d", "pool_size": 2}, {"type": "flatten"}, _OUT],
     "layers[2]: max_pool2d.pool_size [2, 2] is larger than its input [1, 1]", ["output would be [0, 0]",
                                                                              "input shape [1, 1, 2]"]),
    ([{"type": "conv2d", "filters": 2, "kernel_size": [3, 3, 3]}, {"type": "flatten"}, _OUT],
     "layers[0]: conv2d.kernel_size [3, 3, 3] has 3 values", ["needs 1 or 2"]),
    ([{"type": "conv2d", "filters": 2, "kernel_size": 3}, _OUT],
     "layers: the model's output has shape [6, 6, 10]", ["add a flatten or global pooling layer"]),
]


@pytest.mark.parametrize("layers,first,words", SHAPE_CASES, ids=[c[1].split(":")[0] + "-" + c[1].split()[1]
                                                                 for c in SHAPE_CASES])
def test_layer_shapes_are_checked_before_any_worker(layers, first, words, in_corpus, capsys):
    spec = in_corpus / "shapes.json"
    spec.write_text(json.dumps({**_IMAGE, "layers": layers}))
    code, err = call(["run", str(spec), "--targets", "torch", "--db", str(in_corpus / "r.db")], capsys)
    assert code == 2 and "Traceback" not in err, err
    line = next(ln for ln in err.splitlines() if "error:" in ln)
    assert first in line and all(w in line for w in words), line


def test_reshape_must_fit_the_dataset_and_the_input_shape():
    with pytest.raises(SpecError, match=r"data.reshape: got \[8, 8, 2\] \(128 values\), but dataset 'digits' has 64 "):
        validate({**_IMAGE, "input_shape": [8, 8, 2], "data": {**_IMAGE["data"], "reshape": [8, 8, 2]},
                  "layers": [{"type": "flatten"}, _OUT]})
    with pytest.raises(SpecError, match=r"input_shape: input_shape is \[8, 8, 1\], but dataset 'digits' gives "
                                        r"vectors of 64 features; set data.reshape"):
        validate({**_IMAGE, "data": {"source": "sklearn", "name": "digits"}, "layers": [{"type": "flatten"}, _OUT]})
