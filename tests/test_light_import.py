"""The core imports no ML framework: `import frameworkbench` and `--help` stay light."""
import json
import subprocess
import sys

from conftest import FRAMEWORK_MODULES


def _loaded_after(code: str) -> list[str]:
    probe = f"{code}\nimport sys, json\nprint(json.dumps(sorted(m for m in {FRAMEWORK_MODULES!r} if m in sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_import_and_core_modules_load_no_framework():
    code = ("import frameworkbench, frameworkbench.api, frameworkbench.execution.runner, frameworkbench.cli, "
            "frameworkbench.report.summary, frameworkbench.adapters, frameworkbench.adapters.base\n"
            "frameworkbench.cli.parser()")
    assert _loaded_after(code) == []


def test_help_runs_without_frameworks():
    code = "import frameworkbench.cli as c\ntry:\n    c.main(['--help'])\nexcept SystemExit:\n    pass"
    assert _loaded_after(code) == []


def test_target_registry_lookup():
    """Defaults, `all`, and a miss that lists the known names; every entry names an adapter module that exists."""
    from pathlib import Path

    import pytest

    from frameworkbench.spec import SpecError
    from frameworkbench.targets import DEFAULT_TARGETS, TARGETS, parse_targets

    assert [t.name for t in parse_targets(None)] == list(DEFAULT_TARGETS)
    assert set(DEFAULT_TARGETS) <= set(TARGETS)
    assert [t.name for t in parse_targets("all")] == list(TARGETS)
    assert [t.name for t in parse_targets(" torch , keras:jax ")] == ["torch", "keras:jax"]
    with pytest.raises(SpecError, match="unknown target 'pytorch'.*expected one of: .*keras:jax"):
        parse_targets("torch,pytorch")
    adapters = Path(__file__).resolve().parents[1] / "adapters"
    for t in TARGETS.values():
        for path in (t.adapter, t.codegen):  # "frameworkbench.adapters.<package>.<module>:<attribute>"
            module, _, attr = path.partition(":")
            assert module.startswith("frameworkbench.adapters.") and attr, t.name
            assert (adapters.joinpath(*module.split(".")[2:]).with_suffix(".py")).is_file(), (t.name, path)
        assert t.api in ("fit", "loop"), t.name


def test_adapter_declarations_and_generators_load_no_framework():
    """The registry imports every adapter package's __init__, codegen imports their generators:
    neither may pull in a framework."""
    code = ("import importlib\nfrom frameworkbench.targets import TARGETS\n"
            "for t in TARGETS.values():\n    importlib.import_module(t.codegen.partition(':')[0])")
    assert _loaded_after(code) == []


def test_targets_are_discovered_from_adapter_packages(tmp_path, monkeypatch):
    """A package with TARGETS is registered in its declared order; `_shared` packages are skipped."""
    from frameworkbench import targets

    root = tmp_path / "fake_adapters"
    decl = "from frameworkbench.targets import Target\nTARGETS = ({})\n"
    for pkg, body in {"": "", "b": "Target('late', 'm:C', (), (), order=9), Target('first', 'm:C', (), (), "
                                     "order=1, default=True),",
                      "a": "Target('mid', 'm:C', (), (), order=5),", "_shared": "Target('hidden', 'm:C', (), ()),"
                      }.items():
        (root / pkg).mkdir(parents=True, exist_ok=True)
        (root / pkg / "__init__.py").write_text(decl.format(body) if body else "")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(targets, "ADAPTERS", "fake_adapters")
    found = targets.discover()
    assert list(found) == ["first", "mid", "late"]
    assert [n for n, t in found.items() if t.default] == ["first"]
