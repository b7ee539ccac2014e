"""Table 2's language-model row, measured: the libraries each framework has (``lm-check``) and the tiny
transformer spec on every target; the document's row stays beside it, cited with its source."""
from __future__ import annotations

from ..i18n import unit
from ..markdown import table
from . import facts as F
from . import verdicts
from .claims import COLUMNS, value
from .comparison import label
from .doc import Doc
from .fmt import fnum

HF_LIBRARY = "transformers"  # HuggingFace's model library: the one the document's "HuggingFace" means


def _column_order(families: set[str]) -> list[str]:
    """Families in the document's column order, any other family after them by name."""
    known = [c.family for c in COLUMNS if c.family in families]
    return known + sorted(families - set(known))


def _key(family: str) -> str:
    return next((c.key for c in COLUMNS if c.family == family), family)


def _library_figure(d: Doc, library: str, checks: list[F.LibraryCheck]) -> str:
    """``transformers 5.x: ✓ `torch` 12 ms (one training step, 22050 parameters); ✗ no classes: `flax```."""
    t = d.t
    versions = sorted({c.version for c in checks if c.version})
    done = [c for c in checks if c.status == "ok"]
    parts = []
    if done:
        params = ", ".join(str(p) for p in sorted({c.params for c in done if c.params is not None}))
        parts.append(f"{t('ok')} " + ", ".join(f"`{c.target}` {d.fs(c.step_s)}" for c in done)
                     + f" ({t('lm_step_params', params=params or '—')})")
    for status in ("unsupported", "skipped", "failed", "timeout"):
        bad = [f"`{c.target}`" for c in checks if c.status == status]
        if bad:
            parts.append(f"{t('fail_mark')} {t(f'lm_{status}')}: {', '.join(bad)}")
    return f"`{library}` {', '.join(versions) or '—'}: " + "; ".join(parts)


def _transformer_figure(d: Doc, runs: dict[str, F.TransformerRuns]) -> str:
    t = d.t
    if not runs:
        return t("not_measured", why=t("no_transformer_runs", name=F.TRANSFORMER_SPEC))
    n = len(runs)
    trained = sum(1 for r in runs.values() if r.ok_runs)
    same = sum(1 for r in runs.values() if r.parity == "same")
    checked = sum(1 for r in runs.values() if r.parity is not None)
    steps = {tg: r.median_step_s for tg, r in runs.items() if r.median_step_s is not None}
    fastest = min(steps, key=lambda k: (steps[k], F.target_key(k))) if steps else None
    text = t("lm_transformer", name=F.TRANSFORMER_SPEC, trained=trained, n=n) + ", " + (
        t("lm_parity_same", same=same, checked=checked) if checked else t("lm_no_parity", name=F.TRANSFORMER_SPEC))
    return text + (f"; {t('lm_fastest')} `{fastest}` {d.fs(steps[fastest])}" if fastest else "")


def measured_row(d: Doc) -> list[str]:
    """The measured row: the columns HuggingFace's library trains a model in, with the figures behind it."""
    t = d.t
    checks = F.library_checks(d.f)
    by_library: dict[str, list[F.LibraryCheck]] = {}
    for c in checks.values():
        by_library.setdefault(c.library or "—", []).append(c)
    hf = by_library.get(HF_LIBRARY, [])
    won = _column_order({c.family for c in hf if c.status == "ok"})
    hf_first = sorted(by_library.items(), key=lambda kv: kv[0] != HF_LIBRARY)
    figures = [_library_figure(d, lib, cs) for lib, cs in hf_first]
    figures.append(_transformer_figure(d, F.transformer_runs(d.f)))
    if not checks:
        measured = t("not_measured", why=t("no_lm_runs", name=F.LM_CHECK))
    elif won:
        versions = ", ".join(sorted({c.version for c in hf if c.status == "ok" and c.version}))
        measured = " + ".join(label(d, fam) for fam in won) + f" + HuggingFace `{HF_LIBRARY}` {versions}"
    else:
        measured = t("lm_nowhere", library=HF_LIBRARY)
    flag = verdicts.library_support(bool(hf), [_key(f) for f in won], value("choose", "llm"))
    return [t("goal_llm"), d.claim("choose", "llm"), measured, "<br>".join(figures), d.flag(flag)]


def cited_row(d: Doc) -> list[str]:
    """The document's row as it states it, with its public source."""
    t = d.t
    return [f"{t('goal_llm')} ({t('cited_short')})", d.claim("choose", "llm"), t("cited"), t("hf_source"), "—"]


def details(d: Doc) -> list[str]:
    """The two tables behind the row: the library check per target and the tiny transformer per target."""
    t = d.t
    out = [f"### {t('lm_details')}", ""]
    checks = F.library_checks(d.f)
    if checks:
        out += [t("lm_check_table", name=F.LM_CHECK), ""]
        rows = [[f"`{c.target}`", f"`{c.library}` {c.version or ''}".strip() if c.library else "—",
                 t("ok") if c.status == "ok" else t(f"lm_{c.status}"),
                 f"`{c.model}`" if c.model else "—", "—" if c.params is None else str(c.params), d.fs(c.step_s),
                 "—" if c.loss_before is None else f"{fnum(c.loss_before, 4)} → {fnum(c.loss_after, 4)}",
                 c.error or "—"] for c in checks.values()]
        out += [table([t("target"), t("lm_library"), t("lm_status"), t("lm_model"), t("lm_params"), t("lm_step"),
                       t("lm_loss"), t("lm_reason")], rows, ["l", "l", "l", "l", "r", "r", "r", "l"]), ""]
    else:
        out += [t("not_measured", why=t("no_lm_runs", name=F.LM_CHECK)), ""]
    runs = F.transformer_runs(d.f)
    if runs:
        out += [t("lm_transformer_table", name=F.TRANSFORMER_SPEC), ""]
        rows = []
        for r in runs.values():
            mib = unit("MiB", d.lang)
            memory = [f"RSS {fnum(r.peak_rss_mb, 4)} {mib}"] if r.peak_rss_mb is not None else []
            if r.device_peak_mb is not None:
                memory.append(f"{t('lm_device')} {fnum(r.device_peak_mb, 4)} {mib}")
            parity = r.parity or (t("failed", error=r.parity_error) if r.parity_error else "—")
            rows.append([f"`{r.target}`", f"{r.ok_runs}/{r.runs}", "—" if r.params is None else str(r.params),
                         d.fs(r.median_step_s), ", ".join(memory) or "—", parity, r.error or "—"])
        out += [table([t("target"), t("col_ok"), t("lm_params"), t("col_median_step"), t("lm_memory"),
                       t("lm_parity"), t("lm_reason")], rows, ["l", "r", "r", "r", "r", "l", "l"]), ""]
    else:
        out += [t("not_measured", why=t("no_transformer_runs", name=F.TRANSFORMER_SPEC)), ""]
    return out
