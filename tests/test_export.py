"""`frameworkbench export`: formats and statuses (fast), and one slow end-to-end run on torch and keras:tensorflow."""
from __future__ import annotations

import json
from pathlib import Path

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
