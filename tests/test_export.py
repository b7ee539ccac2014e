"""`frameworkbench export`: formats, statuses, input shapes and dtypes, converter reasons (fast); slow end-to-end
runs on torch and keras:tensorflow, and on torch with N-D images and int32 token ids."""
from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from frameworkbench import cli
from frameworkbench.analysis import export, export_mode

ROOT = Path(__file__).resolve().parents[1]


def test_status_is_ok_only_within_the_mismatch_bound():
    assert export_mode.status_for(0.0) == "ok" and export_mode.status_for(export_mode.MISMATCH) == "ok"
    assert export_mode.status_for(2 * export_mode.MISMATCH) == "mismatch"
    assert export_mode.status_for(float("nan")) == "mismatch" and export_mode.status_for(None) == "mismatch"


def test_formats_parse_and_bad_names_exit_2(capsys):
    assert export.parse_formats(None) == list(export_mode.FORMATS)
    assert export.parse_formats("onnx, tflite") == ["onnx", "tflite"]
    assert cli.main(["export", str(ROOT / "specs/seed_tf_keras.yaml"), "--formats", "onnx,pdf"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --formats: unknown format 'pdf'") and "torch.export" in err
    assert cli.main(["export", str(ROOT / "specs/seed_tf_keras.yaml"), "--targets", "nope"]) == 2
    assert "--targets: unknown target 'nope'" in capsys.readouterr().err
    assert cli.main(["export"]) == 2 and "exactly one" in capsys.readouterr().err


def test_run_without_saved_model_exits_2(tmp_path, capsys):
    from frameworkbench.store import Store

    db = tmp_path / "r.db"
    with Store(db) as st:
        st.save({"run_id": "abc", "batch_id": "b", "created_at": "2026-01-01", "spec_name": "s", "spec_hash": "h",
                 "target": "torch", "status": "ok", "seed": 0, "run_key": "k", "spec": {}})
    assert cli.main(["export", "--run", "abc", "--db", str(db)]) == 2
    assert "has no saved model" in capsys.readouterr().err
    assert cli.main(["export", "--run", "zzz", "--db", str(db)]) == 2
    assert "no stored run 'zzz'" in capsys.readouterr().err


def _rec(target, formats, status="ok"):
    return {"target": target, "status": status, "threads": 2,
            "export": {"source": "trained", "formats": formats,
                       "framework_inference": {"batch_1": {"median_s": 1e-3}, "batch_large": {"median_s": 2e-3}}}}


def test_table_marks_mismatch_in_red_and_sets_the_exit_code():
    lat = {"batch_1": {"median_s": 1e-5, "p95_s": 2e-5}, "batch_large": {"median_s": 1e-4, "p95_s": 2e-4}}
    ok = {"format": "onnx", "runtime": "ONNX Runtime", "status": "ok", "max_abs_diff": 1e-7, "latency": lat,
          "size_bytes": 4000, "load_s": 0.1}
    bad = {**ok, "format": "openvino", "runtime": "OpenVINO", "status": "mismatch", "max_abs_diff": 2e-3}
    na = {"format": "tflite", "runtime": "LiteRT", "status": "unsupported", "error": "unsupported: why"}
    md = export.render_table([_rec("torch", [ok, na])])
    assert "0.010 ms" in md and "unsupported: why" in md and "color:red" not in md  # ONNX Runtime column
    assert export.exit_code([_rec("torch", [ok, na])]) == 0
    recs = [_rec("torch", [ok, bad])]
    assert '<span style="color:red">mismatch</span>' in export.render_table(recs)
    assert export.exit_code(recs) == 1 and export.exit_code([_rec("torch", [], status="failed")]) == 1
    assert "color:red" not in export.render_table(recs, markdown=False)


@pytest.mark.slow
def test_export_end_to_end_torch_and_keras(tmp_path, capsys):
    spec = tmp_path / "tiny.yaml"
    spec.write_text((ROOT / "specs/seed_tf_keras.yaml").read_text().replace("epochs: 5", "epochs: 1")
                    .replace("n_samples: 4096", "n_samples: 256"))
    db = tmp_path / "e.db"
    code = cli.main(["run", str(spec), "--targets", "torch", "--save-models", "--db", str(db), "--quiet"])
    assert code == 0
    (rec,) = [r for r in __import__("frameworkbench.store", fromlist=["Store"]).Store(db).records()]
    saved = rec["saved_model"]
    assert saved["status"] == "ok" and Path(saved["path"]).is_file() and saved["size_bytes"] > 0
    assert Path(saved["path"]).is_relative_to(tmp_path / "e-artifacts" / rec["run_id"])
    capsys.readouterr()
    code = cli.main(["export", "--run", rec["run_id"], "--db", str(db), "--formats", "onnx,torchscript,tflite",
                     "--threads", "1", "--json", "--quiet", "--out", str(tmp_path)])
    out = json.loads(capsys.readouterr().out)
    assert code == 0, out
    rows = {f["format"]: f for f in out[0]["export"]["formats"]}
    assert out[0]["export"]["source"] == "saved model"
    assert rows["onnx"]["status"] == rows["torchscript"]["status"] == "ok"
    assert rows["onnx"]["max_abs_diff"] <= 1e-5 and rows["onnx"]["latency"]["batch_large"]["median_s"] > 0
    assert rows["tflite"]["status"] == "unsupported" and rows["tflite"]["error"]
    code = cli.main(["export", str(spec), "--targets", "keras:tensorflow", "--formats", "onnx,tflite,savedmodel",
                     "--threads", "1", "--json", "--quiet", "--db", str(db), "--out", str(tmp_path)])
    out = json.loads(capsys.readouterr().out)
    rows = {f["format"]: f for f in out[0]["export"]["formats"]}
    assert code == 0 and all(rows[f]["status"] == "ok" for f in rows), rows
    assert rows["onnx"]["max_abs_diff"] <= 1e-5 and out[0]["export"]["source"] == "trained"
    md = (tmp_path / "export-seed_tf_keras.md").read_text()
    assert "| keras:tensorflow | tflite" in md and "ONNX Runtime b1024" in md


@pytest.mark.parametrize("x, dtype", [(np.random.default_rng(0).integers(0, 24, (5, 12)).astype(np.int32), "int32"),
                                      (np.random.default_rng(0).normal(size=(5, 8, 8, 1)), "float32")])
def test_exporters_get_the_sample_shape_and_the_input_dtype(tmp_path, x, dtype):
    """Every exporter and runtime call gets ``(batch, *sample shape)`` in the spec's input dtype: token ids stay
    int32, float features become float32, at batch 1, the validation rows and the large batch."""
    ctx = SimpleNamespace(ds=SimpleNamespace(x_val=x), spec=SimpleNamespace(input_dtype=dtype), adapter=None)
    seen: list[np.ndarray] = []

    def export_fn(adapter, model, workdir, one):
        seen.append(one)
        (workdir / "artifact").write_bytes(b"x")
        return workdir / "artifact", lambda: (lambda b: seen.append(b) or b.reshape(len(b), -1)[:, :2])

    live = x.reshape(len(x), -1)[:, :2].astype(np.float64)
    res = export_mode.measure("onnx", export_fn, ctx, None, tmp_path, live)
    assert res["status"] == "ok" and res["max_abs_diff"] <= 1e-6, res
    assert {a.dtype for a in seen} == {np.dtype(dtype)}
    assert {a.shape for a in seen} == {(1, *x.shape[1:]), x.shape, (export_mode.LARGE_BATCH, *x.shape[1:])}


def test_converter_errors_become_one_line_reasons():
    from frameworkbench.adapters import _probes

    tflite = ('<unknown>:0: error: loc(callsite(fused["TensorListReserve:", "sequential_1/gru_1/TensorArrayV2_1@f"] '
              'at fused["StatefulPartitionedCall:", "S"])): \'tf.TensorListReserve\' op requires element_shape to be '
              'static\n<unknown>:0: note: loc(fused["S", "S"]): called from\n'
              '<unknown>:0: error: Lowering tensor list ops is failed.')
    assert _probes._reasons(tflite) == [
        "'tf.TensorListReserve' op requires element_shape to be static (at sequential_1/gru_1/TensorArrayV2_1)",
        "Lowering tensor list ops is failed."]
    openvino = ("Check 'false' failed at src/frontends/common_translators/src/unconverted_ops_report.cpp:151:\n"
                "FrontEnd API failed with OpConversionFailure:\nModel wasn't fully converted. Failed operations "
                "detailed log:\n-- Loop-15 with a message:\n[ONNX Frontend] Conversion failed for Loop-15\n"
                "The loop body has 10 inputs, expected 7\n\nSummary:\n-- Conversion is failed for: Loop-15\n")
    assert _probes._reasons(openvino) == ["cannot convert Loop-15: The loop body has 10 inputs, expected 7"]
    compiled = ("Exception from src/inference/src/cpp/core.cpp:132:\nCheck 'm' failed at src/plugins/a.cpp:446:\n"
                "Can not create StaticMemory object.\n")
    assert _probes._reasons(compiled) == ["Can not create StaticMemory object."]
    with pytest.raises(_probes.ConversionFailed, match=r"^TFLiteConverter \(ValueError\): 'tf.TensorListReserve'"):
        with _probes.converter_reasons("TFLiteConverter"):
            raise ValueError(tflite)
    with pytest.raises(KeyError):  # an error without a converter's reasons goes through unchanged
        with _probes.converter_reasons("x"):
            raise KeyError("plain")


@pytest.mark.slow
def test_export_images_and_token_ids_on_torch(tmp_path, capsys):
    """N-D float images (conv: ExecuTorch's lowering must keep the dynamic batch) and int32 token ids
    (embedding + attention) through ONNX Runtime, OpenVINO and ExecuTorch, at batch 1 and 1024."""
    for name in ("cnn_digits", "tiny_transformer"):
        spec = tmp_path / f"{name}.yaml"
        spec.write_text((ROOT / f"specs/{name}.yaml").read_text().replace("epochs: 5", "epochs: 1"))
        code = cli.main(["export", str(spec), "--targets", "torch", "--formats", "onnx,openvino,executorch",
                         "--threads", "1", "--json", "--quiet", "--db", str(tmp_path / "e.db"), "--out", str(tmp_path)])
        out = json.loads(capsys.readouterr().out)
        rows = {f["format"]: f for f in out[0]["export"]["formats"]}
        assert code == 0 and all(r["status"] == "ok" for r in rows.values()), (name, rows)
        assert all(r["max_abs_diff"] <= 1e-5 and r["latency"]["batch_large"]["batch_size"] == export_mode.LARGE_BATCH
                   for r in rows.values()), (name, rows)
