"""Table 1, "Comparison": one row per feature, one cell per document column, and the training runs behind it."""
from __future__ import annotations

from ..markdown import table
from .. import plots
from . import facts as F
from . import verdicts
from .claims import COLUMNS, Column, by_column, value
from .doc import Doc
from .fmt import fbytes, fnum, fratio

TrainingMap = dict[str, F.Training]


def label(d: Doc, family: str) -> str:
    """A family's column label (``col_<key>`` of the document's column it fills, else ``col_<family>``)."""
    key = next((c.key for c in COLUMNS if c.family == family), family)
    return d.t(f"col_{key}")


def loops(train: TrainingMap, family: str) -> list[str]:
    """The family's hand-written-loop targets that trained the spec."""
    return [tg for tg, tr in train.items() if tr.family == family and tr.api == "loop" and tr.trained]


def _api_cell(d: Doc, col: Column, train: TrainingMap) -> str:
    t = d.t
    if not train:
        return d.missing("frameworks", "train")
    levels: dict[str, list[str]] = {}
    ran: set[str] = set()
    for target, tr in train.items():
        if tr.family != col.family:
            continue
        if tr.trained:
            ran.add(tr.api)
            levels.setdefault(tr.api, []).append(f"{t('ok')} `{target}`")
        else:
            levels.setdefault(tr.api, []).append(f"{t('fail_mark')} `{target}` ({tr.error})")
    parts = []
    for api in ("fit", "loop"):
        if api in levels:
            parts.append(f"{t(api + '_level')}: {', '.join(levels[api])}")
        elif api in col.missing_api:
            parts.append(t(col.missing_api[api]))
        else:
            parts.append(f"{t(api + '_level')}: {t('none_ran')}")
    return d.with_claim("; ".join(parts), "api", col.key, verdicts.api_levels(ran, value("api", col.key)))


def _ease_text(d: Doc, col: Column, train: TrainingMap, cg: dict[str, F.Codegen]) -> tuple[str, int | None]:
    """The ease-of-use cell's figures and the fewest lines of a script that ran and printed the right count."""
    t = d.t
    code, times, best = [], [], None
    for target in sorted({*cg, *train}, key=F.target_key):
        if (cg[target].family if target in cg else train[target].family) != col.family:
            continue
        if target in cg:
            c = cg[target]
            if c.ran:
                bad = "" if c.params_ok else f" ({t('codegen_bad', error=t('params_n', n=c.params_printed))})"
                code.append(f"`{target}` {t('lines', n=c.lines)}{bad}")
                if c.params_ok:
                    best = c.lines if best is None else min(best, c.lines)
            else:
                code.append(f"`{target}` {t('codegen_bad', error=c.error)}")
        first = train[target].first_result if target in train else None
        if first is not None:
            times.append(f"`{target}` {d.fs(first)}")
    parts = [t("lines_cell", items=", ".join(code)) if code else d.missing("frameworks", "codegen"),
             t("first_result", items=", ".join(times)) if times else d.missing("frameworks", "train")]
    return "; ".join(parts), best


def _ease_cells(d: Doc, train: TrainingMap) -> list[str]:
    cg = F.codegen(d.f)
    texts = {c.key: _ease_text(d, c, train, cg) for c in COLUMNS}
    lines = {k: best for k, (_, best) in texts.items()}
    return [d.with_claim(texts[c.key][0], "ease", c.key,
                         verdicts.order_flag(by_column("ease"), lines, c.key, higher_better=False)) for c in COLUMNS]


def _export_text(d: Doc, targets: list[F.Export]) -> str:
    t = d.t
    lines = []
    for e in targets:
        if not e.ok:
            lines.append(f"`{e.target}`: {t('failed', error=e.error)}")
            continue
        items = []
        for p in e.paths:
            name = p.name + (f" ({t('mobile')})" if p.kind == "mobile" else "")
            if p.ok:
                items.append(f"{t('ok')} {name} {fbytes(p.size_bytes, d.lang)}, {d.fs(p.latency_s)}")
            else:
                items.append(f"{t('fail_mark')} {name} ({p.error})")
        lines.append((f"`{e.target}`: " if len(targets) > 1 else "") + "; ".join(items))
    return "<br>".join(lines)


def _production_cells(d: Doc) -> list[str]:
    ex = F.exports(d.f)
    texts: dict[str, str | None] = {}
    scores: dict[str, float | None] = {}
    for col in COLUMNS:
        targets = [e for e in ex.values() if e.family == col.family]
        deployable = [len(e.deployable) for e in targets if e.ok]
        scores[col.key] = max(deployable) if deployable else None
        texts[col.key] = _export_text(d, targets) if targets else None
    return [d.with_claim(d.missing("frameworks", "export"), "production", c.key, "unknown") if texts[c.key] is None
            else d.with_claim(texts[c.key], "production", c.key,
                              verdicts.production(by_column("production"), scores, c.key)) for c in COLUMNS]


def _learning_cells(d: Doc, train: TrainingMap, dyn: dict[str, F.Dynamic]) -> list[str]:
    t = d.t
    texts: dict[str, str] = {}
    scores: dict[str, int | None] = {}
    for col in COLUMNS:
        dy = dyn.get(col.target)
        eager = dy.eager_by_default if dy and dy.ok else None
        looped = loops(train, col.family)
        if eager is None or not train:
            scores[col.key] = None
            continue
        scores[col.key] = int(bool(eager)) + int(bool(looped))
        texts[col.key] = t("learning_cell", eager=f"{t('yes') if eager else t('no')} (`{col.target}`)",
                           loop=", ".join(f"`{x}`" for x in looped) if looped else t("no"), score=scores[col.key])
    cells = []
    for col in COLUMNS:
        if col.key in texts:
            cells.append(d.with_claim(texts[col.key], "learning", col.key,
                                      verdicts.order_flag(by_column("learning"), scores, col.key)))
        else:
            dy = dyn.get(col.target)
            why = ("train" if dy and dy.ok and dy.eager_by_default is not None else "dynamic")
            cells.append(d.with_claim(d.missing("frameworks", why), "learning", col.key, "unknown"))
    return cells


def _dynamic_line(d: Doc, dy: F.Dynamic) -> str:
    t = d.t
    if not dy.ok:
        return f"`{dy.target}`: {t('failed', error=dy.error)}"
    what = t("eager_yes") if dy.eager_by_default else t("eager_no")
    txt = t("eager_default", what=what, calls=dy.calls, steps=dy.steps)
    if dy.ratio:
        txt += "; " + t("eager_ratio", ratio=fratio(dy.ratio), other=dy.other_how)
    elif not dy.other_ok:
        txt += "; " + t("eager_other_failed", how=dy.other_how, error=dy.other_error)
    return f"`{dy.target}`: {txt}"


def _dynamic_cell(d: Doc, col: Column, dyn: dict[str, F.Dynamic]) -> str:
    targets = [dy for dy in dyn.values() if dy.family == col.family]
    if not targets:
        return d.with_claim(d.missing("frameworks", "dynamic"), "dynamic", col.key, "unknown")
    eager_of = {dy.target: dy.eager_by_default for dy in targets if dy.ok}
    default = dyn.get(col.target)
    flag = verdicts.dynamic(value("dynamic", col.key), eager_of, col.target, bool(default and default.eager_works))
    return d.with_claim("<br>".join(_dynamic_line(d, dy) for dy in targets), "dynamic", col.key, flag)


def comparison(d: Doc) -> list[str]:
    t = d.t
    train = F.training(d.f)
    dyn = F.dynamics(d.f)
    rows = [[t("row_api"), *(_api_cell(d, c, train) for c in COLUMNS)],
            [t("row_ease"), *_ease_cells(d, train)],
            [t("row_production"), *_production_cells(d)],
            [t("row_learning"), *_learning_cells(d, train, dyn)],
            [t("row_dynamic"), *(_dynamic_cell(d, c, dyn) for c in COLUMNS)]]
    labels = [t(f"col_{c.key}") for c in COLUMNS]
    out = [table([t("col_feature"), *labels], rows), ""]
    out += [f"**{t('cited')}.** {t('cited_intro')}", ""]
    out += [table([t("col_feature"), *labels, t("source")],
                  [[t("row_hf"), *(f"{d.claim('hf', c.key)} ({t('cannot_measure')})" for c in COLUMNS),
                    t("hf_source")]]), ""]
    out += d.notes([t.note(k) for k in ("cmp_api", "cmp_ease", "cmp_prod", "cmp_learn", "cmp_dyn")])
    return out + training_runs(d, train, dyn)


def training_runs(d: Doc, train: TrainingMap, dyn: dict[str, F.Dynamic]) -> list[str]:
    """The ``train`` runs behind the comparison: a table per target and the loss, step and eager plots."""
    t = d.t
    out = [f"### {t('training_runs')}", ""]
    if not train:
        return out + [d.missing("frameworks", "train"), ""]
    rows = []
    for target, tr in train.items():
        m = tr.medians
        rows.append([f"`{target}`", f"{tr.ok_runs}/{tr.runs}",
                     *(d.fs(m[k]) for k in ("import_s", "build_s", "first_epoch_s", "median_step_s", "step_iqr_s")),
                     fnum(m["val_loss"], 5), fnum(m["val_accuracy"], 4)])
    out += [table([t("target"), *(t(f"col_{k}") for k in ("ok", "import", "build", "first_epoch", "median_step",
                                                            "step_iqr", "val_loss", "val_accuracy"))],
                  rows, ["l", "r", "r", "r", "r", "r", "r", "r", "r"]), ""]
    curves = {tg: tr.curve for tg, tr in train.items() if tr.curve}
    bars = [(tg, *tr.bar) for tg, tr in train.items() if tr.bar]
    if curves:
        out += [d.plot("loss_curves", lambda p: plots.loss_curves(p, curves, d.lang), t("loss_curves")), ""]
    if bars:
        out += [d.plot("step_time", lambda p: plots.step_bars(p, bars, d.lang), t("step_bars")), ""]
    items = [(tg, dy.eager_step_s, dy.compiled_step_s) for tg, dy in dyn.items() if dy.ok]
    if items:
        out += [d.plot("eager_vs_compiled", lambda p: plots.eager_bars(p, items, d.lang), t("eager_plot")), ""]
    return out
