"""The spec JSON Schema: generated from the field table, accepts every shipped spec, refuses structural errors."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from frameworkbench import cli as cli_module
from frameworkbench.layers import LAYERS
from frameworkbench.spec import load_spec
from frameworkbench.spec.fields import FIELDS
from frameworkbench.spec.schema import spec_schema

jsonschema = pytest.importorskip("jsonschema")
ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(__file__).parent / "bad_inputs"
# the corpus cases a schema can see: unknown fields and names, wrong types, missing fields, out-of-range values
STRUCTURAL = ("unknown_layer_type", "unknown_activation", "unknown_loss", "unknown_optimizer", "unknown_metric",
              "unknown_task", "unknown_field", "unknown_optimizer_param", "unknown_data_source", "unknown_init",
              "missing_task", "missing_layers", "missing_input_shape", "missing_units", "layers_not_a_list",
              "layers_empty", "input_shape_string", "units_zero", "units_negative", "units_fraction", "units_string",
              "units_absurd", "epochs_zero", "epochs_string", "epochs_absurd", "batch_size_negative", "lr_inf",
              "lr_negative", "lr_zero", "lr_string", "beta_out_of_range", "use_bias_string", "validation_split_one")


@pytest.fixture(scope="module")
def validator():
    schema = spec_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _shipped_specs() -> list[Path]:
    return sorted(p for p in (ROOT / "specs").glob("*.y*ml"))  # specs/studies holds studies, not specs


@pytest.mark.parametrize("path", _shipped_specs(), ids=lambda p: p.name)
def test_schema_accepts_every_shipped_spec(validator, path):
    load_spec(path)  # the validator accepts it too
    errors = [e.message for e in validator.iter_errors(yaml.safe_load(path.read_text()))]
    assert errors == []


def test_schema_accepts_every_study_spec(validator):
    from frameworkbench.analysis import study

    for name in ("activations", "frameworks"):
        if not (ROOT / "specs" / "studies" / f"{name}.yaml").exists():
            continue
        for exp in study.load(name, root=ROOT).experiments:
            for spec in exp.specs:
                assert [e.message for e in validator.iter_errors(spec.to_dict())] == [], spec.name


@pytest.mark.parametrize("case", STRUCTURAL)
def test_schema_rejects_the_corpus_structural_cases(validator, case):
    raw = yaml.safe_load((CORPUS / "specs" / f"{case}.yaml").read_text())
    assert list(validator.iter_errors(raw)), f"{case} passed the schema"


def test_schema_is_generated_from_the_field_table_and_layer_modules():
    schema = spec_schema()
    assert schema["properties"]["task"]["enum"] == list(FIELDS["task"].choices)
    epochs = schema["properties"]["training"]["properties"]["epochs"]
    assert (epochs["minimum"], epochs["maximum"]) == (FIELDS["training.epochs"].lo, FIELDS["training.epochs"].hi)
    layer_item = schema["properties"]["layers"]["items"]
    assert [b["if"]["properties"]["type"]["const"] for b in layer_item["allOf"]] == list(LAYERS)
    dense = next(b["then"] for b in layer_item["allOf"] if b["if"]["properties"]["type"]["const"] == "dense")
    assert "units" in dense["required"] and dense["additionalProperties"] is False


def test_schema_command_prints_it(capsys, tmp_path):
    assert cli_module.main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out) == spec_schema()
    out = tmp_path / "spec.schema.json"
    assert cli_module.main(["schema", "--out", str(out)]) == 0 and json.loads(out.read_text()) == spec_schema()
