"""Writes the bad-input corpus: specs/, data/ and cases.json (run from anywhere; idempotent).

Each case is one bad input: a spec file (which may name a bad data file) or a bad
command-line value, with the substrings its error message must contain. The files are
kept in the repository; this script documents how they were made and rebuilds them
(the binary .npz and .parquet files in particular).

    python tests/bad_inputs/make_corpus.py
"""
from __future__ import annotations

import json
import pickle
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent

TINY = """\
name: tiny
task: binary
input_shape: [6]
layers:
  - {type: dense, units: 8, activation: relu}
  - {type: dense, units: 1, activation: sigmoid}
loss: binary_crossentropy
optimizer: {name: adam, learning_rate: 0.01}
metrics: [accuracy]
training: {epochs: 2, batch_size: 16, seed: 0}
data: {source: synthetic, n_samples: 200, n_features: 6}
"""

FILE_SPEC = """\
name: {name}
task: {task}
input_shape: [3]
layers:
  - {{type: dense, units: 4, activation: relu}}
  - {{type: dense, units: {units}, activation: {act}}}
loss: {loss}
training: {{epochs: 1, batch_size: {batch}, seed: 0}}
data: {{source: file, path: {path}, target: label{extra}}}
"""


def tiny(**replace: str) -> str:
    """The valid tiny spec with whole lines replaced (key: the line's field name)."""
    out, key, used = [], None, set()
    for line in TINY.splitlines():
        if not line.startswith(" "):  # a top-level field; indented lines belong to it
            key = line.split(":", 1)[0]
            if key in replace:
                used.add(key)
                if replace[key]:
                    out.append(replace[key])
                continue
        if key in replace:
            continue
        out.append(line)
    replace = {k: v for k, v in replace.items() if k not in used}
    out += [v for v in replace.values() if v]  # fields the base does not have
    return "\n".join(out) + "\n"


def with_layers(*layers: str) -> str:
    return tiny(layers="layers:\n" + "\n".join(f"  - {lay}" for lay in layers))


def file_spec(name: str, path: str, task: str = "binary", units: int = 1, act: str = "sigmoid",
              loss: str = "binary_crossentropy", batch: int = 4, extra: str = "") -> str:
    return FILE_SPEC.format(name=name, task=task, units=units, act=act, loss=loss, batch=batch, path=path,
                            extra=extra)


def csv(rows: list[list], header: str = "a,b,c,label") -> str:
    return header + "\n" + "\n".join(",".join(str(v) for v in r) for r in rows) + "\n"


GOOD_ROWS = [[round(0.1 * i, 2), round(1 - 0.05 * i, 2), i % 5, i % 2] for i in range(20)]


def rows_with(i: int, j: int, value) -> list[list]:
    rows = [list(r) for r in GOOD_ROWS]
    rows[i][j] = value
    return rows


class Evil:
    """Unpickling this exits the interpreter: a data file must never be unpickled."""

    def __reduce__(self):
        return (sys.exit, ("a data file was unpickled",))


# (file, content, expected substrings, extra CLI args for `run`)
SPECS: list[tuple[str, str, list[str]]] = [
    ("malformed.yaml", "task: binary\nlayers: [\n  {type: dense\n", ["malformed YAML at line"]),
    ("malformed_indent.yaml", "task: binary\n  input_shape: [6]\n layers: x\n", ["malformed YAML at line"]),
    ("malformed.json", '{"task": "binary", "layers": [}', ["malformed JSON at line 1"]),
    ("python_tag.yaml", "task: !!python/object/apply:sys.exit ['unsafe yaml was loaded']\n",
     ["malformed YAML", "python/object/apply"]),
    ("empty.yaml", "", ["the spec file is empty"]),
    ("not_a_mapping.yaml", "- task: binary\n- layers: []\n", ["expected a mapping of spec fields"]),
    ("unknown_layer_type.yaml", with_layers("{type: dens, units: 8, activation: relu}",
                                            "{type: dense, units: 1, activation: sigmoid}"),
     ["layers[0].type: unknown layer type 'dens'", "did you mean 'dense'"]),
    ("unknown_activation.yaml", with_layers("{type: dense, units: 8, activation: rleu}",
                                            "{type: dense, units: 1, activation: sigmoid}"),
     ["layers[0].activation.name: unknown activation 'rleu'", "expected one of: elu, leaky_relu"]),
    ("unknown_loss.yaml", tiny(loss="loss: binary_crossentropi"),
     ["loss.name: unknown loss 'binary_crossentropi'", "did you mean 'binary_crossentropy'"]),
    ("unknown_optimizer.yaml", tiny(optimizer="optimizer: {name: adamw, learning_rate: 0.01}"),
     ["optimizer.name: unknown optimizer 'adamw'", "expected one of: adam, sgd"]),
    ("unknown_metric.yaml", tiny(metrics="metrics: [acuracy]"), ["metrics[0]: unknown metric 'acuracy'"]),
    ("unknown_task.yaml", tiny(task="task: classification"), ["task: unknown task 'classification'"]),
    ("unknown_field.yaml", tiny(epochs="epochs: 5"), ["epochs: unknown field 'epochs'"]),
    ("unknown_optimizer_param.yaml", tiny(optimizer="optimizer: {name: adam, lr: 0.01}"),
     ["optimizer.lr: unknown field 'lr'"]),
    ("unknown_data_source.yaml", tiny(data="data: {source: csvfile, path: x.csv}"),
     ["data.source: unknown data source 'csvfile'"]),
    ("unknown_init.yaml", tiny(init="init: glorot"), ["init: unknown init mode 'glorot'"]),
    ("missing_task.yaml", tiny(task=""), ["task: missing required field"]),
    ("missing_layers.yaml", tiny(layers=""), ["layers: missing required field"]),
    ("missing_input_shape.yaml", tiny(input_shape=""), ["input_shape: missing required field"]),
    ("missing_units.yaml", with_layers("{type: dense, activation: relu}", "{type: dense, units: 1, activation: sigmoid}"),
     ["layers[0].units: missing required field"]),
    ("layers_not_a_list.yaml", tiny(layers="layers: {type: dense, units: 1}"), ["layers: expected a list of layers"]),
    ("layers_empty.yaml", tiny(layers="layers: []"), ["layers: expected at least one layer"]),
    ("input_shape_string.yaml", tiny(input_shape="input_shape: six"), ["input_shape: expected a list"]),
    ("units_zero.yaml", with_layers("{type: dense, units: 0, activation: relu}",
                                    "{type: dense, units: 1, activation: sigmoid}"),
     ["layers[0].units: got 0; expected an integer in [1, 65536]"]),
    ("units_negative.yaml", with_layers("{type: dense, units: -8, activation: relu}",
                                        "{type: dense, units: 1, activation: sigmoid}"),
     ["layers[0].units: got -8"]),
    ("units_fraction.yaml", with_layers("{type: dense, units: 8.5, activation: relu}",
                                        "{type: dense, units: 1, activation: sigmoid}"),
     ["layers[0].units: expected an integer, got 8.5 (float)"]),
    ("units_string.yaml", with_layers("{type: dense, units: eight, activation: relu}",
                                      "{type: dense, units: 1, activation: sigmoid}"),
     ["layers[0].units: expected an integer, got 'eight' (str)"]),
    ("units_absurd.yaml", with_layers("{type: dense, units: 1000000000000, activation: relu}",
                                      "{type: dense, units: 1, activation: sigmoid}"),
     ["layers[0].units: got 1000000000000; expected an integer in [1, 65536]"]),
    ("epochs_zero.yaml", tiny(training="training: {epochs: 0, batch_size: 16}"), ["training.epochs: got 0"]),
    ("epochs_string.yaml", tiny(training="training: {epochs: many, batch_size: 16}"),
     ["training.epochs: expected an integer, got 'many'"]),
    ("epochs_absurd.yaml", tiny(training="training: {epochs: 10000000000, batch_size: 16}"),
     ["training.epochs: got 10000000000; expected an integer in [1, 100000]"]),
    ("batch_size_negative.yaml", tiny(training="training: {epochs: 2, batch_size: -16}"),
     ["training.batch_size: got -16"]),
    ("batch_larger_than_data.yaml", tiny(training="training: {epochs: 2, batch_size: 500}"),
     ["training.batch_size: got 500; expected at most the training set size (160)"]),
    ("lr_nan.yaml", tiny(optimizer="optimizer: {name: adam, learning_rate: .nan}"),
     ["optimizer.learning_rate: got nan; expected a finite number in (0.0, 10.0]"]),
    ("lr_inf.yaml", tiny(optimizer="optimizer: {name: sgd, learning_rate: .inf}"),
     ["optimizer.learning_rate: got inf"]),
    ("lr_negative.yaml", tiny(optimizer="optimizer: {name: adam, learning_rate: -0.001}"),
     ["optimizer.learning_rate: got -0.001"]),
    ("lr_zero.yaml", tiny(optimizer="optimizer: {name: sgd, learning_rate: 0}"),
     ["optimizer.learning_rate: got 0.0"]),
    ("lr_string.yaml", tiny(optimizer="optimizer: {name: adam, learning_rate: fast}"),
     ["optimizer.learning_rate: expected a number, got 'fast'"]),
    ("beta_out_of_range.yaml", tiny(optimizer="optimizer: {name: adam, beta_1: 1.0}"),
     ["optimizer.beta_1: got 1.0; expected a finite number in [0.0, 1.0)"]),
    ("use_bias_string.yaml", with_layers("{type: dense, units: 8, activation: relu, use_bias: yes please}",
                                         "{type: dense, units: 1, activation: sigmoid}"),
     ["layers[0].use_bias: expected true or false"]),
    ("loss_wrong_task.yaml", tiny(task="task: regression", loss="loss: binary_crossentropy",
                                  layers="layers:\n  - {type: dense, units: 8, activation: relu}\n"
                                         "  - {type: dense, units: 1, activation: sigmoid}",
                                  metrics="metrics: [mae]"),
     ["loss.name: loss 'binary_crossentropy' does not fit task 'regression'; expected one of: mse"]),
    ("loss_wrong_output.yaml", with_layers("{type: dense, units: 8, activation: relu}",
                                           "{type: dense, units: 1, activation: linear}"),
     ["layers[1].activation: loss 'binary_crossentropy' needs output activation 'sigmoid', got 'linear'"]),
    ("binary_two_outputs.yaml", with_layers("{type: dense, units: 8, activation: relu}",
                                            "{type: dense, units: 2, activation: sigmoid}"),
     ["layers[1].units: a binary task needs 1 output unit, got 2"]),
    ("softmax_hidden.yaml", tiny(task="task: multiclass", loss="loss: sparse_categorical_crossentropy",
                                 layers="layers:\n  - {type: dense, units: 8, activation: softmax}\n"
                                        "  - {type: dense, units: 3, activation: softmax}",
                                 data="data: {source: synthetic, n_samples: 200, n_features: 6, n_classes: 3}"),
     ["layers[0].activation: softmax is only supported on the output layer"]),
    ("metric_wrong_task.yaml", tiny(task="task: regression", loss="loss: mse", metrics="metrics: [accuracy]",
                                    layers="layers:\n  - {type: dense, units: 1, activation: linear}"),
     ["metrics[0]: metric 'accuracy' does not fit task 'regression'"]),
    ("n_features_mismatch.yaml", tiny(data="data: {source: synthetic, n_samples: 200, n_features: 7}"),
     ["data.n_features: got 7, but input_shape is [6]"]),
    ("sklearn_wrong_task.yaml", tiny(data="data: {source: sklearn, name: iris}"),
     ["data.name: dataset 'iris' is a multiclass dataset, but task is 'binary'"]),
    ("validation_split_one.yaml", tiny(data="data: {source: synthetic, n_samples: 200, validation_split: 1.0}"),
     ["data.validation_split: got 1.0; expected a finite number in [0.0, 0.9)"]),
    ("many_problems.yaml", "task: classify\ninput_shape: [0]\nlayers:\n  - {type: dense, units: -1, activation: rleu}\n"
                           "optimizer: {name: adam, learning_rate: -1}\ntraining: {epochs: 2.5}\n",
     ["6 problems found:", "task: unknown task 'classify'", "input_shape[0]: got 0",
      "layers[0].units: got -1", "layers[0].activation.name: unknown activation 'rleu'",
      "optimizer.learning_rate: got -1.0"]),
    ("too_big_for_memory.yaml", tiny(layers="layers:\n" + "".join(
        "  - {type: dense, units: 65536, activation: relu}\n" for _ in range(12))
        + "  - {type: dense, units: 1, activation: sigmoid}"),
     ["model too large for this machine: estimated", "parameters", "of memory is available"]),
    # data files (the spec is valid; the file it names is not)
    ("data_missing_file.yaml", file_spec("data_missing_file", "data/does_not_exist.csv"),
     ["data.path: data file not found: data/does_not_exist.csv"]),
    ("data_empty_file.yaml", file_spec("data_empty_file", "data/empty.csv"),
     ["data.path: data file is empty or not a file: data/empty.csv"]),
    ("data_is_directory.yaml", file_spec("data_is_directory", "data/folder.csv"),
     ["data.path: data file is empty or not a file: data/folder.csv"]),
    ("data_header_only.yaml", file_spec("data_header_only", "data/header_only.csv"),
     ["data.path: data file has no rows: data/header_only.csv"]),
    ("data_missing_target.yaml", file_spec("data_missing_target", "data/no_label_column.csv"),
     ["data.target: target column 'label' not in data/no_label_column.csv; columns: a, b, c, klass"]),
    ("data_non_numeric.yaml", file_spec("data_non_numeric", "data/non_numeric.csv"),
     ["data.path: non-numeric feature columns in data/non_numeric.csv: b"]),
    ("data_nan.yaml", file_spec("data_nan", "data/nan_feature.csv"),
     ["data.path: 1 NaN/inf feature values in data/nan_feature.csv (first in data row 4, column 'b')"]),
    ("data_inf.yaml", file_spec("data_inf", "data/inf_feature.csv"),
     ["data.path: 1 NaN/inf feature values in data/inf_feature.csv (first in data row 8, column 'c')"]),
    ("data_nan_label.yaml", file_spec("data_nan_label", "data/nan_label.csv"),
     ["data.target: 1 NaN/inf target values"]),
    ("data_three_classes_binary.yaml", file_spec("data_three_classes_binary", "data/three_classes.csv"),
     ["data.target: task 'binary' needs labels 0 and 1, got 3 classes: [0, 1, 2]"]),
    ("data_fraction_labels.yaml", file_spec("data_fraction_labels", "data/fraction_labels.csv"),
     ["data.target: task 'binary' needs integer class labels >= 0, got values like 0.5"]),
    ("data_string_labels.yaml", file_spec("data_string_labels", "data/string_labels.csv"),
     ["data.target: non-numeric target values"]),
    ("data_feature_count.yaml", file_spec("data_feature_count", "data/two_features.csv"),
     ["input_shape: the data has 2 features but input_shape is [3]"]),
    ("data_feature_count_and_labels.yaml", file_spec("data_feature_count_and_labels", "data/two_features_three_classes.csv"),
     ["data/two_features_three_classes.csv: 2 problems found:", "input_shape: the data has 2 features", "needs labels 0 and 1, got 3 classes"]),
    ("data_multiclass_wrong_units.yaml", file_spec("data_multiclass_wrong_units", "data/three_classes.csv",
                                                   task="multiclass", units=4, act="softmax",
                                                   loss="sparse_categorical_crossentropy"),
     ["data.target: the data has 3 classes but the output layer has 4 units"]),
    ("data_ragged_csv.yaml", file_spec("data_ragged_csv", "data/ragged.csv"),
     ["data.path: cannot read CSV file data/ragged.csv"]),
    ("data_too_few_rows.yaml", file_spec("data_too_few_rows", "data/one_row.csv", batch=1),
     ["data: 1 rows are too few for validation_split 0.2"]),
    ("data_batch_too_large.yaml", file_spec("data_batch_too_large", "data/good.csv", batch=64),
     ["training.batch_size: got 64; expected at most the training set size (16)"]),
    ("data_unknown_format.yaml", file_spec("data_unknown_format", "data/good.txt"),
     ["data.format: cannot tell the file format from the name 'data/good.txt'"]),
    ("data_npz_object_array.yaml", file_spec("data_npz_object_array", "data/object_array.npz"),
     ["data.path: cannot read NPZ file data/object_array.npz: it holds pickled Python objects"]),
    ("data_npz_is_a_pickle.yaml", file_spec("data_npz_is_a_pickle", "data/pickle_in_disguise.npz"),
     ["data.path: cannot read NPZ file data/pickle_in_disguise.npz: it holds pickled Python objects"]),
    ("data_npz_garbage.yaml", file_spec("data_npz_garbage", "data/garbage.npz"),
     ["data.path: cannot read NPZ file data/garbage.npz"]),
    ("data_npz_missing_target.yaml", file_spec("data_npz_missing_target", "data/no_label.npz"),
     ["data.target: target 'label' not in data/no_label.npz; arrays present: features"]),
    ("data_npz_scalar_target.yaml", file_spec("data_npz_scalar_target", "data/scalar_label.npz"),
     ["data.target: target array 'label' in data/scalar_label.npz needs one value per row, got shape ()"]),
    ("data_npz_row_mismatch.yaml", file_spec("data_npz_row_mismatch", "data/row_mismatch.npz"),
     ["NPZ data/row_mismatch.npz needs feature arrays with one row per target value (20); these do not fit: x"]),
    ("data_npz_strings.yaml", file_spec("data_npz_strings", "data/string_features.npz"),
     ["data.path: non-numeric feature arrays in data/string_features.npz: x (<U3)"]),
    ("data_huge_values.yaml", file_spec("data_huge_values", "data/huge_values.csv", extra=", standardize: false"),
     ["data.path: feature values in data/huge_values.csv too large to standardise or to hold in float32"]),
    ("data_parquet_garbage.yaml", file_spec("data_parquet_garbage", "data/garbage.parquet"),
     ["data.path: cannot read PARQUET file data/garbage.parquet"]),
]

# Bad command-line values: (name, args after `run SPEC`, expected substrings). SPEC is a valid spec.
ARGS: list[tuple[str, list[str], list[str]]] = [
    ("arg_unknown_target", ["--targets", "torch,tf.kears"],
     ["--targets: unknown target 'tf.kears' (did you mean 'tf.keras'?); expected one of:"]),
    ("arg_unknown_device", ["--device", "gpu0"], ["--device: unknown device 'gpu0' (did you mean 'gpu'?)"]),
    ("arg_zero_epochs", ["--epochs", "0"], ["argument --epochs: expected a positive integer, got '0'"]),
    ("arg_negative_timeout", ["--timeout", "-5"], ["argument --timeout: expected a positive number of seconds"]),
    ("arg_nan_timeout", ["--timeout", "nan"], ["argument --timeout: expected a positive number of seconds"]),
    ("arg_threads_absurd", ["--threads", "100000"], ["--threads: got 100000; expected an integer in [1, 1024]"]),
    ("arg_batch_override_too_large", ["--batch-size", "100000"],
     ["training.batch_size: got 100000; expected at most the training set size (160)"]),
    ("arg_db_is_directory", ["--db", "data"], ["--db: cannot use 'data' as the results database"]),
    ("arg_db_not_sqlite", ["--db", "data/good.csv"], ["--db: cannot use 'data/good.csv' as the results database",
                                                       "not a database"]),
    ("arg_spec_not_found", ["@spec", "specs/nope.yaml"], ["spec file not found: specs/nope.yaml"]),
    ("arg_spec_is_directory", ["@spec", "specs"], ["spec path is a directory"]),
    ("arg_options_and_spec", ["@spec", "specs/unknown_activation.yaml", "--targets", "pytorch"],
     ["2 problems found:", "unknown activation 'rleu'", "--targets: unknown target 'pytorch'"]),
]


def write_data() -> None:
    d = HERE / "data"
    d.mkdir(exist_ok=True)
    (d / "folder.csv").mkdir(exist_ok=True)
    (d / "folder.csv" / ".keep").write_text("")
    files = {
        "good.csv": csv(GOOD_ROWS),
        "good.txt": csv(GOOD_ROWS),
        "empty.csv": "",
        "header_only.csv": "a,b,c,label\n",
        "no_label_column.csv": csv(GOOD_ROWS, header="a,b,c,klass"),
        "non_numeric.csv": csv(rows_with(2, 1, "high")),
        "nan_feature.csv": csv(rows_with(3, 1, "nan")),
        "inf_feature.csv": csv(rows_with(7, 2, "inf")),
        "nan_label.csv": csv(rows_with(5, 3, "")),
        "three_classes.csv": csv([[*r[:3], i % 3] for i, r in enumerate(GOOD_ROWS)]),
        "fraction_labels.csv": csv(rows_with(1, 3, 0.5)),
        "string_labels.csv": csv([[*r[:3], "yes" if r[3] else "no"] for r in GOOD_ROWS]),
        "two_features.csv": csv([[r[0], r[1], r[3]] for r in GOOD_ROWS], header="a,b,label"),
        "two_features_three_classes.csv": csv([[r[0], r[1], i % 3] for i, r in enumerate(GOOD_ROWS)],
                                              header="a,b,label"),
        "ragged.csv": csv(GOOD_ROWS[:5]) + "1,2,3,4,5,6,7\n" + csv(GOOD_ROWS[5:]).split("\n", 1)[1],
        "one_row.csv": csv(GOOD_ROWS[:1]),
        "huge_values.csv": csv(rows_with(0, 0, "1e300")),
        "garbage.parquet": "this is not a parquet file\n",
        "garbage.npz": "PK\x03\x04 this is not really a zip archive\n",
    }
    for name, text in files.items():
        (d / name).write_text(text)
    x = np.array([r[:3] for r in GOOD_ROWS], dtype=np.float64)
    y = np.array([r[3] for r in GOOD_ROWS])
    np.savez(d / "object_array.npz", features=np.array([object()] * 20, dtype=object), label=y)
    (d / "pickle_in_disguise.npz").write_bytes(pickle.dumps({"features": Evil(), "label": y}))
    np.savez(d / "no_label.npz", features=x)
    np.savez(d / "scalar_label.npz", features=x, label=np.array(1))
    np.savez(d / "row_mismatch.npz", x=x[:15], label=y)
    np.savez(d / "string_features.npz", x=np.array([["abc"] * 3] * 20), label=y)


def main() -> None:
    specs = HERE / "specs"
    specs.mkdir(exist_ok=True)
    (specs / "good.yaml").write_text(TINY)
    (specs / "good_file.yaml").write_text(file_spec("good_file", "data/good.csv"))
    cases = []
    for name, text, expect in SPECS:
        (specs / name).write_text(text)
        cases.append({"name": name.rsplit(".", 1)[0], "spec": f"specs/{name}", "args": [], "expect": expect})
    for name, args, expect in ARGS:
        spec = "specs/good.yaml"
        if args[:1] == ["@spec"]:
            spec, args = args[1], args[2:]
        cases.append({"name": name, "spec": spec, "args": args, "expect": expect})
    write_data()
    (HERE / "cases.json").write_text(json.dumps(cases, indent=1) + "\n")
    print(f"{len(cases)} cases written to {HERE / 'cases.json'}")


if __name__ == "__main__":
    main()
