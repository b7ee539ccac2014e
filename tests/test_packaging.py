"""The top-level adapters/ folder installs as frameworkbench.adapters, never as a bare `adapters`."""
import importlib.util
from pathlib import Path

from conftest import ROOT


def test_adapters_resolve_inside_the_package():
    spec = importlib.util.find_spec("frameworkbench.adapters")
    assert spec is not None and Path(spec.origin).resolve() == (ROOT / "adapters" / "__init__.py").resolve() or \
        "site-packages" in spec.origin


def test_no_bare_adapters_module(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # away from the repo root, where the folder itself is importable
    import sys

    monkeypatch.setattr(sys, "path", [p for p in sys.path if Path(p or ".").resolve() != ROOT.resolve()])
    assert importlib.util.find_spec("adapters") is None
