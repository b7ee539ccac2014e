"""The language-model row: ``lm-check`` (core side, in process with fake checks) and the document row rendered from
records built here; one slow test runs the PyTorch ``transformers`` check for real."""
import importlib.util
import json
import subprocess
import sys
import types

import numpy as np
import pytest

from conftest import FRAMEWORK_MODULES, cli
from frameworkbench.analysis import language_models as lm
from frameworkbench.report import document
from frameworkbench.store import Store
from frameworkbench.targets import TARGETS
from test_document import frameworks, rec, section, tables

CHOOSE = "🏁 Which library to choose?"


# ----------------------------------------------------------------------------- the check (core side)
def test_batch_is_seeded_and_cross_entropy_is_the_softmax_one():
    a, b = lm.batch(), lm.batch()
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    tokens, labels = a
    assert tokens.shape == (lm.SIZES["batch_size"], lm.SIZES["sequence_length"]) and tokens.min() >= 1
    assert tokens.max() < lm.SIZES["vocab_size"] and set(labels) <= set(range(lm.SIZES["num_classes"]))
    assert lm.cross_entropy(np.zeros((4, 2)), np.array([0, 1, 0, 1])) == pytest.approx(np.log(2))
    logits = np.array([[2.0, 0.0, -1.0], [0.5, 0.5, 3.0]])
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    assert lm.cross_entropy(logits, np.array([0, 2])) == pytest.approx(-np.log([p[0, 0], p[1, 2]]).mean())


def test_one_step_reports_the_loss_before_and_after_the_step():
    state = {"w": np.zeros(2)}
    labels = np.array([0, 0])

    def step(model):
        model["w"] = model["w"] + np.array([1.0, -1.0])

    out = lm.one_step(lambda: state, lambda m: m["w"].size, lambda m: np.tile(m["w"], (2, 1)), step, labels)
    assert out["param_count"] == 2 and out["loss_before"] == pytest.approx(np.log(2))
    assert out["loss_after"] == pytest.approx(lm.cross_entropy(np.array([[1.0, -1.0]] * 2), labels))
    assert set(out["timings"]) == {"build_s", "step_s"}


def test_one_check_per_framework_and_backend_found_through_the_registry():
    targets = [t.name for t in lm.default_targets()]
    assert len({(TARGETS[n].family, TARGETS[n].backend) for n in targets}) == len(targets)
    assert {(t.family, t.backend) for t in TARGETS.values()} == {(TARGETS[n].family, TARGETS[n].backend)
                                                                  for n in targets}
    for name in targets:  # every default target's family has a check module beside its adapter
        module = lm.check_module(TARGETS[name])
        assert module.endswith(".lm") and importlib.util.find_spec(module) is not None, module
    env = lm.child_env(TARGETS["keras:jax"], 2)
    assert env["KERAS_BACKEND"] == "jax" and env["OMP_NUM_THREADS"] == "2" and env["HF_HUB_OFFLINE"] == "1"


@pytest.fixture
def fake_family(monkeypatch, tmp_path):
    """A check module the child runs in this process: ``behaviour`` picks what its check does."""
    module = types.ModuleType("fake_lm")
    module.LIBRARY, module.LIBRARY_MODULE, module.MODEL = "numpy", "numpy", "FakeModel"
    monkeypatch.setitem(sys.modules, "fake_lm", module)
    monkeypatch.setattr(lm, "check_module", lambda target: "fake_lm")
    return module


def test_child_turns_every_outcome_into_a_result(fake_family, monkeypatch):
    def ok(sizes, tokens, labels, imported):
        imported()
        return lm.one_step(lambda: None, lambda m: 7, lambda m: np.zeros((len(labels), 2)), lambda m: None, labels)

    fake_family.check = ok
    res = lm._child("torch")
    assert res["status"] == "ok" and res["param_count"] == 7 and res["library"] == "numpy"
    assert res["library_version"] and res["timings"]["import_s"] >= 0 and res["peak_rss_mb"] > 0

    def unsupported(sizes, tokens, labels, imported):
        raise lm.Unsupported("lib 9 has no FakeModel")

    fake_family.check = unsupported
    assert lm._child("torch") == {"library": "numpy", "library_version": res["library_version"], "model": "FakeModel",
                                  "status": "unsupported", "error": "lib 9 has no FakeModel"}

    def broken(sizes, tokens, labels, imported):
        raise ValueError("shapes (8, 16) and (3,) do not fit\nsecond line")

    fake_family.check = broken
    res = lm._child("torch")
    assert res["status"] == "failed" and res["error"] == "ValueError: shapes (8, 16) and (3,) do not fit"
    assert "Traceback" in res["traceback"]
    fake_family.LIBRARY_MODULE = "no_such_library_here"
    res = lm._child("torch")
    assert res["status"] == "skipped" and "is not installed" in res["error"] and "frameworkbench[lm]" in res["error"]


def test_a_family_without_a_check_module_is_unsupported(monkeypatch):
    monkeypatch.setattr(lm, "check_module", lambda target: "frameworkbench.adapters.torch.no_such_lm")
    assert lm._child("torch") == {"status": "unsupported", "error": "no language-model check for the torch family"}


def test_records_are_stored_as_runs_and_listed(tmp_path, monkeypatch):
    results = {"torch": {"status": "ok", "library": "transformers", "library_version": "9.9", "model": "Bert",
                         "param_count": 22050, "loss_before": 0.7, "loss_after": 0.6,
                         "timings": {"import_s": 1.0, "build_s": 0.1, "step_s": 0.01}, "worker_wall_s": 2.0},
               "flax": {"status": "timeout", "error": "no result within 5 s", "worker_wall_s": 5.0}}
    monkeypatch.setattr(lm, "run_check", lambda target, timeout, threads: results[target.name])
    db = tmp_path / "r.db"
    recs = lm.run_checks([TARGETS["torch"], TARGETS["flax"]], timeout=5, db=db)
    with Store(db) as st:
        stored = st.records(spec_name=lm.SPEC_NAME)
    assert [r["target"] for r in stored] == ["torch", "flax"] and stored[0]["param_count"] == 22050
    assert stored[0]["language_model"]["library_version"] == "9.9" and stored[0]["versions"]["transformers"] == "9.9"
    assert stored[1]["status"] == "timeout" and stored[1]["language_model"]["library"] is None
    assert stored[0]["spec_hash"] == lm.spec_hash() and stored[0]["mode"] == lm.MODE
    text = lm.render_table(recs)
    assert "0.7000 → 0.6000" in text and "10.0 ms" in text and "no result within 5 s" in text
    listed = cli("results", "--db", str(db), "--format", "json")
    assert listed.returncode == 0 and len(json.loads(listed.stdout)) == 2


def test_cli_refuses_bad_options_before_running_anything(tmp_path):
    r = cli("lm-check", "--targets", "nope", "--db", str(tmp_path / "x.db"))
    assert r.returncode == 2 and "nope" in r.stderr and "torch" in r.stderr
    r = cli("lm-check", "--timeout", "0", "--db", str(tmp_path / "x.db"))
    assert r.returncode == 2 and "--timeout" in r.stderr
    assert not (tmp_path / "x.db").exists()


def test_the_core_side_imports_no_framework():
    code = ("import frameworkbench.analysis.language_models, frameworkbench.report.document.llm, sys, json\n"
            f"print(json.dumps([m for m in {FRAMEWORK_MODULES!r} + ('transformers', 'keras_hub') "
            "if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out.strip().splitlines()[-1]) == []


# ----------------------------------------------------------------------------- the document row
_order = iter(range(10**6))


def mine(*args, **kw):
    """A record (test_document's) created after every one made before it in this module."""
    return rec(*args, **kw, created_at=f"2027-01-01T{next(_order):07d}")


def check_rec(target, status="ok", library="transformers", version="5.24.0", **kw):
    return mine("lm-check", target, status=status, mode="lm-check", param_count=kw.pop("params", None),
               timings={"step_s": kw.pop("step", None)}, error=kw.pop("error", None),
               language_model={"library": library, "library_version": version, "model": "M", **kw})


def library_records(hf_ok=("torch",)):
    out = []
    for target in ("tf.keras", "torch", "flax"):
        if target in hf_ok:
            out.append(check_rec(target, params=22050, step=0.012, loss_before=0.6953, loss_after=0.6864))
        else:
            out.append(check_rec(target, "unsupported", error=f"transformers 5.24.0 has no class for {target}"))
    out += [check_rec(t, library="keras-hub", version="0.32.0", params=22050, step=0.25, loss_before=0.69,
                      loss_after=0.68) for t in ("keras:tensorflow", "keras:jax", "keras:torch")]
    return out


def transformer_records(verdicts=None, step=None, spec_hash="h-tiny"):
    out = []
    for target, by_seed in (verdicts or {"torch": ("same", "same"), "keras:jax": ("same", "close")}).items():
        for seed, verdict in enumerate(by_seed):
            out.append(mine("tiny_transformer", target, seed, mode="train", param_count=1234,
                           peak_rss_mb=500.0 + seed, spec_hash=spec_hash,
                           timings={"median_step_s": (step or {}).get(target, 2e-3)}))
            out.append(mine("tiny_transformer", target, seed, mode="parity", policy="aligned", spec_hash=spec_hash,
                           parity={"verdict": verdict}))
    return out


def llm_rows(md):
    rows = tables(section(md, CHOOSE))[0]
    return (next(r for r in rows if r[0] == "Working with language models"),
            next(r for r in rows if r[0] == "Working with language models (cited)"))


def test_the_row_names_the_columns_the_hf_library_trains_in_and_keeps_the_cited_row():
    md = document.render(frameworks() + library_records() + transformer_records(), "en")[0]
    measured, cited = llm_rows(md)
    assert measured[1] == "PyTorch + HuggingFace" and measured[-1] == "✔ agrees"
    assert measured[2] == "PyTorch + HuggingFace `transformers` 5.24.0"
    assert "`transformers` 5.24.0: ✓ `torch` 12 ms (one training step; 22050 parameters)" in measured[3]
    assert "✗ no classes for this framework: `tf.keras`, `flax`" in measured[3]
    assert "`keras-hub` 0.32.0: ✓ `keras:tensorflow` 250 ms, `keras:jax` 250 ms, `keras:torch` 250 ms" in measured[3]
    assert ("tiny transformer (`tiny_transformer`): trained on 2/2 targets, parity `same` on 1/2 checked"
            in measured[3])
    train_only = [r for r in transformer_records() if r["mode"] == "train"]
    no_parity = llm_rows(document.render(library_records() + train_only, "en")[0])[0]
    assert ("trained on 2/2 targets, parity not measured yet (run `frameworkbench parity "
            "specs/tiny_transformer.yaml --targets all`)") in no_parity[3]
    assert cited[2] == "Cited, not measured" and "MIGRATION_GUIDE_V5" in cited[3] and cited[-1] == "—"
    details = section(md, CHOOSE).split("### Language models: the measurements behind the row")[1]
    checks, runs = tables(details + "\n.")  # (a table is closed by the line after it)
    assert [r[0] for r in checks] == ["`tf.keras`", "`keras:tensorflow`", "`keras:jax`", "`keras:torch`", "`torch`",
                                      "`flax`"]
    torch_row = next(r for r in checks if r[0] == "`torch`")
    assert torch_row[2] == "✓" and torch_row[4] == "22050" and torch_row[6] == "0.6953 → 0.6864"
    assert next(r for r in checks if r[0] == "`flax`")[-1] == "transformers 5.24.0 has no class for flax"
    assert runs == [["`keras:jax`", "2/2", "1234", "2 ms", "RSS 500.5 MiB", "close", "—"],
                    ["`torch`", "2/2", "1234", "2 ms", "RSS 500.5 MiB", "same", "—"]]


def test_the_flag_follows_where_transformers_trains():
    both = llm_rows(document.render(library_records(hf_ok=("tf.keras", "torch")), "en")[0])[0]
    assert both[2] == "TensorFlow (tf.keras) + PyTorch + HuggingFace `transformers` 5.24.0" and both[-1] == "≈ partly"
    other = llm_rows(document.render(library_records(hf_ok=("flax",)), "en")[0])[0]
    assert other[2].startswith("Flax (JAX) + HuggingFace") and other[-1] == "✘ disagrees"
    none = llm_rows(document.render(library_records(hf_ok=()), "en")[0])[0]
    assert none[2] == "none: `transformers` trained in no framework" and none[-1] == "✘ disagrees"


def test_without_runs_the_row_says_what_to_run():
    md = document.render(frameworks(), "en")[0]
    measured, cited = llm_rows(md)
    assert "not measured yet: no `lm-check` runs in the database (run `frameworkbench lm-check`)" in measured[2]
    assert "frameworkbench run specs/tiny_transformer.yaml --targets all" in measured[3]
    assert measured[-1] == "? not measured"
    assert cited[2] == "Cited, not measured"


def test_newest_runs_count_and_failures_show_their_error():
    old = transformer_records({"torch": ("different",)}, spec_hash="h-old")
    new = transformer_records({"torch": ("same",)}, step={"torch": 5e-3})
    failed = mine("tiny_transformer", "flax", 0, status="failed", mode="train", error="ValueError: no builder",
                  spec_hash="h-tiny")
    failed_parity = mine("tiny_transformer", "flax", 0, status="failed", mode="parity", policy="aligned",
                         error="RuntimeError: parity broke", spec_hash="h-tiny")
    native = mine("tiny_transformer", "torch", 0, mode="parity", policy="native", parity={"verdict": "different"},
                  spec_hash="h-tiny")
    checks = library_records()
    recs = old + new + [failed, failed_parity, native] + checks + [check_rec("torch", "failed", error="OSError: full")]
    md = document.render(recs, "en")[0]
    measured = llm_rows(md)[0]
    assert "fastest median step `torch` 5 ms" in measured[3] and measured[-1] == "✘ disagrees"  # torch's newest failed
    assert "✗ failed: `torch`" in measured[3] and measured[2] == "none: `transformers` trained in no framework"
    runs = tables(section(md, CHOOSE).split("### Language models")[1] + "\n.")[1]
    assert runs[0] == ["`torch`", "1/1", "1234", "5 ms", "RSS 500 MiB", "same", "—"]
    assert runs[1] == ["`flax`", "0/1", "—", "—", "—", "failed: RuntimeError: parity broke", "ValueError: no builder"]


def test_russian_row_is_russian():
    md = document.render(frameworks() + library_records() + transformer_records(), "ru")[0]
    rows = tables(section(md, "🏁 Какую библиотеку выбрать?"))[0]
    measured = next(r for r in rows if r[0] == "Работа с языковыми моделями")
    assert measured[-1] == "✔ совпадает" and "один шаг обучения; параметров 22050" in measured[3]
    assert "маленький трансформер (`tiny_transformer`): обучен на 2/2 целях" in measured[3]
    assert any(r[0] == "Работа с языковыми моделями (цитата)" for r in rows)
    part = section(md, "🏁 Какую библиотеку выбрать?")
    assert "МиБ" in part and " ms" not in part and " MiB" not in part and "parameters" not in part


# ----------------------------------------------------------------------------- the real check
@pytest.mark.slow
def test_torch_transformers_check_trains_a_tiny_bert_one_step(tmp_path):
    if importlib.util.find_spec("transformers") is None or importlib.util.find_spec("torch") is None:
        pytest.skip("transformers or torch not installed (pip install 'frameworkbench[lm,torch]')")
    db = tmp_path / "r.db"
    r = cli("lm-check", "--targets", "torch", "--db", str(db), "--json", "--quiet")
    assert r.returncode == 0, r.stderr
    (out,) = json.loads(r.stdout)
    s = lm.SIZES
    h, i, v, t, c = s["hidden_size"], s["intermediate_size"], s["vocab_size"], s["sequence_length"], s["num_classes"]
    layer = 4 * (h * h + h) + 2 * h + (h * i + i) + (i * h + h) + 2 * h  # attention, norm, feed-forward, norm
    bert = (v + t + 2) * h + 2 * h + s["num_layers"] * layer + (h * h + h) + (h * c + c)  # + pooler + classifier
    assert out["status"] == "ok" and out["param_count"] == bert, out
    assert out["language_model"]["model"] == "BertForSequenceClassification"
    before, after = out["language_model"]["loss_before"], out["language_model"]["loss_after"]
    assert np.isfinite(before) and abs(before - np.log(c)) < 0.2 and after < before  # one step on the same batch
    with Store(db) as st:
        md = document.render(st.records(), "en")[0]
    assert llm_rows(md)[0][2].startswith("PyTorch + HuggingFace `transformers`")
