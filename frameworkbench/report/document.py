"""The seed document's four tables rebuilt from stored study records, in English or Russian.

Input: run records from the results database (``Store.records()``), nothing else. Records of
the studies in ``specs/studies`` are found by their spec names (``study:<study>:<experiment>
[:<variant>]``); what a run varied is read from its stored spec snapshot. For every spec,
target and seed the newest record of the newest spec version counts (a rerun supersedes).

Every measured cell shows its figures, then the document's claim and a flag from an explicit
rule (stated in the notes under each table). A cell without data says why. The same records
give the same markdown, byte for byte: no clocks, every ordering explicit.
"""
from __future__ import annotations

import math
import re
import statistics
from pathlib import Path
from typing import Any, Callable, Iterable

from ..study import parse_name
from . import plots
from .i18n import ACTIVATION_DOC, Lang, activation_name, plot_text, unit
from .markdown import table

COLUMNS = ("tf.keras", "keras", "torch")
# The target that stands for a column where one is needed: Keras 3's default backend is tensorflow.
DEFAULT_TARGET = {"tf.keras": "tf.keras", "keras": "keras:tensorflow", "torch": "torch"}
TARGET_ORDER = ("tf.keras", "tf:gradienttape", "keras:tensorflow", "keras:jax", "keras:jax:stateless", "keras:torch",
                "torch")
ACTIVATION_ORDER = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "softmax")
TASKS = ("binary", "multiclass", "regression")

# The document's claims in machine-readable form (the text is in i18n.CLAIMS).
DOC_API = {"tf.keras": {"fit", "loop"}, "keras": {"fit"}, "torch": {"fit", "loop"}}
DOC_EASE = {"tf.keras": 1, "keras": 2, "torch": 1}  # 👍 count
DOC_PRODUCTION = {"tf.keras": 3, "keras": 0, "torch": 1}  # ✅ count, ❌ = 0
DOC_LEARNING = {"tf.keras": 1, "keras": 1, "torch": 2}
DOC_LAYERS = {"hidden": ("relu", "leaky_relu", "tanh"), "binary": "sigmoid", "multiclass": "softmax",
              "regression": "linear"}
DOC_QUICK = ("tf.keras", "keras")

STUDIES = ("frameworks", "activations", "layers")
PLOTS_DIR = "plots"


# ----------------------------------------------------------------------------- formatting
def fs(seconds: float | None, lang: str = "en") -> str:
    """A duration with a unit chosen by size (unit symbols in ``lang``)."""
    if seconds is None or not math.isfinite(seconds):
        return "—"
    if seconds >= 1:
        return f"{seconds:.2f} {unit('s', lang)}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3g} {unit('ms', lang)}"
    return f"{seconds * 1e6:.3g} {unit('µs', lang)}"


def fnum(v: float | None, sig: int = 3) -> str:
    if v is None:
        return "—"
    if v == 0:
        return "0"
    if abs(v) < 1e-3 or abs(v) >= 1e5:
        return f"{v:.{max(sig - 1, 0)}e}"
    return f"{v:.{sig}g}"


def fbytes(n: int | None, lang: str = "en") -> str:
    if n is None:
        return "—"
    return f"{n / 1024:.1f} {unit('KiB', lang)}" if n >= 1024 else f"{n} {unit('B', lang)}"


def fratio(r: float | None) -> str:
    if r is None:
        return "—"
    return f"{r:.3g}×"


def median(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return statistics.median(vals) if vals else None


def target_key(name: str) -> tuple:
    return (TARGET_ORDER.index(name) if name in TARGET_ORDER else len(TARGET_ORDER), name)


SHORT_ERROR_CHARS = 240  # below the 300 characters diagnostics keeps, so a cut there is never shown as whole
_ABBREVIATION = re.compile(r"\b(e\.g|i\.e|etc|vs|cf|approx)\.$", re.IGNORECASE)


def _balanced(text: str) -> bool:
    """No quote, backtick or bracket left open (an apostrophe inside a word is not a quote)."""
    depth, quote = 0, None
    for i, ch in enumerate(text):
        prev = text[i - 1] if i else " "
        nxt = text[i + 1] if i + 1 < len(text) else " "
        if quote:
            if ch == quote and not nxt.isalnum():
                quote = None
            continue
        if ch == "`" or (ch in "'\"" and not prev.isalnum()):
            quote = ch
        elif ch in "([{" or (ch == "<" and not nxt.isspace() and nxt not in "=<"):
            depth += 1
        elif ch in ")]}" or (ch == ">" and not prev.isspace() and prev not in "=->"):
            depth = max(0, depth - 1)
    return depth == 0 and quote is None


def short_error(error: object, limit: int = SHORT_ERROR_CHARS) -> str:
    """An error shortened for a report cell: its first line, cut after the first full sentence; if that
    is still over ``limit`` characters, cut at the last word boundary where no quote or bracket is open,
    marked "…". Never cuts inside a token such as ``<class 'tuple'>``. The one helper for every
    shortened error in reports."""
    lines = [ln.strip() for ln in str(error or "").splitlines() if ln.strip()]
    if not lines:
        return ""
    text = lines[0]
    for m in re.finditer(r"[.!?](?=\s)", text):
        head = text[:m.end()]
        if not _ABBREVIATION.search(head) and _balanced(head):
            text = head
            break
    if len(text) <= limit:
        return text
    for i in range(limit, 0, -1):
        if text[i] == " ":
            head = text[:i].rstrip(" ,;:")
            if head and _balanced(head):
                return head + " …"
    return text[:limit].rsplit(" ", 1)[0] + " …"


def _short_error(rec: dict) -> str:
    return short_error(rec.get("error") or rec.get("status"))


# ----------------------------------------------------------------------------- records
class Facts:
    """The study records of a database, newest per (spec name, target, seed), grouped by experiment."""

    def __init__(self, records: list[dict]) -> None:
        newest_hash: dict[str, str] = {}
        ordered = sorted(records, key=lambda r: (r["created_at"], r["run_id"]))
        for r in ordered:
            if parse_name(r["spec_name"]):
                newest_hash[r["spec_name"]] = r["spec_hash"]
        latest: dict[tuple, dict] = {}
        for r in ordered:
            if parse_name(r["spec_name"]) and r["spec_hash"] == newest_hash[r["spec_name"]]:
                latest[(r["spec_name"], r["target"], r["seed"])] = r
        self.groups: dict[str, list[dict]] = {}
        for key in sorted(latest, key=lambda k: (k[0], target_key(k[1]), k[2])):
            study, exp, _ = parse_name(key[0])
            self.groups.setdefault(f"{study}:{exp}", []).append(latest[key])

    def exp(self, study: str, experiment: str) -> list[dict]:
        return self.groups.get(f"{study}:{experiment}", [])

    def all(self) -> list[dict]:
        return [r for k in sorted(self.groups) for r in self.groups[k]]

    @staticmethod
    def by_target(recs: list[dict]) -> dict[str, list[dict]]:
        out: dict[str, list[dict]] = {}
        for r in sorted(recs, key=lambda r: (target_key(r["target"]), r["seed"])):
            out.setdefault(r["target"], []).append(r)
        return out


def api_of(rec: dict) -> str:
    if rec.get("api"):
        return rec["api"]
    from ..targets import TARGETS

    t = TARGETS.get(rec["target"])
    return t.api if t else "fit"


def family_of(rec: dict) -> str:
    return rec.get("family") or rec["target"].split(":")[0]


# ----------------------------------------------------------------------------- flags
def order_flag(doc: dict[str, float], measured: dict[str, float | None], col: str, higher_better: bool = True) -> str:
    """Compare the order the document's marks give ``col`` against every other column with the
    measured order: ``agree`` if every strict order of the document holds, ``partly`` if some
    are ties, ``disagree`` if one is reversed, ``unknown`` without figures."""
    mine = measured.get(col)
    if mine is None:
        return "unknown"
    results = []
    for other in COLUMNS:
        if other == col or doc[other] == doc[col] or measured.get(other) is None:
            continue
        want = 1 if doc[col] > doc[other] else -1
        diff = mine - measured[other]
        got = 0 if diff == 0 else (1 if diff > 0 else -1)
        got = got if higher_better else -got
        results.append("agree" if got == want else ("partly" if got == 0 else "disagree"))
    if not results:
        return "unknown"
    if "disagree" in results:
        return "disagree"
    return "partly" if "partly" in results else "agree"


def combine(flags: list[str]) -> str:
    known = [f for f in flags if f != "unknown"]
    if not known:
        return "unknown"
    if all(f == "agree" for f in known):
        return "agree" if len(known) == len(flags) else "partly"
    if all(f == "disagree" for f in known):
        return "disagree"
    return "partly"


class Doc:
    """Rendering state: language, facts, plot directory, the notes of the current table."""

    def __init__(self, facts: Facts, lang: str, out_dir: Path | None) -> None:
        self.f = facts
        self.t = Lang(lang)
        self.lang = lang
        self.out_dir = out_dir
        self.plot_files: list[str] = []

    def fs(self, seconds: float | None) -> str:
        return fs(seconds, self.lang)

    def act(self, name: str) -> str:
        return activation_name(name, self.lang)

    def pair(self, p: tuple[str, str]) -> str:
        return _pair_label(p, self.lang)

    def dataset(self, name: str) -> str:
        """A dataset's display name: ``synthetic`` is translated, sklearn names are kept."""
        return self.t("dataset_synthetic") if name == "synthetic" else name

    def flag(self, kind: str) -> str:
        return self.t(f"flag_{kind}")

    def with_claim(self, measured: str, claim: str, flag: str) -> str:
        return f"{measured}<br>*{self.t('doc')}:* {claim} → {self.flag(flag)}"

    def missing(self, study: str, experiment: str) -> str:
        return self.t("not_measured", why=self.t("no_runs", name=f"study:{study}:{experiment}", study=study))

    def plot(self, name: str, draw: Callable[[Path], Any], caption: str) -> str:
        """Draw a PNG into <out>/plots/ and return the markdown that shows it: ``plots/<name>.png`` in
        English, ``plots/<name>.<lang>.png`` in any other language (drawn with that language's labels)."""
        rel = f"{PLOTS_DIR}/{name}.png" if self.lang == "en" else f"{PLOTS_DIR}/{name}.{self.lang}.png"
        if self.out_dir is not None:
            draw(self.out_dir / rel)
        self.plot_files.append(rel)
        return f"![{caption}]({rel})\n\n*{caption}*"


# ----------------------------------------------------------------------------- table 1
def _codegen(d: Doc) -> dict[str, dict]:
    out = {}
    for target, recs in Facts.by_target(d.f.exp("frameworks", "codegen")).items():
        rec = recs[-1]
        out[target] = {"rec": rec, "cg": rec.get("codegen") or {}}
    return out


def _first_result(d: Doc) -> dict[str, float | None]:
    out = {}
    for target, recs in Facts.by_target(d.f.exp("frameworks", "train")).items():
        vals = []
        for r in recs:
            tm = r.get("timings") or {}
            if r["status"] == "ok" and None not in (tm.get("import_s"), tm.get("build_s"), tm.get("first_epoch_s")):
                vals.append(tm["import_s"] + tm["build_s"] + tm["first_epoch_s"])
        out[target] = median(vals)
    return out


def _export_summary(recs: list[dict]) -> dict[str, dict]:
    out = {}
    for target, rs in Facts.by_target(recs).items():
        rec = rs[-1]
        paths = (rec.get("export") or {}).get("paths") or []
        ok = [p for p in paths if p.get("status") == "ok" and p.get("kind") in ("server", "mobile")]
        out[target] = {"rec": rec, "paths": paths, "deployable": len(ok),
                       "mobile": any(p.get("kind") == "mobile" for p in ok)}
    return out


def _dynamic(d: Doc) -> dict[str, dict]:
    return {t: rs[-1] for t, rs in Facts.by_target(d.f.exp("frameworks", "dynamic")).items()}


def comparison(d: Doc) -> list[str]:
    t = d.t
    train = d.f.exp("frameworks", "train")
    by_train = Facts.by_target(train)
    notes: list[str] = []
    rows = []

    # -- API level
    cells = []
    for col in COLUMNS:
        if not train:
            cells.append(d.missing("frameworks", "train"))
            continue
        levels: dict[str, list[str]] = {}
        ran: set[str] = set()
        for target, recs in by_train.items():
            if family_of(recs[0]) != col:
                continue
            api = api_of(recs[0])
            ok = any(r["status"] == "ok" for r in recs)
            if ok:
                ran.add(api)
                levels.setdefault(api, []).append(f"{t('ok')} `{target}`")
            else:
                levels.setdefault(api, []).append(f"{t('fail_mark')} `{target}` ({_short_error(recs[-1])})")
        parts = []
        for api in ("fit", "loop"):
            if api in levels:
                parts.append(f"{t(api + '_level')}: {', '.join(levels[api])}")
            elif api == "fit" and col == "torch":
                parts.append(t("no_fit_torch"))
            else:
                parts.append(f"{t(api + '_level')}: {t('none_ran')}")
        doc = DOC_API[col]
        flag = ("unknown" if not ran else "agree" if ran == doc else "disagree" if ran > doc
                else "partly" if ran & doc else "disagree")
        cells.append(d.with_claim("; ".join(parts), t.claim("api", col), flag))
    rows.append([t("row_api"), *cells])
    notes.append(t.note("cmp_api"))

    # -- Ease of use
    cg = _codegen(d)
    first = _first_result(d)
    lines_by_col: dict[str, float | None] = {}
    cells = []
    for col in COLUMNS:
        items_code, items_time, best = [], [], None
        for target in sorted({*cg, *first}, key=target_key):
            fam = family_of((cg.get(target) or {}).get("rec") or (by_train.get(target) or [{"target": target}])[0])
            if fam != col:
                continue
            if target in cg:
                c = cg[target]["cg"]
                rec = cg[target]["rec"]
                if rec["status"] == "ok" and c.get("ran"):
                    ok = c.get("params_printed") == c.get("params_expected")
                    items_code.append(f"`{target}` {t('lines', n=c['lines'])}"
                                      + ("" if ok else f" ({t('codegen_bad', error=t('params_n', n=c.get('params_printed')))})"))
                    if ok:
                        best = c["lines"] if best is None else min(best, c["lines"])
                else:
                    items_code.append(f"`{target}` {t('codegen_bad', error=short_error(c.get('error')) or _short_error(rec))}")
            if first.get(target) is not None:
                items_time.append(f"`{target}` {d.fs(first[target])}")
        lines_by_col[col] = best
        parts = [t("lines_cell", items=", ".join(items_code)) if items_code else d.missing("frameworks", "codegen"),
                 t("first_result", items=", ".join(items_time)) if items_time else d.missing("frameworks", "train")]
        cells.append([col, "; ".join(parts)])
    for i, (col, text) in enumerate(cells):
        flag = order_flag(DOC_EASE, lines_by_col, col, higher_better=False)
        cells[i] = d.with_claim(text, t.claim("ease", col), flag)
    rows.append([t("row_ease"), *cells])
    notes.append(t.note("cmp_ease"))

    # -- Production
    exp_recs = d.f.exp("frameworks", "export")
    ex = _export_summary(exp_recs)
    prod_score: dict[str, float | None] = {}
    cells = []
    for col in COLUMNS:
        targets = [tg for tg in ex if family_of(ex[tg]["rec"]) == col]
        if not targets:
            prod_score[col] = None
            cells.append(d.with_claim(d.missing("frameworks", "export"), t.claim("production", col), "unknown"))
            continue
        lines = []
        for tg in targets:
            e = ex[tg]
            if e["rec"]["status"] != "ok":
                lines.append(f"`{tg}`: {t('failed', error=_short_error(e['rec']))}")
                continue
            items = []
            for p in e["paths"]:
                name = p["path"] + (f" ({t('mobile')})" if p.get("kind") == "mobile" else "")
                if p.get("status") == "ok":
                    lat = (p.get("latency_batch1") or {}).get("median_s")
                    items.append(f"{t('ok')} {name} {fbytes(p.get('size_bytes'), d.lang)}, {d.fs(lat)}")
                else:
                    items.append(f"{t('fail_mark')} {name} ({short_error(p.get('error'))})")
            lines.append((f"`{tg}`: " if len(targets) > 1 else "") + "; ".join(items))
        ok_targets = [ex[tg]["deployable"] for tg in targets if ex[tg]["rec"]["status"] == "ok"]
        prod_score[col] = max(ok_targets) if ok_targets else None
        cells.append(["<br>".join(lines), col])
    for i, c in enumerate(cells):
        if isinstance(c, list):
            text, col = c
            flag = order_flag(DOC_PRODUCTION, prod_score, col)
            if DOC_PRODUCTION[col] == 0 and (prod_score.get(col) or 0) > 0:
                flag = "disagree"
            cells[i] = d.with_claim(text, t.claim("production", COLUMNS[i]), flag)
    rows.append([t("row_production"), *cells])
    notes.append(t.note("cmp_prod"))

    # -- Learning
    dyn = _dynamic(d)
    learn_score: dict[str, float | None] = {}
    cells = []
    for col in COLUMNS:
        default = DEFAULT_TARGET[col]
        rec = dyn.get(default)
        eager = (rec.get("dynamic") or {}).get("eager_by_default") if rec and rec["status"] == "ok" else None
        loops = [tg for tg, recs in by_train.items() if family_of(recs[0]) == col and api_of(recs[0]) == "loop"
                 and any(r["status"] == "ok" for r in recs)]
        if eager is None or not train:
            learn_score[col] = None
            why = d.missing("frameworks", "dynamic") if eager is None else d.missing("frameworks", "train")
            cells.append(d.with_claim(why, t.claim("learning", col), "unknown"))
            continue
        score = int(bool(eager)) + int(bool(loops))
        learn_score[col] = score
        eager_txt = f"{t('yes') if eager else t('no')} (`{default}`)"
        loop_txt = (", ".join(f"`{x}`" for x in loops)) if loops else t("no")
        cells.append([t("learning_cell", eager=eager_txt, loop=loop_txt, score=score), col])
    for i, c in enumerate(cells):
        if isinstance(c, list):
            cells[i] = d.with_claim(c[0], t.claim("learning", c[1]), order_flag(DOC_LEARNING, learn_score, c[1]))
    rows.append([t("row_learning"), *cells])
    notes.append(t.note("cmp_learn"))

    # -- Dynamic execution
    cells = []
    for col in COLUMNS:
        targets = [tg for tg in dyn if family_of(dyn[tg]) == col]
        if not targets:
            cells.append(d.with_claim(d.missing("frameworks", "dynamic"), t.claim("dynamic", col), "unknown"))
            continue
        lines, eager_of = [], {}
        for tg in targets:
            rec = dyn[tg]
            if rec["status"] != "ok":
                lines.append(f"`{tg}`: {t('failed', error=_short_error(rec))}")
                continue
            dy = rec["dynamic"]
            v = dy["variants"]
            default = v[dy["default_is"]]
            probe = default.get("probe") or {}
            eager_of[tg] = dy.get("eager_by_default")
            what = t("eager_yes") if dy.get("eager_by_default") else t("eager_no")
            txt = t("eager_default", what=what, calls=probe.get("step_body_calls"), steps=probe.get("steps"))
            other_kind = "compiled" if dy["default_is"] == "eager" else "eager"
            other = v[other_kind]
            if dy.get("eager_over_compiled"):
                txt += "; " + t("eager_ratio", ratio=fratio(dy["eager_over_compiled"]), other=other["how"])
            elif other.get("status") != "ok":
                txt += "; " + t("eager_other_failed", how=other["how"], error=short_error(other.get("error")))
            lines.append(f"`{tg}`: {txt}")
        default = DEFAULT_TARGET[col]
        if col == "tf.keras":
            other_ok = (dyn.get(default) or {}).get("dynamic", {}).get("variants", {}).get("eager", {}).get("status")
            flag = ("unknown" if default not in eager_of else
                    "agree" if eager_of[default] is False and other_ok == "ok" else "disagree")
        elif col == "keras":
            vals = [v for v in eager_of.values() if v is not None]
            flag = ("unknown" if not vals else "agree" if eager_of.get(default) else
                    "partly" if any(vals) else "disagree")
        else:
            flag = "unknown" if default not in eager_of else ("agree" if eager_of[default] else "disagree")
        cells.append(d.with_claim("<br>".join(lines), t.claim("dynamic", col), flag))
    rows.append([t("row_dynamic"), *cells])
    notes.append(t.note("cmp_dyn"))

    header = [t("col_feature"), *(t(f"col_{c}") for c in COLUMNS)]
    out = [table(header, rows), ""]
    out += [f"**{t('cited')}.** {t('cited_intro')}", ""]
    out += [table([t("col_feature"), *(t(f"col_{c}") for c in COLUMNS), t("source")],
                  [[t("row_hf"), *(f"{t.claim('hf', c)} ({t('cannot_measure')})" for c in COLUMNS),
                    t("hf_source")]]), ""]
    out += [f"**{t('notes')}**", ""] + [f"{i}. {n}" for i, n in enumerate(notes, 1)] + [""]
    out += training_plots(d)
    return out


def training_plots(d: Doc) -> list[str]:
    t = d.t
    out = [f"### {t('training_runs')}", ""]
    train = d.f.exp("frameworks", "train")
    if not train:
        return out + [d.missing("frameworks", "train"), ""]
    curves, bars = {}, []
    for target, recs in Facts.by_target(train).items():
        ok = [r for r in recs if r["status"] == "ok" and r.get("history")]
        if not ok:
            continue
        n = min(len(r["history"]) for r in ok)
        ep = list(range(1, n + 1))
        curves[target] = (ep, [median(r["history"][i]["loss"] for r in ok) for i in range(n)],
                          [median(r["history"][i].get("val_loss") for r in ok) for i in range(n)])
        tm = [r.get("timings") or {} for r in ok]
        bars.append((target, median(x.get("median_step_s") for x in tm), median(x.get("step_iqr_s") for x in tm)))
    rows = []
    for target, recs in Facts.by_target(train).items():
        ok = [r for r in recs if r["status"] == "ok"]
        tm = [r.get("timings") or {} for r in ok]
        fin = [r.get("final") or {} for r in ok]
        rows.append([f"`{target}`", f"{len(ok)}/{len(recs)}", d.fs(median(x.get("import_s") for x in tm)),
                     d.fs(median(x.get("build_s") for x in tm)), d.fs(median(x.get("first_epoch_s") for x in tm)),
                     d.fs(median(x.get("median_step_s") for x in tm)), d.fs(median(x.get("step_iqr_s") for x in tm)),
                     fnum(median(x.get("val_loss") for x in fin), 5), fnum(median(x.get("val_accuracy") for x in fin), 4)])
    out += [table([t("target"), *(t(f"col_{k}") for k in ("ok", "import", "build", "first_epoch", "median_step",
                                                            "step_iqr", "val_loss", "val_accuracy"))],
                  rows, ["l", "r", "r", "r", "r", "r", "r", "r", "r"]), ""]
    if curves:
        out += [d.plot("loss_curves", lambda p: plots.loss_curves(p, curves, d.lang), t("loss_curves")), ""]
    if bars:
        out += [d.plot("step_time", lambda p: plots.step_bars(p, bars, d.lang), t("step_bars")), ""]
    dyn = _dynamic(d)
    items = []
    for target, rec in dyn.items():
        if rec["status"] == "ok":
            v = rec["dynamic"]["variants"]
            items.append((target, v["eager"].get("median_step_s"), v["compiled"].get("median_step_s")))
    if items:
        out += [d.plot("eager_vs_compiled", lambda p: plots.eager_bars(p, items, d.lang), t("eager_plot")), ""]
    return out


# ----------------------------------------------------------------------------- table 2
def choose(d: Doc) -> list[str]:
    t = d.t
    rows = []
    cg = _codegen(d)
    first = _first_result(d)
    by_col: dict[str, tuple] = {}
    for target in sorted(cg, key=target_key):
        c, rec = cg[target]["cg"], cg[target]["rec"]
        if rec["status"] != "ok" or not c.get("ran") or c.get("params_printed") != c.get("params_expected"):
            continue
        col = family_of(rec)
        key = (c["lines"], first.get(target) if first.get(target) is not None else math.inf)
        if col not in by_col or key < by_col[col][0]:
            by_col[col] = (key, target)
    if by_col:
        order = [*COLUMNS, *sorted(set(by_col) - set(COLUMNS))]  # a family outside the document's columns last
        col = min(by_col, key=lambda c: (by_col[c][0], order.index(c)))
        (lines, secs), target = by_col[col]
        others = ", ".join(f"{t(f'col_{c}')} {t('lines', n=by_col[c][0][0])}" for c in order if c in by_col and c != col)
        fig = f"`{target}`: {t('lines', n=lines)}, {d.fs(secs)}; {others}"
        flag = "agree" if col in DOC_QUICK else "disagree"
        rows.append([t("goal_quick"), t.claim("choose", "quick"), t(f"col_{col}"), fig, d.flag(flag)])
    else:
        rows.append([t("goal_quick"), t.claim("choose", "quick"), d.missing("frameworks", "codegen"), "—",
                     d.flag("unknown")])
    # research: eager by default on the default target + a custom loop ran
    dyn = _dynamic(d)
    by_train = Facts.by_target(d.f.exp("frameworks", "train"))
    scores = {}
    for col in COLUMNS:
        rec = dyn.get(DEFAULT_TARGET[col])
        if not rec or rec["status"] != "ok" or not by_train:
            continue
        eager = bool(rec["dynamic"].get("eager_by_default"))
        loops = [tg for tg, recs in by_train.items() if family_of(recs[0]) == col and api_of(recs[0]) == "loop"
                 and any(r["status"] == "ok" for r in recs)]
        scores[col] = (int(eager) + int(bool(loops)), eager, loops)
    if scores:
        best = max(s[0] for s in scores.values())
        winners = [c for c in COLUMNS if c in scores and scores[c][0] == best]
        fig = "; ".join(f"{t(f'col_{c}')}: {t('learning_cell', eager=t('yes') if scores[c][1] else t('no'), loop=', '.join(f'`{x}`' for x in scores[c][2]) or t('no'), score=scores[c][0])}" for c in winners)
        flag = "agree" if winners == ["torch"] else ("partly" if "torch" in winners else "disagree")
        rows.append([t("goal_research"), t.claim("choose", "research"), " + ".join(t(f"col_{c}") for c in winners),
                     fig, d.flag(flag)])
    else:
        rows.append([t("goal_research"), t.claim("choose", "research"), d.missing("frameworks", "dynamic"), "—",
                     d.flag("unknown")])
    # production: most deployable export paths
    ex = _export_summary(d.f.exp("frameworks", "export"))
    best_by_col: dict[str, tuple] = {}
    for tg, e in ex.items():
        if e["rec"]["status"] != "ok":
            continue
        col = family_of(e["rec"])
        key = (e["deployable"], e["mobile"])
        if col not in best_by_col or key > best_by_col[col][0]:
            best_by_col[col] = (key, tg, e)
    if best_by_col:
        top = max(v[0] for v in best_by_col.values())
        winners = [c for c in COLUMNS if c in best_by_col and best_by_col[c][0] == top]
        figs = []
        for c in winners:
            _, tg, e = best_by_col[c]
            ok = [p["path"] for p in e["paths"] if p.get("status") == "ok" and p.get("kind") in ("server", "mobile")]
            figs.append(f"`{tg}`: {len(ok)} ({', '.join(ok)})")
        flag = "agree" if winners == ["tf.keras"] else ("partly" if "tf.keras" in winners else "disagree")
        rows.append([t("goal_production"), t.claim("choose", "production"),
                     " + ".join(t(f"col_{c}") for c in winners), "; ".join(figs), d.flag(flag)])
    else:
        rows.append([t("goal_production"), t.claim("choose", "production"), d.missing("frameworks", "export"), "—",
                     d.flag("unknown")])
    rows.append([t("goal_llm"), t.claim("choose", "llm"), f"{t('cannot_measure')} ({t('cited')})", t("hf_source"),
                 d.flag("unknown")])
    # an extra measured row: fastest steady-state step
    train = d.f.exp("frameworks", "train")
    steps = {tg: median((r.get("timings") or {}).get("median_step_s") for r in recs if r["status"] == "ok")
             for tg, recs in Facts.by_target(train).items()}
    steps = {k: v for k, v in steps.items() if v is not None}
    if steps:
        tg = min(steps, key=lambda k: (steps[k], target_key(k)))
        rest = ", ".join(f"`{k}` {d.fs(v)}" for k, v in sorted(steps.items(), key=lambda kv: (kv[1], target_key(kv[0])))
                         if k != tg)
        col = family_of(Facts.by_target(train)[tg][0])
        rows.append([t("goal_speed"), "—", f"{t(f'col_{col}')} (`{tg}`)", f"`{tg}` {d.fs(steps[tg])}; {rest}", "—"])
    else:
        rows.append([t("goal_speed"), "—", d.missing("frameworks", "train"), "—", "—"])
    out = [table([t("col_goal"), f"{t('doc_says')}: {t('col_recommendation')}", t("measured_recommendation"),
                  t("deciding_figure"), t("agreement")], rows), ""]
    out += [f"**{t('notes')}**", "",
            *(f"{i}. {t.note(k)}" for i, k in enumerate(("choose_quick", "choose_research", "choose_production",
                                                          "choose_llm", "choose_speed"), 1)), ""]
    return out


# ----------------------------------------------------------------------------- table 3
def _probe(d: Doc) -> dict[str, dict]:
    out = {}
    for target, recs in Facts.by_target(d.f.exp("activations", "probe")).items():
        rec = recs[-1]
        if rec["status"] == "ok" and rec.get("activations"):
            out[target] = rec["activations"]
    return out


def _deep(d: Doc) -> dict[str, dict]:
    """Per hidden activation: medians over targets and seeds of the deep-MLP statistics."""
    groups: dict[str, list[dict]] = {}
    for r in d.f.exp("activations", "deep"):
        if r["status"] != "ok" or not r.get("train_stats"):
            continue
        act = r["spec"]["layers"][0]["activation"]["name"]
        groups.setdefault(act, []).append(r)
    out = {}
    for act in [a for a in ACTIVATION_ORDER if a in groups]:
        recs = groups[act]

        def share(r, when):
            units = r["train_stats"][when]["units"]
            return sum(u["dead"] for u in units) / max(1, sum(u["units"] for u in units))

        def norms(r, when):
            return r["train_stats"][when]["gradients"]["kernel_norms"]

        n_layers = min(len(norms(r, "init")) for r in recs)
        metric = next((k for k in ("val_accuracy", "val_mse") if k in (recs[0].get("final") or {})), "val_loss")
        out[act] = {
            "n": len(recs), "targets": sorted({r["target"] for r in recs}, key=target_key),
            "metric": metric, "value": median((r.get("final") or {}).get(metric) for r in recs),
            "dead_init": median(share(r, "init") for r in recs), "dead_final": median(share(r, "final") for r in recs),
            "g1_init": median(norms(r, "init")[0] for r in recs), "g1_final": median(norms(r, "final")[0] for r in recs),
            "glast_init": median(norms(r, "init")[n_layers - 1] for r in recs),
            "per_layer_init": [median(norms(r, "init")[i] for r in recs) for i in range(n_layers)],
            "method": recs[0]["train_stats"]["init"]["gradients"]["method"],
            "dataset": (recs[0].get("dataset") or {}).get("source"),
            "hidden_layers": len(recs[0]["train_stats"]["init"]["units"]),
        }
    return out


def _layer_winner(d: Doc, task: str) -> tuple[str, float] | None:
    """(output activation of the best output×loss pair on the task's first dataset, its median metric)."""
    grid = _grid(d)
    cells = [c for c in grid if c["task"] == task and c["hidden"] == "relu"]
    if not cells:
        return None
    ranked = _rank_pairs(cells)
    best = ranked[0]
    return best[0][0], best[2]


def activations(d: Doc) -> list[str]:
    t = d.t
    probe = _probe(d)
    deep = _deep(d)
    out: list[str] = []
    names = [a for a in ACTIVATION_ORDER]
    agg: dict[str, dict] = {}
    for a in names:
        vals = [p["by_name"][a] for p in probe.values() if a in p["by_name"]]
        if not vals:
            continue
        cost = {tg: p["by_name"][a]["cost"]["median_s"] / p["by_name"]["relu"]["cost"]["median_s"]
                for tg, p in probe.items() if a in p["by_name"] and "relu" in p["by_name"]}
        ys = [v["y"] for v in vals]
        dys = [v["dy"] for v in vals]
        x = next(iter(probe.values()))["x"]
        nz = [i for i, xv in enumerate(x) if xv != 0]
        dy_between = max((abs(a_[i] - b_[i]) for a_ in dys for b_ in dys for i in nz), default=0.0)
        y_between = max((abs(a_[i] - b_[i]) for a_ in ys for b_ in ys for i in range(len(x))), default=0.0)
        agg[a] = {
            "range": (median(v["range"][0] for v in vals), median(v["range"][1] for v in vals)),
            "max_d": median(v["max_derivative"] for v in vals), "max_d_at": median(v["max_derivative_at"] for v in vals),
            "d_m5": median(v["derivative_at"]["-5"] for v in vals), "d_5": median(v["derivative_at"]["5"] for v in vals),
            "jump": median(v["derivative_jump_at_0"] for v in vals),
            "mean": median(v["mean_on_normal"] for v in vals), "sem": median(v["sem_on_normal"] for v in vals),
            "cost": cost, "cost_median": median(cost.values()),
            "y_between": y_between, "dy_between": dy_between,
            "ref_y": max(v["reference"]["forward_max_abs"] for v in vals),
            "ref_dy": max(v["reference"]["derivative_max_abs"] for v in vals),
            "d0": {tg: p["by_name"][a]["derivative_at"]["0"] for tg, p in probe.items() if a in p["by_name"]},
            "d0_ref": vals[0]["reference"]["derivative_at_0"],
            "sum1": max((v.get("sum_minus_one_max") or 0.0) for v in vals),
            "frameworks": len(vals),
        }

    # -- the document's table, with measured evidence and flags
    rows = []
    relu_g = (deep.get("relu") or {}).get("g1_init")
    for a in names:
        m, dp = agg.get(a), deep.get(a)
        doc = ACTIVATION_DOC[a]
        if m is None:
            rows.append([d.act(a), doc["formula"], doc[d.lang], d.missing("activations", "probe"),
                         d.flag("unknown")])
            continue
        parts, flags = [], []
        lo, hi = m["range"]
        parts.append(f"{t('range')}: [{fnum(lo, 4)}, {fnum(hi, 4)}]")
        if a in ("sigmoid", "tanh"):
            parts.append(f"{t('max_f')} {fnum(m['max_d'])}, f′(±5) {fnum(m['d_5'])}")
        if a == "sigmoid":
            flags.append("agree" if lo >= 0 and hi <= 1 else "disagree")
        if a == "tanh":
            flags.append("agree" if lo >= -1 and hi <= 1 and lo < 0 < hi else "disagree")
            parts.append(f"{t('mean_normal')}: {fnum(m['mean'])} ± {fnum(m['sem'], 2)}"
                         + (f" (sigmoid {fnum(agg['sigmoid']['mean'])})" if "sigmoid" in agg else ""))
            flags.append("agree" if abs(m["mean"]) < 0.05 else "disagree")
        if a in ("sigmoid", "tanh"):
            vanish = m["d_5"] < 0.01
            if dp and relu_g:
                parts.append(f"{t('grad_first_init')}: {fnum(dp['g1_init'])} (ReLU {fnum(relu_g)})")
                vanish = vanish and (a != "sigmoid" or dp["g1_init"] < 0.1 * relu_g)
            flags.append("agree" if vanish else "disagree")
        if a == "relu":
            cheaper = [tg for tg in probe if all(probe[tg]["by_name"]["relu"]["cost"]["median_s"]
                                                 <= probe[tg]["by_name"][b]["cost"]["median_s"]
                                                 for b in names if b in probe[tg]["by_name"])]
            parts.append(t("cheapest", k=len(cheaper), n=len(probe)))
            flags.append("agree" if 2 * len(cheaper) > len(probe) else "partly" if cheaper else "disagree")
        if a in ("relu", "leaky_relu", "elu") and dp:
            label = t("dead_units") if a == "relu" else t("negative_units")
            parts.append(f"{label}: {100 * dp['dead_init']:.1f} % → {100 * dp['dead_final']:.1f} %")
        if a == "relu":
            flags.append("unknown" if not dp else "agree" if dp["dead_final"] > 0 else "disagree")
        if a == "leaky_relu":
            parts.append(f"f′(−5) = {fnum(m['d_m5'])} → {t('zero_grad_units')}: 0"
                         + (f" (ReLU: {100 * deep['relu']['dead_final']:.1f} %)" if "relu" in deep else ""))
            flags.append("agree" if m["d_m5"] > 0 else "disagree")
        if a == "elu":
            parts.append(f"{t('jump_0')}: {fnum(m['jump'])}" + (f" (ReLU {fnum(agg['relu']['jump'])})" if "relu" in agg
                                                                 else ""))
            parts.append(f"{t('cost_rel')}: {fratio(m['cost_median'])}")
            flags.append("agree" if "relu" in agg and m["jump"] < agg["relu"]["jump"] else "disagree")
            flags.append("agree" if (m["cost_median"] or 0) > 1 else "disagree")
        if a == "softmax":
            parts.append(f"{t('max_sum')} {fnum(m['sum1'])}")
            flags.append("agree" if m["sum1"] < 1e-5 else "disagree")
            win = _layer_winner(d, "multiclass")
            if win:
                parts.append(f"{t('best_multiclass')}: {d.act(win[0])} ({fnum(win[1], 4)})")
                flags.append("agree" if win[0] == "softmax" else "disagree")
            else:
                flags.append("unknown")
        rows.append([d.act(a), doc["formula"], doc[d.lang], "; ".join(parts), d.flag(combine(flags))])
    out += [table([t("col_name"), t("col_formula"), f"{t('doc_says')}: {t('col_features')}", t("measured"),
                   t("agreement")], rows), ""]

    # -- measured properties
    if agg:
        rows = []
        for a in names:
            m = agg.get(a)
            if not m:
                continue
            d0 = sorted(m["d0"].items(), key=lambda kv: target_key(kv[0]))
            same = len({round(v, 6) for _, v in d0}) == 1
            d0_txt = fnum(d0[0][1]) if same else ", ".join(f"`{k}` {fnum(v)}" for k, v in d0)
            rows.append([d.act(a), f"[{fnum(m['range'][0], 4)}, {fnum(m['range'][1], 4)}]",
                         f"{fnum(m['max_d'])} ({fnum(m['max_d_at'])})", f"{fnum(m['d_m5'])} / {fnum(m['d_5'])}",
                         fnum(m["jump"]), f"{fnum(m['mean'])} ± {fnum(m['sem'], 2)}", fratio(m["cost_median"]),
                         f"{fnum(m['y_between'], 2)} / {fnum(m['dy_between'], 2)}",
                         f"{fnum(m['ref_y'], 2)} / {fnum(m['ref_dy'], 2)}", f"{d0_txt} (numpy {fnum(m['d0_ref'])})"])
        out += [f"**{t('measured_properties')}** ({len(probe)}: {', '.join(f'`{k}`' for k in probe)})", "",
                table([t("activation"), t("range"), t("max_deriv"), t("deriv_5"), t("jump_0"), t("mean_normal"),
                       t("cost_rel"), t("delta_frameworks"), t("delta_reference"), t("deriv_at_0")], rows), ""]
        targets = list(probe)
        rows = [[d.act(a), *(fratio(agg[a]["cost"].get(tg)) for tg in targets)] for a in names if a in agg]
        rows.append([t("relu_abs"), *(d.fs(probe[tg]["by_name"]["relu"]["cost"]["median_s"]) for tg in targets)])
        out += [f"**{t('cost_table')}**", "", table([t("activation"), *(f"`{x}`" for x in targets)], rows,
                                                    ["l"] + ["r"] * len(targets)), ""]
    else:
        out += [d.missing("activations", "probe"), ""]

    # -- deep MLP
    if deep:
        first = next(iter(deep.values()))
        out += [f"**{t('deep_table', dataset=first['dataset'])}**", ""]
        rows = []
        for a, dp in deep.items():
            dead = f"{100 * dp['dead_init']:.1f} % → {100 * dp['dead_final']:.1f} %"
            rows.append([d.act(a), f"{fnum(dp['value'], 4)} ({dp['n']})", fnum(dp["g1_init"]),
                         fnum(dp["g1_final"]), fnum(dp["g1_init"] / dp["glast_init"] if dp["glast_init"] else None),
                         dead])
        out += [table([t("hidden_activation"), t("val_metric", metric=t("metric_" + first["metric"].removeprefix("val_"))),
                       t("grad_first_init"), t("grad_first_final"), t("grad_ratio"), t("negative_units")], rows), ""]
        norms = {d.act(a): dp["per_layer_init"] for a, dp in deep.items()}
        shares = {d.act(a): (dp["dead_init"], dp["dead_final"]) for a, dp in deep.items()
                  if a in ("relu", "leaky_relu", "elu")}
        out += [d.plot("gradient_norms", lambda p: plots.gradient_norms(p, norms, d.lang), t("grad_plot")), ""]
        if shares:
            out += [d.plot("dead_units", lambda p: plots.dead_units(p, shares, d.lang), t("dead_plot")), ""]
    else:
        out += [d.missing("activations", "deep"), ""]

    # -- plots of every activation, per framework
    if probe:
        x = next(iter(probe.values()))["x"]
        import numpy as np

        from .. import activations as ref_act
        from ..spec import Activation

        for a in names:
            curves = {tg: (p["by_name"][a]["y"], p["by_name"][a]["dy"]) for tg, p in probe.items() if a in p["by_name"]}
            if not curves:
                continue
            act = Activation(a, next(iter(probe.values()))["by_name"][a].get("params") or {})
            grid = np.zeros((len(x), 3))
            grid[:, 0] = x
            ref = (ref_act.forward(act, grid)[:, 0].tolist(), ref_act.derivative(act, grid)[:, 0].tolist())
            title = plot_text("softmax_title", d.lang) if a == "softmax" else d.act(a)
            out += [d.plot(f"activation_{a}", lambda p, c=curves, r=ref, n=title:
                           plots.activation(p, n, x, c, r, d.lang), t("activation_plot", name=d.act(a))), ""]

    method = next(iter(deep.values()))["method"] if deep else "—"
    notes = [t.note("act_probe"), t.note("act_cost"), t.note("act_deep", method=method), t.note("act_flags")]
    out += [f"**{t('notes')}**", ""] + [f"{i}. {n}" for i, n in enumerate(notes, 1)] + [""]
    return out


# ----------------------------------------------------------------------------- table 4
METRIC_OF = {"binary": ("val_accuracy", True), "multiclass": ("val_accuracy", True), "regression": ("val_mse", False)}
LOSS_SHORT = {"binary_crossentropy": "BCE", "categorical_crossentropy": "CE", "sparse_categorical_crossentropy": "CE",
              "mse": "MSE"}


def _grid(d: Doc) -> list[dict]:
    """One cell per (task, dataset, hidden, output, loss, target): the metric values over seeds."""
    cells: dict[tuple, dict] = {}
    for key in sorted(k for k in d.f.groups if k.startswith("layers:")):
        for r in d.f.groups[key]:
            s = r["spec"]
            task = s["task"]
            data = s["data"]
            dataset = data["name"] if data["source"] == "sklearn" else data["source"]
            hidden = s["layers"][0]["activation"]["name"]
            output = s["layers"][-1]["activation"]["name"]
            key = (task, dataset, hidden, output, s["loss"]["name"], r["target"])
            c = cells.setdefault(key, {"task": task, "dataset": dataset, "hidden": hidden, "output": output,
                                       "loss": s["loss"]["name"], "target": r["target"], "values": [], "runs": [],
                                       "failed": []})
            c["runs"].append(r["run_id"])
            metric, _ = METRIC_OF[task]
            v = (r.get("final") or {}).get(metric)
            if r["status"] == "ok" and v is not None and math.isfinite(v):
                c["values"].append(v)
            else:
                c["failed"].append(_short_error(r))
    out = []
    for key in sorted(cells, key=lambda k: (TASKS.index(k[0]), k[1], k[2], k[3], k[4], target_key(k[5]))):
        c = cells[key]
        c["median"] = median(c["values"])
        out.append(c)
    return out


def _pair(c: dict) -> tuple[str, str]:
    return c["output"], c["loss"]


def _pair_label(p: tuple[str, str], lang: str = "en") -> str:
    return f"{activation_name(p[0], lang)} + {LOSS_SHORT[p[1]]}"


def _rank(cells: list[dict], key: Callable[[dict], Any]) -> list[tuple[Any, float, float | None, int]]:
    """Mean rank of each key over the (dataset, target) contexts (ties share the mean rank), best first:
    [(key, mean rank, median metric over contexts, contexts)]."""
    if not cells:
        return []
    higher = METRIC_OF[cells[0]["task"]][1]
    contexts: dict[tuple, list[dict]] = {}
    for c in cells:
        if c["median"] is not None:
            contexts.setdefault((c["dataset"], c["target"]), []).append(c)
    ranks: dict[Any, list[float]] = {}
    values: dict[Any, list[float]] = {}
    for ctx in sorted(contexts):
        cs = contexts[ctx]
        if len(cs) < 2:  # nothing to rank against
            continue
        ordered = sorted(cs, key=lambda c: -c["median"] if higher else c["median"])
        for c in cs:
            better = sum(1 for o in ordered if (o["median"] > c["median"] if higher else o["median"] < c["median"]))
            same = sum(1 for o in ordered if o["median"] == c["median"])
            ranks.setdefault(key(c), []).append(better + (same + 1) / 2)
            values.setdefault(key(c), []).append(c["median"])
    out = [(k, statistics.mean(v), median(values[k]), len(v)) for k, v in ranks.items()]
    return sorted(out, key=lambda r: (r[1], str(r[0])))


def _rank_pairs(cells: list[dict]) -> list[tuple]:
    return _rank(cells, _pair)


def layers(d: Doc) -> list[str]:
    t = d.t
    grid = _grid(d)
    out: list[str] = []
    if not grid:
        rows = [[t(f"where_{w}"), t.claim("layers", w), d.missing("layers", "grid"), "—", d.flag("unknown")]
                for w in ("hidden", "binary", "multiclass", "regression")]
        return [table([t("col_where"), f"{t('doc_says')}: {t('col_which')}", t("measured"), t("margin"),
                       t("agreement")], rows), ""]
    rows = []
    # hidden layers: rank hidden activations (matched output) across every task, dataset and target
    hidden_cells = []
    for task in TASKS:
        task_cells = [c for c in grid if c["task"] == task]
        if not task_cells:
            continue
        matched = _rank_pairs([c for c in task_cells if c["hidden"] == "relu"])
        if not matched:
            continue
        best_pair = _matched_pair(task, [m[0] for m in matched])
        hidden_cells.append((task, [c for c in task_cells if _pair(c) == best_pair]))
    ranks: dict[str, list[float]] = {}
    counts: dict[str, int] = {}
    for task, cells in hidden_cells:
        for k, r, _, n in _rank(cells, lambda c: c["hidden"]):
            ranks.setdefault(k, []).append(r * n)
            counts[k] = counts.get(k, 0) + n
    if ranks:
        hidden_rank = sorted(((k, sum(v) / counts[k], counts[k]) for k, v in ranks.items()), key=lambda x: (x[1], x[0]))
        doc = set(DOC_LAYERS["hidden"])
        listed = [i for i, (h, _, _) in enumerate(hidden_rank) if h in doc]
        unlisted = [i for i, (h, _, _) in enumerate(hidden_rank) if h not in doc]
        if not listed:
            flag = "unknown"
        elif not unlisted or max(listed) < min(unlisted):
            flag = "agree"  # the document's activations rank above every other one
        elif hidden_rank[-1][0] not in doc:
            flag = "partly"  # the last is one the document leaves out, but another it leaves out is above its own
        else:
            flag = "disagree"  # one the document recommends ranks last
        measured = "; ".join(f"{i}. {d.act(h)} ({t('mean_rank', rank=f'{r:.2f}', n=n)})"
                             for i, (h, r, n) in enumerate(hidden_rank, 1))
        margin = f"{hidden_rank[1][1] - hidden_rank[0][1]:.2f} {t('rank')}" if len(hidden_rank) > 1 else "—"
        rows.append([t("where_hidden"), t.claim("layers", "hidden"), measured, margin, d.flag(flag)])
    else:
        rows.append([t("where_hidden"), t.claim("layers", "hidden"), d.missing("layers", "grid"), "—",
                     d.flag("unknown")])
    # output layers
    for task in TASKS:
        cells = [c for c in grid if c["task"] == task and c["hidden"] == "relu"]
        ranked = _rank_pairs(cells)
        if not ranked:
            rows.append([t(f"where_{task}"), t.claim("layers", task), d.missing("layers", "grid"), "—",
                         d.flag("unknown")])
            continue
        best = ranked[0][0]
        metric, higher = METRIC_OF[task]
        label = t(f"metric_{metric.removeprefix('val_')}")
        measured = "; ".join(f"{i}. {d.pair(k)} ({t('rank')} {r:.2f}, {label} {fnum(v, 4)})"
                             for i, (k, r, v, _) in enumerate(ranked, 1))
        margins = []
        for dataset in sorted({c["dataset"] for c in cells}):
            dc = [c for c in cells if c["dataset"] == dataset and c["median"] is not None]
            win = median(c["median"] for c in dc if _pair(c) == best)
            others = {}
            for c in dc:
                if c["output"] != best[0]:
                    others.setdefault(_pair(c), []).append(c["median"])
            if win is None or not others:
                continue
            pick = max if higher else min
            runner = pick(others, key=lambda p: (median(others[p]), _pair_label(p)))
            rv = median(others[runner])
            diff = (win - rv) if higher else (rv - win)
            gap = f"{100 * diff:+.1f} {t('pp')}" if metric == "val_accuracy" else f"{diff:+.3g} MSE"
            margins.append(f"{d.dataset(dataset)}: {fnum(win, 4)} {t('vs')} {d.pair(runner)} {fnum(rv, 4)} ({gap})")
        winner_act = best[0]
        close = ranked[1][1] == ranked[0][1] if len(ranked) > 1 else False
        flag = ("partly" if close and ranked[1][0][0] != winner_act else
                "agree" if winner_act == DOC_LAYERS[task] else "disagree")
        rows.append([t(f"where_{task}"), t.claim("layers", task), measured, "<br>".join(margins) or "—",
                     d.flag(flag)])
    out += [table([t("col_where"), f"{t('doc_says')}: {t('col_which')}", t("measured"), t("margin"),
                   t("agreement")], rows), ""]

    # -- the whole grid
    targets = sorted({c["target"] for c in grid}, key=target_key)
    for task in TASKS:
        cells = [c for c in grid if c["task"] == task]
        if not cells:
            continue
        metric = METRIC_OF[task][0].removeprefix("val_")
        lookup = {(c["dataset"], c["hidden"], c["output"], c["loss"], c["target"]): c for c in cells}
        keys = sorted({(c["dataset"], c["hidden"], c["output"], c["loss"]) for c in cells},
                      key=lambda k: (k[0], k[1] != "relu", k[1], k[2], k[3]))
        rows = []
        for k in keys:
            vals = []
            for tg in targets:
                c = lookup.get((*k, tg))
                if c is None:
                    vals.append("—")
                elif c["median"] is None:
                    vals.append(t("failed", error=c["failed"][0] if c["failed"] else "?"))
                else:
                    vals.append(f"{fnum(c['median'], 4)} ({len(c['values'])})")
            rows.append([d.dataset(k[0]), d.act(k[1]), d.pair((k[2], k[3])), *vals])
        out += [f"**{t('task')}: {t('task_' + task)}** — {t('grid_table', metric=t('metric_' + metric))}", "",
                table([t("dataset"), t("hidden"), t("output_loss"), *(f"`{x}`" for x in targets)], rows,
                      ["l", "l", "l"] + ["r"] * len(targets)), ""]
    panels = {}
    by_task = {task: sorted({c["dataset"] for c in grid if c["task"] == task}, key=lambda x: (x == "synthetic", x))
               for task in TASKS}
    for row in range(max((len(v) for v in by_task.values()), default=0)):
        for task in TASKS:
            if row >= len(by_task[task]):
                continue
            dataset = by_task[task][row]
            cells = [c for c in grid if c["task"] == task and c["dataset"] == dataset and c["hidden"] == "relu"]
            vals: dict[str, list[float]] = {}
            for c in cells:
                if c["median"] is not None:
                    vals.setdefault(d.pair(_pair(c)), []).append(c["median"])
            if vals:
                panels[f"{t('task_' + task)} / {d.dataset(dataset)}"] = (METRIC_OF[task][0], {k: median(v) for k, v in vals.items()})
    if panels:
        out += [d.plot("layers_outputs", lambda p: plots.grid_bars(p, panels, lang=d.lang), t("grid_plot")), ""]
    notes = [t.note("lay_grid", arch=_architecture(d), targets=", ".join(f"`{x}`" for x in targets)),
             t.note("lay_rank"), t.note("lay_flags")]
    out += [f"**{t('notes')}**", ""] + [f"{i}. {n}" for i, n in enumerate(notes, 1)] + [""]
    return out


def _architecture(d: Doc) -> str:
    recs = next((d.f.groups[k] for k in sorted(d.f.groups) if k.startswith("layers:")), [])
    if not recs:
        return "—"
    s = recs[0]["spec"]
    widths = [lay["units"] for lay in s["layers"][:-1] if lay["type"] == "dense"]
    opt, tr = s["optimizer"], s["training"]
    if d.lang == "ru":
        return (f"скрытые слои {widths}, {opt['name']} lr {opt['learning_rate']}, эпох {tr['epochs']}, "
                f"батч {tr['batch_size']}, стандартизованные признаки (и цели регрессии)")
    return (f"hidden dense layers {widths}, {opt['name']} lr {opt['learning_rate']}, {tr['epochs']} epochs, "
            f"batch {tr['batch_size']}, standardised features (and regression targets)")


def _matched_pair(task: str, ranked_pairs: list[tuple[str, str]]) -> tuple[str, str]:
    """The task's matched output × loss pair (the first pair the study lists with this output)."""
    want = {"binary": ("sigmoid", "binary_crossentropy"), "multiclass": ("softmax", None),
            "regression": ("linear", "mse")}[task]
    for p in ranked_pairs:
        if p[0] == want[0] and (want[1] is None and p[1].endswith("crossentropy") or p[1] == want[1]):
            return p
    return ranked_pairs[0]


# ----------------------------------------------------------------------------- traceability
def trace(d: Doc, command: str | None, db: str | None) -> list[str]:
    t = d.t
    out = [f"## {t('runs')}", ""]
    rows = []
    for key in sorted(d.f.groups):
        recs = d.f.groups[key]
        statuses: dict[str, int] = {}
        for r in recs:
            statuses[r["status"]] = statuses.get(r["status"], 0) + 1
        targets = sorted({r["target"] for r in recs}, key=target_key)
        rows.append([f"`study:{key}`", ", ".join(f"`{x}`" for x in targets),
                     ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())),
                     " ".join(sorted(r["run_id"] for r in recs))])
    if rows:
        out += [table([t("experiment"), t("target"), t("statuses"), t("run_ids")], rows), ""]
    else:
        out += ["—", ""]
    out += [f"## {t('environment')}", ""]
    versions: dict[str, set] = {}
    hosts, threads = set(), set()
    for r in d.f.all():
        for k, v in (r.get("versions") or {}).items():
            versions.setdefault(k, set()).add(v or "not installed")
        h = r.get("host") or {}
        hosts.add(f"{h.get('cpu')}, {t('cores', n=h.get('cores'))}, {h.get('memory_gib')} {unit('GiB', d.lang)}, "
                  f"{h.get('os')}, "
                  f"Python {h.get('python')}")
        if r.get("threads") is not None:
            threads.add(r["threads"])
    if versions:
        out += [table([t("package"), t("version")], [[k, ", ".join(sorted(v))] for k, v in sorted(versions.items())]),
                ""]
    for h in sorted(hosts):
        out.append(f"{t('host')}: {h}; {t('threads')}: {sorted(threads)}")
    out += ["", f"## {t('regenerate')}", "", t("regenerate_text"), ""]
    db_arg = f" --db {db}" if db else ""
    for s in STUDIES:
        out.append(f"    frameworkbench study {s}{db_arg}")
    if command:
        out.append(f"    {command}")
    out.append("")
    return out


# ----------------------------------------------------------------------------- the document
def render(records: list[dict], lang: str = "en", out_dir: Path | None = None, command: str | None = None,
           db: str | None = None) -> tuple[str, list[str]]:
    """The markdown document and the plot files it references (drawn into ``out_dir`` if given)."""
    d = Doc(Facts(records), lang, out_dir)
    t = d.t
    flags = ", ".join(d.flag(k) for k in ("agree", "partly", "disagree", "unknown"))
    parts = [f"# {t('title')}", "", t("intro", flags=flags), ""]
    spec = next((r["spec"] for r in d.f.exp("frameworks", "train")), None)
    if spec:
        layers_txt = " → ".join(f"Dense({lay['units']}, {lay['activation']['name']})" for lay in spec["layers"]
                                if lay["type"] == "dense")
        ds = next((r.get("dataset") for r in d.f.exp("frameworks", "train") if r.get("dataset")), None) or {}
        parts += [f"{t('spec_line')}: " + t("spec_text", inp=spec["input_shape"], layers=layers_txt,
                                            loss=spec["loss"]["name"], opt=spec["optimizer"]["name"],
                                            lr=spec["optimizer"]["learning_rate"], bs=spec["training"]["batch_size"],
                                            epochs=spec["training"]["epochs"], source=ds.get("source", "?"),
                                            n_train=ds.get("n_train", "?"), n_val=ds.get("n_val", "?")), ""]
    parts += [f"## {t('comparison')}", ""] + comparison(d)
    parts += [f"## {t('choose')}", ""] + choose(d)
    parts += [f"## {t('activations')}", ""] + activations(d)
    parts += [f"## {t('layers')}", ""] + layers(d)
    parts += trace(d, command, db)
    return "\n".join(parts).rstrip("\n") + "\n", d.plot_files


def write_document(records: list[dict], out_dir: Path, lang: str = "en", command: str | None = None,
                   db: str | None = None) -> list[Path]:
    """Write ``document.<lang>.md`` and its plots (``plots/*.png``) into ``out_dir``; return the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    text, plot_files = render(records, lang, out_dir, command, db)
    path = out_dir / f"document.{lang}.md"
    path.write_text(text, encoding="utf-8")
    return [path, *(out_dir / p for p in plot_files)]
