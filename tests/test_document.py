"""The rebuilt document tables, rendered from records built here (no framework, no worker).

The records have the shape the worker modes store; their figures are chosen by each test, so the
tests check that every cell follows the figures (and that flags flip when the figures do).
"""
import copy
import random
import re
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT, SPECS, cli
from frameworkbench import activations as ref
from frameworkbench.analysis import study
from frameworkbench.report import document, i18n
from frameworkbench.spec import Activation, load_spec
from frameworkbench.store import Store
from frameworkbench.targets import TARGETS

FIVE = ["tf.keras", "keras:tensorflow", "keras:jax", "keras:torch", "torch"]
SEED_SPEC = load_spec(SPECS / "seed_tf_keras.yaml").to_dict()
_ids = iter(range(10**6))


def rec(name, target, seed=0, status="ok", spec=None, **fields):
    t = TARGETS[target]
    n = next(_ids)
    return {"run_id": f"r{n:05d}", "batch_id": "b", "created_at": f"2026-01-01T00:{n // 60 % 60:02d}:{n % 60:02d}",
            "spec_name": name, "spec_hash": "h-" + name, "target": target, "family": t.family, "backend": t.backend,
            "api": t.api, "status": status, "seed": seed, "threads": 2, "spec": spec or SEED_SPEC,
            "versions": {"frameworkbench": "0.1.0", "numpy": "2"}, "host": {"cpu": "cpu", "cores": 2},
            "error": None if status == "ok" else "RuntimeError: boom", **fields}


def frameworks(step=None, eager=None, deployable=None, lines=None):
    step = step or {}
    out = []
    for target in TARGETS:
        for seed in range(2):
            out.append(rec("study:frameworks:train", target, seed, history=[
                {"epoch": e, "loss": 0.7 - 0.1 * e, "val_loss": 0.72 - 0.1 * e, "val_accuracy": 0.8} for e in (1, 2, 3)],
                final={"val_loss": 0.42, "val_accuracy": 0.8},
                timings={"import_s": 3.0, "build_s": 0.1, "first_epoch_s": 0.5, "median_step_s": step.get(target, 1e-3),
                         "step_iqr_s": 1e-4}))
        is_eager = (eager or {}).get(target, TARGETS[target].family == "torch" or target == "keras:torch")
        out.append(rec("study:frameworks:dynamic", target, dynamic={
            "default_is": "eager" if is_eager else "compiled", "default_how": "defaults",
            "eager_by_default": is_eager, "eager_over_compiled": 10.0,
            "variants": {"eager": {"how": "run_eagerly", "status": "ok", "median_step_s": 1e-2,
                                   **({"probe": {"step_body_calls": 206, "steps": 206, "eager": True}} if is_eager else {})},
                         "compiled": {"how": "jit", "status": "ok", "median_step_s": 1e-3,
                                      **({} if is_eager else {"probe": {"step_body_calls": 2, "steps": 206,
                                                                        "eager": False}})}}}))
        n_lines = (lines or {}).get(target, {"fit": 11, "loop": 19}[TARGETS[target].api])
        out.append(rec("study:frameworks:codegen", target, codegen={
            "lines": n_lines, "ran": True, "params_printed": 769, "params_expected": 769}))
    for target in FIVE:
        k = (deployable or {}).get(target, 2)
        paths = [{"path": f"format{i}", "kind": "server", "status": "ok", "size_bytes": 4096,
                  "latency_batch1": {"median_s": 1e-4}} for i in range(k)]
        paths.append({"path": "ONNX", "kind": "server", "status": "failed", "error": "'onnx' is not installed"})
        out.append(rec("study:frameworks:export", target, export={"paths": paths}))
    return out


def probe_records(targets=("torch", "keras:jax")):
    x = (np.arange(-120, 121) * 0.05)
    grid = np.zeros((len(x), 3))
    grid[:, 0] = x
    out = []
    for target in targets:
        by = {}
        for name in document.ACTIVATION_ORDER:
            act = Activation(name, {"leaky_relu": {"negative_slope": 0.01}, "elu": {"alpha": 1.0}}.get(name, {}))
            y, dy = ref.forward(act, grid)[:, 0], ref.derivative(act, grid)[:, 0]
            i0, i5, im5 = 120, 220, 20
            by[name] = {"y": y.tolist(), "dy": dy.tolist(), "range": [float(y.min()), float(y.max())],
                        "max_derivative": float(dy.max()), "max_derivative_at": float(x[dy.argmax()]),
                        "derivative_at": {"-5": float(dy[im5]), "0": float(dy[i0]), "5": float(dy[i5])},
                        "derivative_jump_at_0": float(abs(dy[i0 + 1] - dy[i0 - 1])),
                        "mean_on_normal": {"sigmoid": 0.5, "tanh": 0.001}.get(name, 0.3), "sem_on_normal": 0.002,
                        "reference": {"forward_max_abs": 1e-8, "derivative_max_abs": 1e-8,
                                      "derivative_at_0": float(dy[i0])},
                        "cost": {"median_s": {"relu": 1e-3, "elu": 2e-3}.get(name, 1.5e-3)},
                        "params": dict(act.params)}
            if name == "softmax":
                by[name]["sum_minus_one_max"] = 1e-7
        out.append(rec("study:activations:probe", target, activations={"x": x.tolist(), "by_name": by}))
    return out


def deep_records(dead_relu=0.1):
    spec = study.load("activations", root=ROOT).experiments[1].specs
    out = []
    for s in spec:
        act = s.name.rsplit(":", 1)[1]
        g1 = {"sigmoid": 1e-6, "tanh": 0.05}.get(act, 0.07)
        dead = dead_relu if act == "relu" else 0.0
        units = [{"units": 32, "dead": int(round(dead * 32)), "activation": act} for _ in range(8)]
        stats = {w: {"gradients": {"kernel_norms": [g1] + [0.05] * 8, "method": "framework autodiff"},
                     "units": units} for w in ("init", "final")}
        for target in ("torch", "keras:jax"):
            out.append(rec(s.name, target, spec=s.to_dict(), train_stats=stats, final={"val_accuracy": 0.9},
                           dataset={"source": "sklearn:digits"}))
    return out


def layer_records(winners=None):
    """Grid records; ``winners[task]`` is the output activation given the best metric."""
    winners = winners or {"binary": "sigmoid", "multiclass": "softmax", "regression": "linear"}
    out = []
    for exp in study.load("layers", root=ROOT).experiments:
        for s in exp.specs:
            task, out_act = s.task, s.layers[-1].activation.name
            hidden = s.dense_layers[0].activation.name
            good = out_act == winners[task]
            if task == "regression":
                metric = {"val_mse": (0.3 if good else 0.6) + (0.01 if hidden != "relu" else 0)}
            else:
                metric = {"val_accuracy": (0.95 if good else 0.9) - (0.01 if hidden == "sigmoid" else 0)}
            for target in exp.targets:
                for seed in range(2):
                    out.append(rec(s.name, target, seed, spec=s.to_dict(), final=metric))
    return out


def all_records(**kw):
    return frameworks(**kw) + probe_records() + deep_records() + layer_records()


def tables(md: str, headers: bool = False) -> list[list[list[str]]]:
    """Every markdown table of the document as rows of cells (the separator dropped, the header too unless asked)."""
    out, cur = [], None
    for line in md.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            if cur is None:
                cur = [cells]
            elif not set(line) <= set("|:- "):
                cur.append(cells)
        elif cur is not None:
            out.append(cur if headers else cur[1:])
            cur = None
    return out


def section(md: str, heading: str) -> str:
    start = md.index(f"## {heading}\n")
    end = md.find("\n## ", start + 3)
    return md[start:end if end != -1 else None]


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_four_tables_with_the_documents_labels_and_no_empty_cell(lang, tmp_path):
    md, plots = document.render(all_records(), lang, tmp_path)
    t = i18n.Lang(lang)
    for key in ("comparison", "choose", "activations", "layers"):
        assert f"## {t(key)}\n" in md
    with_headers = tables(md, headers=True)
    labels = {row[0] for tab in with_headers for row in tab} | set(with_headers[0][0])  # + the comparison's columns
    for key in ("row_api", "row_ease", "row_production", "row_learning", "row_dynamic", "row_hf", "goal_quick",
                "goal_research", "goal_production", "goal_llm", "where_hidden", "where_binary", "where_multiclass",
                "where_regression", "col_tf.keras", "col_keras", "col_torch"):
        assert t(key) in labels, key
    if lang == "ru":  # the document's own Russian labels
        for label in ("Уровень API", "Простота использования", "Популярность в продакшн", "Подходит для обучения",
                      "Динамическое выполнение", "Быстрый старт / обучение", "Скрытые слои",
                      "Выход (многоклассовая классификация)"):
            assert label in md
    found = tables(md)
    assert len(found) >= 8
    for tab in found:
        for row in tab:
            assert all(c and c not in ("None", "nan") for c in row), row
    for p in plots:
        data = (tmp_path / p).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
        assert f"]({p})" in md


def test_same_records_same_bytes_in_any_order():
    recs = all_records()
    first, _ = document.render(recs, "en")
    shuffled = copy.deepcopy(recs)
    random.Random(4).shuffle(shuffled)
    assert document.render(shuffled, "en")[0] == first
    assert not re.search(r"\d{4}-\d\d-\d\dT", first)  # no timestamps in the text


def test_a_rerun_supersedes_the_older_record():
    recs = frameworks()
    newer = rec("study:frameworks:dynamic", "torch", dynamic={
        "default_is": "compiled", "default_how": "x", "eager_by_default": False, "eager_over_compiled": 3.0,
        "variants": {"eager": {"how": "e", "status": "ok"}, "compiled": {"how": "c", "status": "ok",
                                                                           "probe": {"step_body_calls": 1, "steps": 9}}}})
    md = section(document.render(recs + [newer], "en")[0], "📊 Comparison")
    row = next(r for r in tables(md)[0] if r[0] == "Dynamic execution")
    assert "`torch`: default: compiled (1× step body for 9 steps)" in row[3] and "✘ disagrees" in row[3]


def test_missing_experiments_say_why():
    md, plots = document.render(layer_records(), "en")
    comp = tables(section(md, "📊 Comparison"))[0]
    for row in comp:
        for c in row[1:]:
            assert "not measured yet: no `study:frameworks:" in c and "frameworkbench study frameworks" in c
    acts = tables(section(md, "🔧 Main activation functions"))[0]
    assert all("frameworkbench study activations" in r[3] for r in acts)
    assert plots == ["plots/layers_outputs.png"]
    empty, _ = document.render([], "ru")
    assert "ещё не измерено" in empty and "frameworkbench study layers" in empty


def test_flags_follow_the_layer_measurements():
    def row(md, label):
        return next(r for r in tables(section(md, "🧠 Activations by layer"))[0] if r[0] == label)

    agree = document.render(layer_records(), "en")[0]
    r = row(agree, "Output (binary classification)")
    assert r[-1] == "✔ agrees" and r[2].startswith("1. Sigmoid + BCE")
    assert "breast_cancer: 0.95 vs" in r[3] and "(+5.0 pp)" in r[3]
    assert row(agree, "Output (regression)")[-1] == "✔ agrees"
    flipped = document.render(layer_records({"binary": "linear", "multiclass": "sigmoid",
                                             "regression": "tanh"}), "en")[0]
    assert row(flipped, "Output (binary classification)")[-1] == "✘ disagrees"
    assert row(flipped, "Output (multiclass classification)")[2].startswith("1. Sigmoid + MSE")
    assert row(flipped, "Output (regression)")[-1] == "✘ disagrees"
    hidden = row(agree, "Hidden layers")
    assert "Sigmoid" in hidden[2].split(";")[-1]  # sigmoid was given the worst metric: ranked last
    assert hidden[-1] == "≈ partly"  # ELU (not in the document) ties with the document's three


def test_flags_follow_the_framework_measurements():
    def cell(md, label, col):
        comp = tables(section(md, "📊 Comparison"))[0]
        return next(r for r in comp if r[0] == label)[1 + [c.key for c in document.COLUMNS].index(col)]

    md = document.render(frameworks(), "en")[0]
    assert "✘ disagrees" in cell(md, "API level", "keras")  # a Keras low-level loop ran: not "only high"
    assert "✔ agrees" in cell(md, "Dynamic execution", "torch")
    assert "❌ → ✘ disagrees" in cell(md, "Popularity in production", "keras")
    md = document.render(frameworks(eager={"torch": False}, deployable={"keras:tensorflow": 0, "keras:jax": 0,
                                                                          "keras:torch": 0, "torch": 1}), "en")[0]
    assert "✘ disagrees" in cell(md, "Dynamic execution", "torch")
    assert "❌ → ✔ agrees" in cell(md, "Popularity in production", "keras")
    assert "✅✅✅ → ✔ agrees" in cell(md, "Popularity in production", "tf.keras")
    choose = tables(section(md, "🏁 Which library to choose?"))[0]
    prod = next(r for r in choose if r[0].startswith("Deployment"))
    assert prod[2] == "TensorFlow (tf.keras)" and prod[-1] == "✔ agrees"
    # the fastest step decides that row, whichever target it is
    md = document.render(frameworks(step={"torch": 1e-5}), "en")[0]
    speed = next(r for r in tables(section(md, "🏁 Which library to choose?"))[0] if r[0].startswith("Fastest"))
    assert speed[2] == "PyTorch (`torch`)" and speed[3].startswith("`torch` 10 µs")
    # fewer lines decide ease of use and the quick-start recommendation
    md = document.render(frameworks(lines={"torch": 5}), "en")[0]
    assert "👍 (more control) → ✘ disagrees" in cell(md, "Ease of use", "torch")


def test_activation_table_from_probe_and_deep_records():
    md = document.render(probe_records() + deep_records(dead_relu=0.25) + layer_records(), "en")[0]
    sec = section(md, "🔧 Main activation functions")
    main = {r[0]: r for r in tables(sec)[0]}
    assert "range on [−6, 6]: [0, 6]" in main["ReLU"][3] and "25.0 %" in main["ReLU"][3]
    assert main["Softmax"][-1] == "✔ agrees" and "best multiclass output: Softmax" in main["Softmax"][3]
    assert main["Sigmoid"][-1] == "✔ agrees"  # first-layer gradient 1e-6 vs ReLU's 0.07
    no_dead = document.render(probe_records() + deep_records(dead_relu=0.0), "en")[0]
    relu = next(r for r in tables(section(no_dead, "🔧 Main activation functions"))[0] if r[0] == "ReLU")
    assert relu[-1] in ("≈ partly", "✘ disagrees")


def test_cli_report_writes_both_languages_and_skips_study_specs_in_per_spec_reports(tmp_path):
    db = tmp_path / "r.db"
    with Store(db) as st:
        for r in all_records():
            st.save({**r, "run_key": r["run_id"]})
    for lang in ("en", "ru"):
        p = cli("report", "--db", str(db), "--out", str(tmp_path / "out"), "--lang", lang)
        assert p.returncode == 0, p.stderr
    names = sorted(x.name for x in (tmp_path / "out").iterdir())
    assert names == ["document.en.md", "document.ru.md", "plots"]
    ru = (tmp_path / "out" / "document.ru.md").read_text()
    assert ru.endswith(f"frameworkbench report --out {tmp_path / 'out'} --lang ru --db {db}\n")
    again = cli("report", "--db", str(db), "--out", str(tmp_path / "out"), "--lang", "ru")
    assert again.returncode == 0 and (tmp_path / "out" / "document.ru.md").read_text() == ru


# English left in the Russian document before it was translated (issue 9), and what replaced it.
ENGLISH_LEFTOVERS = ("validation accuracy", "задача: binary", "задача: multiclass", "задача: regression", "accuracy",
                     " pp)", "val loss", "val accuracy", "val mse", " vs ", "ReLU (abs.)", "max f′", "max \\|Σ",
                     "linear + ", " ms", " µs", " KiB", " cores", "vs ReLU", "validation-", "params ")


def test_russian_document_has_no_english_labels_units_or_plots(monkeypatch, tmp_path):
    drawn = _figure_texts(monkeypatch)
    recs = all_records()
    recs[0]["host"] = {"cpu": "cpu", "cores": 2, "memory_gib": 8, "os": "Linux", "python": "3.11"}
    md, plots = document.render(recs, "ru", tmp_path)
    for leftover in ENGLISH_LEFTOVERS:
        assert leftover not in md, leftover
    for ru in ("задача: бинарная", "точность на валидации", "точность (валидация)", " п. п.)", " против ",
               "линейная + MSE", "ReLU (абс.)", " мкс", "ядер: 2", "ГиБ"):
        assert ru in md, ru
    # every plot is drawn per language: plots/<name>.ru.png, while English keeps plots/<name>.png
    assert plots and all(p.startswith("plots/") and p.endswith(".ru.png") for p in plots)
    en_plots = document.render(recs, "en")[1]
    assert en_plots == [p.replace(".ru.png", ".png") for p in plots]
    # and their titles, axes, ticks and legends are Russian
    assert sorted(drawn) == sorted(Path(p).name for p in plots) and len(drawn) == 12
    english = re.compile(r"\b(epoch|median|step|training|validation|loss|compiled|initiali[sz]ation|dense layer|"
                         r"hidden units|reference|per framework|autodiff|accuracy|lower is better|binary|multiclass|"
                         r"regression|synthetic|linear|after)\b", re.IGNORECASE)
    for name, fig in drawn.items():
        left = [t for t in fig["texts"] if english.search(t)]
        assert not left, (name, left)
    assert any("эпоха" in t for t in drawn["loss_curves.ru.png"]["texts"])


def _figure_texts(monkeypatch):
    """Collect every title, axis label, tick label, legend entry and annotation of the figures drawn."""
    from frameworkbench.report import plots

    drawn: dict[str, dict] = {}
    save = plots._save

    def spy(fig, path):
        fig.canvas.draw()
        texts = [t.get_text() for t in fig.findobj(lambda o: hasattr(o, "get_text")) if t.get_text()]
        drawn[Path(path).name] = {"texts": texts, "ylims": [ax.get_ylim() for ax in fig.axes]}
        return save(fig, path)

    monkeypatch.setattr(plots, "_save", spy)
    return drawn


def test_layer_output_bars_start_at_zero(monkeypatch, tmp_path):
    drawn = _figure_texts(monkeypatch)
    document.render(layer_records(), "en", tmp_path)
    fig = drawn["layers_outputs.png"]
    assert fig["ylims"] and all(lo == 0 for lo, hi in fig["ylims"][:6])
    assert all(hi > 1 for lo, hi in fig["ylims"][:2])  # accuracy on its whole 0-1 scale


MISMATCH = ("UserError: Detected mismatch between the structure of `inputs` and `dynamic_shapes`: `inputs[0]` is a "
            "<class 'tuple'>, but `dynamic_shapes[0]` is a <class 'dict'>. For more information about this error, "
            "see: https://pytorch.org/docs/main/generated/exportdb/index.html")


def test_short_error_keeps_the_first_whole_sentence():
    first = MISMATCH.split(". For")[0] + "."
    assert document.short_error(MISMATCH) == first
    assert document.short_error("ValueError: bad shape\n  File x.py, line 3") == "ValueError: bad shape"
    assert document.short_error("RuntimeError: can't allocate memory. Try a smaller batch.") == \
        "RuntimeError: can't allocate memory."
    assert document.short_error("see e.g. the docs. Then retry.") == "see e.g. the docs."
    assert document.short_error("ValueError: 'a. b' is bad. More.") == "ValueError: 'a. b' is bad."
    assert document.short_error(None) == "" and document.short_error("\n\nboom\n") == "boom"
    # a sentence over the limit is cut between words, never inside a quote or bracket
    for limit in range(40, len(first)):
        short = document.short_error(MISMATCH, limit)
        assert short.endswith(" …") and len(short) <= limit + 2, short
        assert document._balanced(short[:-2]) and first.startswith(short[:-2]), short
        assert not short.endswith(("<class …", "<class ' …")), short


def test_report_errors_are_cut_at_a_sentence_not_mid_token():
    recs = frameworks()
    for r in recs:
        if r["spec_name"] == "study:frameworks:export" and r["target"] == "torch":
            r["export"]["paths"][-1]["error"] = MISMATCH
        if r["spec_name"] == "study:frameworks:train" and r["target"] == "tf.keras":
            r.update(status="failed", error=MISMATCH + "\nTraceback (most recent call last): ...")
    for lang in i18n.LANGS:
        md = document.render(recs, lang)[0]
        assert "is a <class '" + "|" not in md and "is a <class ')" not in md
        assert md.count("but `dynamic_shapes[0]` is a <class 'dict'>.") >= 2  # the export cell and the failed run
