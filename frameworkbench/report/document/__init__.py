"""The seed document's four tables rebuilt from stored study records, in English or Russian.

Input: run records from the results database (``Store.records()``), nothing else. Records of
the studies in ``specs/studies`` are found by their spec names (``study:<study>:<experiment>
[:<variant>]``); what a run varied is read from its stored spec snapshot. For every spec,
target and seed the newest record of the newest spec version counts (a rerun supersedes).

Every measured cell shows its figures, then the document's claim and a flag from an explicit
rule (stated in the notes under each table). A cell without data says why. The same records
give the same markdown, byte for byte: no clocks, every ordering explicit.

Three steps: ``facts`` (and ``grid``) read the records, ``verdicts`` compare them with the claims in
``claims``, and one module per table renders the localised markdown and its plots.
"""
from __future__ import annotations

from pathlib import Path

from .activations import activations
from .choose import choose
from .claims import CLAIMS, COLUMNS, Claim, Column
from .comparison import comparison
from .doc import PLOTS_DIR, Doc
from .facts import ACTIVATION_ORDER, Facts, target_key, train_spec
from .fmt import _balanced, fbytes, fnum, fratio, fs, short_error
from .layers import layers
from .trace import STUDIES, trace

__all__ = ["ACTIVATION_ORDER", "CLAIMS", "COLUMNS", "PLOTS_DIR", "STUDIES", "Claim", "Column", "Doc", "Facts",
           "_balanced", "fbytes", "fnum", "fratio", "fs", "render", "short_error", "target_key", "write_document"]


def _spec_line(d: Doc) -> list[str]:
    s = train_spec(d.f)
    if not s:
        return []
    layers_txt = " → ".join(f"Dense({units}, {act})" for units, act in s.pop("dense"))
    return [f"{d.t('spec_line')}: " + d.t("spec_text", layers=layers_txt, **s), ""]


def render(records: list[dict], lang: str = "en", out_dir: Path | None = None, command: str | None = None,
           db: str | None = None) -> tuple[str, list[str]]:
    """The markdown document and the plot files it references (drawn into ``out_dir`` if given)."""
    d = Doc(Facts(records), lang, out_dir)
    t = d.t
    flags = ", ".join(d.flag(k) for k in ("agree", "partly", "disagree", "unknown"))
    parts = [f"# {t('title')}", "", t("intro", flags=flags), ""] + _spec_line(d)
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
