"""Rendering state of the document: language, facts, where plots go, and the cell helpers every table uses."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

from ..i18n import Lang, activation_name
from .claims import CLAIMS
from .facts import Facts
from .fmt import fs
from .grid import pair_label

PLOTS_DIR = "plots"


class Doc:
    """Language, facts and plot directory of one rendering; collects the plot files it references."""

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
        return pair_label(p, self.lang)

    def dataset(self, name: str) -> str:
        """A dataset's display name: ``synthetic`` is translated, sklearn names are kept."""
        return self.t("dataset_synthetic") if name == "synthetic" else name

    def claim(self, row: str, col: str) -> str:
        """The document's text of a cell in this language."""
        return CLAIMS[(row, col)].text(self.lang)

    def flag(self, kind: str) -> str:
        return self.t(f"flag_{kind}")

    def with_claim(self, measured: str, row: str, col: str, flag: str) -> str:
        """A measured cell followed by the document's claim and the verdict."""
        return f"{measured}<br>*{self.t('doc')}:* {self.claim(row, col)} → {self.flag(flag)}"

    def missing(self, study: str, experiment: str) -> str:
        return self.t("not_measured", why=self.t("no_runs", name=f"study:{study}:{experiment}", study=study))

    def notes(self, notes: Sequence[str]) -> list[str]:
        """The numbered notes under a table."""
        return [f"**{self.t('notes')}**", ""] + [f"{i}. {n}" for i, n in enumerate(notes, 1)] + [""]

    def plot(self, name: str, draw: Callable[[Path], Any], caption: str) -> str:
        """Draw a PNG into <out>/plots/ and return the markdown that shows it: ``plots/<name>.png`` in
        English, ``plots/<name>.<lang>.png`` in any other language (drawn with that language's labels)."""
        rel = f"{PLOTS_DIR}/{name}.png" if self.lang == "en" else f"{PLOTS_DIR}/{name}.{self.lang}.png"
        if self.out_dir is not None:
            draw(self.out_dir / rel)
        self.plot_files.append(rel)
        return f"![{caption}]({rel})\n\n*{caption}*"
