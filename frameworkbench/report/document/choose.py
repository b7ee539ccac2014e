"""Table 2, "Which library to choose?": the document's recommendation per goal against the measured one."""
from __future__ import annotations

import math

from ..markdown import table
from . import facts as F
from . import verdicts
from .claims import COLUMNS, value
from .comparison import label, loops
from .doc import Doc
from .llm import cited_row, details, measured_row

GOALS = ("quick", "research", "production", "llm")


def _row(d: Doc, goal: str, measured: str, figure: str, flag: str) -> list[str]:
    return [d.t(f"goal_{goal}"), d.claim("choose", goal), measured, figure, d.flag(flag)]


def _quick(d: Doc, train: dict[str, F.Training]) -> list[str]:
    """The family with the shortest script that ran and printed the right count; ties: time to first result."""
    t = d.t
    cg = F.codegen(d.f)
    best: dict[str, tuple] = {}
    for target in sorted(cg, key=F.target_key):
        c = cg[target]
        if not c.usable:
            continue
        first = train[target].first_result if target in train else None
        key = (c.lines, first if first is not None else math.inf)
        if c.family not in best or key < best[c.family][0]:
            best[c.family] = (key, target)
    if not best:
        return _row(d, "quick", d.missing("frameworks", "codegen"), "—", "unknown")
    families = [c.family for c in COLUMNS]
    order = [*families, *sorted(set(best) - set(families))]  # a family outside the document's columns last
    fam = min(best, key=lambda c: (best[c][0], order.index(c)))
    (lines, secs), target = best[fam]
    others = ", ".join(f"{label(d, c)} {t('lines', n=best[c][0][0])}" for c in order if c in best and c != fam)
    figure = f"`{target}`: {t('lines', n=lines)}, {d.fs(secs)}; {others}"
    claimed = [c.family for c in COLUMNS if c.key in value("choose", "quick")]
    return _row(d, "quick", label(d, fam), figure, verdicts.named(fam, claimed))


def _research(d: Doc, train: dict[str, F.Training]) -> list[str]:
    """The highest learning score: eager by default on the column's target + a hand-written loop trained."""
    t = d.t
    dyn = F.dynamics(d.f)
    scores = {}
    for col in COLUMNS:
        dy = dyn.get(col.target)
        if not dy or not dy.ok or not train:
            continue
        eager = bool(dy.eager_by_default)
        looped = loops(train, col.family)
        scores[col.key] = (int(eager) + int(bool(looped)), eager, looped)
    if not scores:
        return _row(d, "research", d.missing("frameworks", "dynamic"), "—", "unknown")
    top = max(s[0] for s in scores.values())
    won = [c.key for c in COLUMNS if c.key in scores and scores[c.key][0] == top]
    figure = "; ".join(f"{t(f'col_{c}')}: " + t("learning_cell", eager=t("yes") if scores[c][1] else t("no"),
                                                   loop=", ".join(f"`{x}`" for x in scores[c][2]) or t("no"),
                                                   score=scores[c][0]) for c in won)
    return _row(d, "research", " + ".join(t(f"col_{c}") for c in won), figure,
                verdicts.winners(won, value("choose", "research")))


def _production(d: Doc) -> list[str]:
    """The most deployable export formats that worked, a mobile format breaking ties."""
    best: dict[str, tuple] = {}
    for e in F.exports(d.f).values():
        key = (len(e.deployable), e.mobile)
        if e.ok and (e.family not in best or key > best[e.family][0]):
            best[e.family] = (key, e)
    if not best:
        return _row(d, "production", d.missing("frameworks", "export"), "—", "unknown")
    top = max(v[0] for v in best.values())
    won = [c for c in COLUMNS if c.family in best and best[c.family][0] == top]
    figures = [f"`{e.target}`: {len(e.deployable)} ({', '.join(e.deployable)})" + _export_detail(d, e)
               for e in (best[c.family][1] for c in won)]
    return _row(d, "production", " + ".join(d.t(f"col_{c.key}") for c in won), "; ".join(figures),
                verdicts.winners([c.key for c in won], value("choose", "production")))


def _export_detail(d: Doc, e: F.Export) -> str:
    """Fidelity (worst max |Δ| against the trained model), mobile formats and batch-1 latency per runtime."""
    parts = [f"max |Δ| {e.worst_diff:.1e}"] if e.worst_diff is not None else []
    if e.mobile_formats:
        parts.append("mobile: " + ", ".join(e.mobile_formats))
    lat = [f"{p.runtime or p.name} {d.fs(p.latency_s)}" for p in e.paths if p.ok and p.latency_s is not None]
    if lat:
        parts.append("b1: " + ", ".join(lat))
    return f" [{'; '.join(parts)}]" if parts else ""


def _speed(d: Doc, train: dict[str, F.Training]) -> list[str]:
    """An extra measured row: the fastest steady-state training step, whichever target it is."""
    t = d.t
    steps = {tg: tr.medians["median_step_s"] for tg, tr in train.items() if tr.medians["median_step_s"] is not None}
    if not steps:
        return [t("goal_speed"), "—", d.missing("frameworks", "train"), "—", "—"]
    fastest = min(steps, key=lambda k: (steps[k], F.target_key(k)))
    rest = ", ".join(f"`{k}` {d.fs(v)}" for k, v in sorted(steps.items(), key=lambda kv: (kv[1], F.target_key(kv[0])))
                     if k != fastest)
    return [t("goal_speed"), "—", f"{label(d, train[fastest].family)} (`{fastest}`)",
            f"`{fastest}` {d.fs(steps[fastest])}; {rest}", "—"]


def choose(d: Doc) -> list[str]:
    t = d.t
    train = F.training(d.f)
    rows = [_quick(d, train), _research(d, train), _production(d), measured_row(d), cited_row(d), _speed(d, train)]
    out = [table([t("col_goal"), f"{t('doc_says')}: {t('col_recommendation')}", t("measured_recommendation"),
                  t("deciding_figure"), t("agreement")], rows), ""]
    return out + d.notes([t.note(f"choose_{k}") for k in (*GOALS, "speed")]) + details(d)
