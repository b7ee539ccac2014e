"""Property-based tests: random mutations of valid specs and data files never escape as an
uncaught exception -- the result is a validation error (SpecError, exit 2) or a valid outcome.
"""
from __future__ import annotations

import contextlib
import copy
import io
import math
import tempfile
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from conftest import BASE_SPEC
from frameworkbench import cli as cli_module
from frameworkbench.data import load_dataset
from frameworkbench.estimate import check_memory, estimate
from frameworkbench.spec import (ACTIVATIONS, LAYER_TYPES, LOSSES, METRICS, OPTIMIZERS, TASKS, SpecError,
                                 validate)

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

VARIANTS = [
    BASE_SPEC,
    {**BASE_SPEC, "task": "multiclass", "loss": "sparse_categorical_crossentropy",
     "layers": [{"type": "dense", "units": 8, "activation": {"name": "leaky_relu", "negative_slope": 0.1}},
                {"type": "activation", "activation": "tanh"},
                {"type": "dense", "units": 3, "activation": "softmax"}],
     "data": {"source": "synthetic", "n_samples": 120, "n_features": 6, "n_classes": 3}},
    {**BASE_SPEC, "task": "regression", "loss": "mse", "metrics": ["mae"],
     "optimizer": {"name": "sgd", "learning_rate": 0.05, "momentum": 0.9},
     "layers": [{"type": "dense", "units": 4, "activation": "elu"}, {"type": "dense", "units": 1}]},
]

NAMES = [*TASKS, *LAYER_TYPES, *ACTIVATIONS, *LOSSES, *OPTIMIZERS, *METRICS, "synthetic", "sklearn", "file",
         "iris", "shared", "native", "rleu", "Dense", "adamw", "mse ", "", "binary\x00"]
VALUES = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-3, max_value=70_000), st.integers(),
    st.sampled_from([2**63, -(2**63) - 1, 10**400, -(10**400), 10**5000, 1e308, -0.0, 5e-324]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(NAMES), st.text(max_size=8),
    st.lists(st.one_of(st.integers(-2, 20), st.sampled_from(NAMES)), max_size=3),
    st.dictionaries(st.sampled_from(["name", "units", "type", "x", "learning_rate"]),
                    st.one_of(st.integers(-2, 20), st.sampled_from(NAMES), st.floats()), max_size=3),
)


def paths(node, prefix=()):
    """Every path into a nested dict/list spec (the root excluded)."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield (*prefix, k)
            yield from paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield (*prefix, i)
            yield from paths(v, (*prefix, i))


@st.composite
def mutated_specs(draw):
    raw = copy.deepcopy(draw(st.sampled_from(VARIANTS)))
    for _ in range(draw(st.integers(1, 3))):
        options = list(paths(raw))
        if not options:
            break
        path = draw(st.sampled_from(options))
        parent = raw
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(VALUES)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.sampled_from(["extra", "units", "epochs", "activation", "seed"]))] = draw(VALUES)
        else:
            parent.append(draw(VALUES))
    return raw


def cheap(spec) -> bool:
    est = estimate(spec)
    return est.core_bytes < 64 << 20 and est.worker_bytes < 64 << 20


def check_dataset(spec) -> None:
    """Load the data: a SpecError, or arrays every worker could train on."""
    try:
        ds = load_dataset(spec)
    except SpecError as exc:
        assert exc.problems and str(exc)
        return
    assert ds.x_train.dtype == np.float32 and np.isfinite(ds.x_train).all() and np.isfinite(ds.x_val).all()
    assert ds.x_train.shape[1] == spec.n_features and len(ds.x_train) >= spec.training["batch_size"]
    if spec.task != "multiclass" or spec.loss["name"] != "sparse_categorical_crossentropy":
        assert np.isfinite(ds.y_train).all()
    if spec.task == "binary":
        assert set(np.unique(ds.y_train)) <= {0.0, 1.0}
    if spec.task == "multiclass":
        labels = ds.y_train if ds.y_train.ndim == 1 else ds.y_train.argmax(1)
        assert labels.min() >= 0 and labels.max() < spec.output_units


@FAST
@given(mutated_specs())
def test_mutated_specs_validate_or_fail_cleanly(raw):
    try:
        spec = validate(raw)
    except SpecError as exc:
        assert exc.problems and all(str(p) for p in exc.problems)
        assert "\n" not in str(exc.problems[0])  # one problem, one line
        return
    # a valid spec is a fixed point of validation, and every size in it is sane
    again = validate(spec.to_dict())
    assert again.hash == spec.hash and again.to_dict() == spec.to_dict()
    assert all(1 <= lay.units <= 65536 for lay in spec.dense_layers)
    assert math.isfinite(spec.optimizer["learning_rate"]) and spec.optimizer["learning_rate"] > 0
    try:
        check_memory(spec)
    except SpecError as exc:
        assert "model too large" in str(exc)
        return
    if cheap(spec):
        check_dataset(spec)


YAML_TEXT = yaml.safe_dump(BASE_SPEC, sort_keys=False)
YAML_NOISE = list(":-[]{},#&*!|>'\"%@` \n\t0123456789.eE+") + ["!!python/object/apply:os.system ['x']", "\x00",
                                                               "\ufeff", "\ud7ff", "~", "null", ".nan", "-.inf"]


@st.composite
def mutated_yaml(draw):
    text = YAML_TEXT
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(text)))
        j = min(len(text), i + draw(st.integers(0, 6)))
        text = text[:i] + draw(st.one_of(st.sampled_from(YAML_NOISE), st.text(max_size=4))) + text[j:]
    return text


def run_cli(argv: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli_module.main(argv)
        except SystemExit as exc:
            code = exc.code
    return code, err.getvalue()


@FAST
@given(mutated_yaml(), st.sampled_from([".yaml", ".json"]))
def test_mutated_spec_files_give_exit_0_or_2(text, suffix):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"spec{suffix}"
        path.write_text(text if suffix == ".yaml" else text.replace(": ", '": "'), encoding="utf-8",
                        errors="surrogatepass")
        code, err = run_cli(["validate", str(path)])
    assert code in (0, 2), err
    assert "Traceback" not in err
    if code == 2:
        assert err.startswith("error: ")


CELLS = st.one_of(st.sampled_from(["", "nan", "NaN", "inf", "-inf", "abc", "1e400", "1e300", "-1", "2", "3", "0.5",
                                   "0", "1", "1,2", '"', "true", " ", "1e38", "-0"]),
                  st.floats(allow_nan=True).map(repr), st.text(max_size=4))


@st.composite
def mutated_csv(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    n = draw(st.integers(0, 30))
    rows = [[f"{v:.3f}" for v in rng.normal(size=3)] + [str(int(rng.integers(0, 2)))] for _ in range(n)]
    header = ["a", "b", "c", "label"]
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["cell", "cell", "header", "drop_row", "extra_cell"]))
        if kind == "cell" and rows:
            r, c = draw(st.integers(0, len(rows) - 1)), draw(st.integers(0, 3))
            rows[r][c] = draw(CELLS)
        elif kind == "header":
            header[draw(st.integers(0, 3))] = draw(st.sampled_from(["label", "lbl", "", "a", "x"]))
        elif kind == "drop_row" and rows:
            rows.pop(draw(st.integers(0, len(rows) - 1)))
        elif kind == "extra_cell" and rows:
            rows[draw(st.integers(0, len(rows) - 1))].append(draw(CELLS))
    text = ",".join(header) + "\n" + "".join(",".join(r) + "\n" for r in rows)
    if draw(st.booleans()):
        text = text[:draw(st.integers(0, len(text)))]
    return text


def file_spec(path: Path, task: str, batch: int) -> dict:
    units, act, loss = {"binary": (1, "sigmoid", "binary_crossentropy"),
                        "multiclass": (3, "softmax", "sparse_categorical_crossentropy"),
                        "regression": (1, "linear", "mse")}[task]
    return {"task": task, "input_shape": [3],
            "layers": [{"type": "dense", "units": 4, "activation": "relu"},
                       {"type": "dense", "units": units, "activation": act}],
            "loss": loss, "metrics": ["mae"], "training": {"epochs": 1, "batch_size": batch},
            "data": {"source": "file", "path": str(path), "target": "label"}}


@FAST
@given(mutated_csv(), st.sampled_from(TASKS), st.integers(1, 8))
def test_mutated_csv_files_load_or_fail_cleanly(text, task, batch):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "d.csv"
        path.write_text(text)
        check_dataset(validate(file_spec(path, task, batch)))


ARRAYS = st.tuples(
    st.sampled_from(["float64", "float32", "int64", "bool", "<U3", "complex128", "uint8"]),
    st.sampled_from([(), (0,), (20,), (20, 1), (20, 3), (20, 2), (19, 3), (20, 0), (20, 1, 3)]),
    st.sampled_from([0.0, 1.0, 2.0, -1.0, 0.5, np.nan, np.inf, 1e39]),
)


@FAST
@given(st.dictionaries(st.sampled_from(["x", "y", "label", "extra"]), ARRAYS, max_size=3), st.sampled_from(TASKS),
       st.integers(0, 2**16))
def test_mutated_npz_files_load_or_fail_cleanly(arrays, task, seed):
    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "d.npz"
        out = {}
        for name, (dtype, shape, special) in arrays.items():
            a = rng.integers(0, 2, size=shape).astype(np.float64)
            if a.size and rng.random() < 0.5:
                a.flat[rng.integers(0, a.size)] = special
            with np.errstate(invalid="ignore", over="ignore"):
                out[name] = a.astype(dtype) if dtype != "<U3" else a.astype(str).astype(dtype)
        np.savez(path, **out)
        check_dataset(validate(file_spec(path, task, 2)))


@pytest.mark.slow
@settings(max_examples=4, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(mutated_specs())
def test_valid_mutations_run_to_a_record(tmp_path_factory, raw):
    """A mutated spec that validates runs in a real worker (torch) to a stored ok or diverged record."""
    from frameworkbench.execution.runner import RunOptions, run
    from frameworkbench.store import Store
    from frameworkbench.targets import get_target

    try:
        spec = validate(raw)
    except SpecError:
        assume(False)
    assume(cheap(spec) and spec.training["epochs"] <= 3 and estimate(spec).params < 10_000)
    db = tmp_path_factory.mktemp("prop") / "r.db"
    try:
        records = run(spec, [get_target("torch")], RunOptions(db=db, timeout=120))
    except SpecError:  # the data did not fit the spec: refused before any worker started
        with Store(db) as st_:
            assert st_.records() == []
        return
    (rec,) = records
    assert rec["status"] in ("ok", "diverged"), rec.get("error")
    with Store(db) as st_:
        assert [r["run_id"] for r in st_.records()] == [rec["run_id"]]
        assert st_.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
