"""The target registry: one place that maps a target name to its adapter.

Adapters are named as ``"module:Class"`` strings and imported only inside the
worker process, so the core never imports a framework. Availability is
checked with ``importlib.util.find_spec`` (no import).
"""
from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
from dataclasses import dataclass, field

from .spec import SpecError, unknown


@dataclass(frozen=True)
class Target:
    """A runnable target: adapter class path, the process env it needs, the packages it uses."""

    name: str
    adapter: str
    modules: tuple[str, ...]  # importable modules it needs
    packages: tuple[str, ...]  # distributions whose versions are recorded
    env: dict = field(default_factory=dict)  # set before any framework import
    family: str = ""  # column in the document's tables: tf.keras, keras, torch
    backend: str | None = None
    api: str = "fit"  # API level the training uses: "fit" (high-level) or "loop" (a custom training loop)
    extras: tuple[str, ...] = ()  # pyproject optional-dependency groups that install it

    def install_hint(self) -> str:
        """The pip command that installs this target's packages."""
        return f"pip install 'frameworkbench[{','.join(self.extras)}]'"

    def missing_modules(self) -> list[str]:
        out = []
        for m in self.modules:
            try:
                if importlib.util.find_spec(m) is None:
                    out.append(m)
            except (ImportError, ValueError):
                out.append(m)
        return out

    def is_installed(self) -> bool:
        return not self.missing_modules()

    def versions(self) -> dict[str, str | None]:
        return {p: package_version(p) for p in self.packages}

    def load_adapter(self):
        """Import and return the adapter class (imports the framework: worker only)."""
        mod, _, cls = self.adapter.partition(":")
        return getattr(importlib.import_module(mod), cls)


def package_version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


_A = "frameworkbench.adapters"
TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target("tf.keras", f"{_A}.tf_keras:TfKerasAdapter", ("tensorflow", "tf_keras"), ("tensorflow", "tf-keras"),
               {"TF_USE_LEGACY_KERAS": "1"}, family="tf.keras", backend="tensorflow", extras=("tensorflow",)),
        Target("keras:tensorflow", f"{_A}.keras3:Keras3Adapter", ("keras", "tensorflow"), ("keras", "tensorflow"),
               {"KERAS_BACKEND": "tensorflow", "TF_USE_LEGACY_KERAS": "0"}, family="keras", backend="tensorflow",
               extras=("keras", "tensorflow")),
        Target("keras:jax", f"{_A}.keras3:Keras3Adapter", ("keras", "jax"), ("keras", "jax", "jaxlib"),
               {"KERAS_BACKEND": "jax"}, family="keras", backend="jax", extras=("keras", "jax")),
        Target("keras:torch", f"{_A}.keras3:Keras3Adapter", ("keras", "torch"), ("keras", "torch"),
               {"KERAS_BACKEND": "torch"}, family="keras", backend="torch", extras=("keras", "torch")),
        Target("torch", f"{_A}.torch:TorchAdapter", ("torch",), ("torch",), {}, family="torch", backend="torch",
               api="loop", extras=("torch",)),
        Target("flax", f"{_A}.flax:FlaxAdapter", ("flax", "optax", "jax"), ("flax", "optax", "jax", "jaxlib"), {},
               family="flax", backend="jax", api="loop", extras=("flax",)),
        # Low-level variants: the same framework's model trained by a hand-written loop.
        Target("tf:gradienttape", f"{_A}.tf_tape:TfGradientTapeAdapter", ("tensorflow", "tf_keras"),
               ("tensorflow", "tf-keras"), {"TF_USE_LEGACY_KERAS": "1"}, family="tf.keras", backend="tensorflow",
               api="loop", extras=("tensorflow",)),
        Target("keras:jax:stateless", f"{_A}.keras_stateless:KerasStatelessAdapter", ("keras", "jax"),
               ("keras", "jax", "jaxlib"), {"KERAS_BACKEND": "jax"}, family="keras", backend="jax", api="loop",
               extras=("keras", "jax")),
    )
}
# What `run` uses without --targets: one target per framework and Keras backend (`all` adds the variants).
DEFAULT_TARGETS = ("tf.keras", "keras:tensorflow", "keras:jax", "keras:torch", "torch")


def get_target(name: str, *, option: str = "--targets") -> Target:
    """Look a target up by name; a miss lists the known names (messages name ``option``)."""
    try:
        return TARGETS[name]
    except (KeyError, TypeError):
        raise SpecError([unknown(option, "target", name, TARGETS)]) from None


def parse_targets(text: str | None, *, option: str = "--targets") -> list[Target]:
    """Targets from a comma-separated list (``None``: DEFAULT_TARGETS; ``all``: every registered target).

    Messages name ``option`` (the API passes ``"targets"``)."""
    if not text:
        return [TARGETS[n] for n in DEFAULT_TARGETS]
    if text == "all":
        return list(TARGETS.values())
    names = [t.strip() for t in text.split(",") if t.strip()]
    if not names:
        raise SpecError([unknown(option, "target", text, TARGETS)])
    problems, out = [], []
    for n in names:
        try:
            out.append(get_target(n, option=option))
        except SpecError as e:
            problems += e.problems
    if problems:
        raise SpecError(problems)
    return out
