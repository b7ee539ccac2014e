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


def test_targets_registry_lists_five():
    from frameworkbench.targets import TARGETS, parse_targets
    from frameworkbench.spec import SpecError
    import pytest

    five = ["tf.keras", "keras:tensorflow", "keras:jax", "keras:torch", "torch"]
    assert list(TARGETS)[:5] == five and [t.name for t in parse_targets(None)] == five
    # low-level training-loop variants are registered too, each under its framework's column
    assert {n: (TARGETS[n].family, TARGETS[n].api) for n in list(TARGETS)[5:]} == {
        "tf:gradienttape": ("tf.keras", "loop"), "keras:jax:stateless": ("keras", "loop")}
    assert [t.name for t in parse_targets("all")] == list(TARGETS)
    with pytest.raises(SpecError, match="unknown target 'pytorch'.*expected one of: keras:jax"):
        parse_targets("torch,pytorch")
