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
    code = ("import frameworkbench, frameworkbench.api, frameworkbench.runner, frameworkbench.cli, "
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
        module, _, cls = t.adapter.partition(":")
        assert module.startswith("frameworkbench.adapters.") and cls, t.name
        assert (adapters / (module.rsplit(".", 1)[1] + ".py")).is_file(), t.name
        assert t.api in ("fit", "loop"), t.name
