"""The seed document's claims as data: its three columns and one entry per cell it states.

Each claim holds the document's text in both languages and the value the verdicts test it
against. The columns say which registry family fills each one and which target stands for it
where one is needed; every other fact about targets comes from ``frameworkbench.targets``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping


@dataclass(frozen=True)
class Column:
    """A column of the document's tables: its label key (``col_<key>``), the target family that fills it,
    the target that stands for it, and notes shown when no target of an API level exists."""

    key: str
    family: str
    target: str
    missing_api: Mapping[str, str] = field(default_factory=dict)  # API level -> i18n key of the note


COLUMNS = (
    Column("tf.keras", "tf.keras", "tf.keras"),
    Column("keras", "keras", "keras:tensorflow"),  # Keras 3's default backend is tensorflow
    Column("torch", "torch", "torch", {"fit": "no_fit_torch"}),
)


@dataclass(frozen=True)
class Claim:
    """One cell of the document: its text per language and the value it claims (None: cited only)."""

    en: str
    ru: str
    value: Any = None

    def text(self, lang: str) -> str:
        return getattr(self, lang)


def _same(text: str, value: Any = None) -> Claim:
    return Claim(text, text, value)


# value of each row: api — the API levels; ease — 👍 count; production — ✅ count (❌ = 0); learning — ✅ count;
# dynamic — eager by default, whether eager must also work when asked, whether eager on another target than the
# column's is a partial match; choose — the column(s) recommended (llm: the columns HuggingFace's library trains in);
# layers — the activation(s) named.
CLAIMS: dict[tuple[str, str], Claim] = {
    ("api", "tf.keras"): Claim("High + low", "Высокий + низкий", frozenset({"fit", "loop"})),
    ("api", "keras"): Claim("High only", "Только высокий", frozenset({"fit"})),
    ("api", "torch"): Claim("High + low", "Высокий + низкий", frozenset({"fit", "loop"})),
    ("ease", "tf.keras"): _same("👍", 1),
    ("ease", "keras"): _same("👍👍", 2),
    ("ease", "torch"): Claim("👍 (more control)", "👍 (больше контроля)", 1),
    ("production", "tf.keras"): _same("✅✅✅", 3),
    ("production", "keras"): _same("❌", 0),
    ("production", "torch"): _same("✅", 1),
    ("learning", "tf.keras"): _same("✅", 1),
    ("learning", "keras"): _same("✅", 1),
    ("learning", "torch"): _same("✅✅", 2),
    ("dynamic", "tf.keras"): Claim("Not by default, but possible", "По умолчанию — нет, но можно",
                                   {"eager": False, "eager_works": True}),
    ("dynamic", "keras"): Claim("Yes", "Да", {"eager": True, "other_target_partly": True}),
    ("dynamic", "torch"): Claim("✅ by default", "✅ по умолчанию", {"eager": True}),
    ("hf", "tf.keras"): _same("❌"),
    ("hf", "keras"): _same("❌"),
    ("hf", "torch"): _same("✅"),
    ("choose", "quick"): Claim("Keras or tf.keras", "Keras или tf.keras", ("tf.keras", "keras")),
    ("choose", "research"): _same("PyTorch", ("torch",)),
    ("choose", "production"): _same("TensorFlow", ("tf.keras",)),
    ("choose", "llm"): _same("PyTorch + HuggingFace", ("torch",)),
    ("layers", "hidden"): _same("ReLU, LeakyReLU, Tanh", ("relu", "leaky_relu", "tanh")),
    ("layers", "binary"): _same("Sigmoid", "sigmoid"),
    ("layers", "multiclass"): _same("Softmax", "softmax"),
    ("layers", "regression"): Claim("None or linear", "Нет функции или линейная", "linear"),
}


def value(row: str, col: str) -> Any:
    """The value the document claims in a cell."""
    return CLAIMS[(row, col)].value


def by_column(row: str) -> dict[str, Any]:
    """A row's claimed values keyed by column."""
    return {c.key: value(row, c.key) for c in COLUMNS}
