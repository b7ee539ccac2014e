"""The target registry: one place that maps a target name to its adapter.

Targets are declared by the adapter packages themselves: every package under
``frameworkbench.adapters`` whose light ``__init__`` (no framework import) defines
``TARGETS = (Target(...), ...)`` is discovered with pkgutil when the registry is first
read. Adapters and code generators are named as ``"module:attribute"`` strings;
adapters are imported only inside the worker process, so the core never imports a
framework. Availability is checked with ``importlib.util.find_spec`` (no import).
"""
from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import pkgutil
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
    default: bool = False  # run without --targets (one target per framework and Keras backend)
    order: int = 1000  # position in the registry: the CLI's, studies' and report's target order
    codegen: str = ""  # "module:function" of its code generator (frameworkbench.codegen's contract)

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


ADAPTERS = "frameworkbench.adapters"


def discover() -> dict[str, Target]:
    """Every target declared by an adapter package (``<package>.TARGETS``), by ``order`` then name.

    Packages whose name starts with ``_`` hold shared code and declare none."""
    root = importlib.import_module(ADAPTERS)
    found: list[Target] = []
    for info in pkgutil.iter_modules(root.__path__):
        if info.ispkg and not info.name.startswith("_"):
            found += getattr(importlib.import_module(f"{ADAPTERS}.{info.name}"), "TARGETS", ())
    names = [t.name for t in found]
    if len(set(names)) != len(names):
        raise RuntimeError(f"target declared twice: {sorted(n for n in set(names) if names.count(n) > 1)}")
    return {t.name: t for t in sorted(found, key=lambda t: (t.order, t.name))}


def registry() -> dict[str, Target]:
    """:data:`TARGETS`, discovered once."""
    if "TARGETS" not in globals():
        targets = discover()
        globals().update(TARGETS=targets, DEFAULT_TARGETS=tuple(n for n, t in targets.items() if t.default))
    return globals()["TARGETS"]


def __getattr__(name: str):
    """``TARGETS`` and ``DEFAULT_TARGETS`` (the ``default=True`` targets) are discovered on first use:
    the adapter packages import :class:`Target` from this module, so they cannot be read while it loads."""
    if name in ("TARGETS", "DEFAULT_TARGETS"):
        registry()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def get_target(name: str, *, option: str = "--targets") -> Target:
    """Look a target up by name; a miss lists the known names (messages name ``option``)."""
    targets = registry()
    try:
        return targets[name]
    except (KeyError, TypeError):
        raise SpecError([unknown(option, "target", name, targets)]) from None


def parse_targets(text: str | None, *, option: str = "--targets") -> list[Target]:
    """Targets from a comma-separated list (``None``: DEFAULT_TARGETS; ``all``: every registered target).

    Messages name ``option`` (the API passes ``"targets"``)."""
    targets = registry()
    if not text:
        return [targets[n] for n in globals()["DEFAULT_TARGETS"]]
    if text == "all":
        return list(targets.values())
    names = [t.strip() for t in text.split(",") if t.strip()]
    if not names:
        raise SpecError([unknown(option, "target", text, targets)])
    problems, out = [], []
    for n in names:
        try:
            out.append(get_target(n, option=option))
        except SpecError as e:
            problems += e.problems
    if problems:
        raise SpecError(problems)
    return out
