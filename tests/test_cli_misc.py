"""CLI details: README blocks generated from the code, read-only databases, closed pipes, `targets`,
option aliases and names. No ML framework is imported.

``python tests/test_cli_misc.py`` rewrites the README's generated blocks (synopsis, spec reference).
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import pytest

from conftest import ROOT, cli
from frameworkbench import cli as cli_module
from frameworkbench.execution import runner
from frameworkbench.spec import SpecError

README = ROOT / "README.md"
CORPUS = ROOT / "tests" / "bad_inputs"


def _blocks() -> dict[str, tuple[str, str]]:
    """README marker name -> (the generated text, a regex matching what the README holds there)."""
    from frameworkbench.spec import fields_markdown

    return {
        "synopsis": ("```text\n" + cli_module.synopsis() + "\n```",
                     r"(<!-- synopsis:[^\n]*-->\n)(.*?)(\n<!-- /synopsis -->)"),
        "spec-fields": (fields_markdown(), r"(<!-- spec-fields:[^\n]*-->\n)(.*?)(\n<!-- /spec-fields -->)"),
    }


def _readme_block(name: str) -> str:
    _, pattern = _blocks()[name]
    m = re.search(pattern, README.read_text(encoding="utf-8"), re.S)
    assert m, f"README has no {name} block"
    return m.group(2)


@pytest.mark.parametrize("name", ["synopsis", "spec-fields"])
def test_readme_block_is_generated_from_the_code(name):
    assert _readme_block(name) == _blocks()[name][0], "run `python tests/test_cli_misc.py` to regenerate"


def test_synopsis_lists_every_command_and_option():
    text = cli_module.synopsis()
    ap = cli_module.parser()
    sub = next(a for a in ap._actions if a.dest == "command")
    for name, p in sub.choices.items():
        line = text.split(f"frameworkbench {name} ", 1)[1].split("\nframeworkbench ", 1)[0]
        for action in p._actions:
            if action.option_strings and action.help != "==SUPPRESS==" and "-h" not in action.option_strings:
                assert action.option_strings[0] in line, (name, action.option_strings)


# ---------------------------------------------------------------------------- databases
def test_results_refuses_a_database_that_does_not_exist(tmp_path):
    db = tmp_path / "no" / "such" / "dir" / "x.db"
    p = cli("results", "--db", str(db))
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and p.stderr.startswith("error: --db: ")
    assert str(db) in p.stderr and "Traceback" not in p.stderr
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize("argv", [["results", "--format", "json"], ["report"]])
def test_read_only_commands_never_create_a_database(argv, tmp_path, capsys):
    db = tmp_path / "typo.db"
    assert cli_module.main([*argv, "--db", str(db), *(["--out", str(tmp_path / "r")] if argv == ["report"]
                                                     else [])]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: --db: cannot use {str(db)!r}") and not db.exists()


@pytest.fixture
def no_worker(monkeypatch):
    def launch(*args, **kwargs):
        raise AssertionError("a worker was launched for bad input")

    monkeypatch.setattr(runner, "launch", launch)
    monkeypatch.chdir(CORPUS)


@pytest.mark.parametrize("spec", ["specs/data_missing_file.yaml", "specs/data_nan.yaml", "specs/lr_string.yaml",
                                  "specs/no_such_spec.yaml"])
def test_run_on_bad_input_leaves_no_database(spec, no_worker, tmp_path, capsys):
    db = tmp_path / "sub" / "results.db"
    assert cli_module.main(["run", spec, "--targets", "torch", "--db", str(db), "--quiet"]) == 2
    assert not db.exists() and not db.parent.exists(), capsys.readouterr().err


# ---------------------------------------------------------------------------- closed stdout
def test_a_closed_stdout_ends_quietly(tmp_path):
    from frameworkbench.store import Store

    db = tmp_path / "r.db"
    Store(db).close()
    proc = subprocess.Popen([sys.executable, "-m", "frameworkbench.cli", "results", "--format", "json", "--db",
                             str(db)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env=os.environ)
    proc.stdout.close()  # the reader is gone before anything is written
    err = proc.stderr.read().decode()
    code = proc.wait(timeout=120)
    assert code in (0, 141) and err == "", err  # 141: 128 + SIGPIPE


# ---------------------------------------------------------------------------- validate
def test_validate_checks_the_data_by_default(no_worker, capsys):
    spec = "specs/data_missing_file.yaml"
    assert cli_module.main(["validate", spec]) == 2
    assert capsys.readouterr().err.startswith(f"error: {spec}: data.path: data file not found")
    assert cli_module.main(["validate", "--data", spec]) == 2  # the old flag is still accepted
    assert cli_module.main(["validate", "--no-data", spec]) == 0
    assert "data not checked (--no-data)" in capsys.readouterr().out
    assert cli_module.main(["validate", "specs/data_feature_count.yaml"]) == 2
    assert "input_shape: the data has" in capsys.readouterr().err


# ---------------------------------------------------------------------------- options
def test_run_policy_with_defaults_as_alias():
    ap = cli_module.parser()
    assert ap.parse_args(["run", "s.yaml"]).policy == "aligned"
    assert ap.parse_args(["run", "s.yaml", "--policy", "native"]).policy == "native"
    assert ap.parse_args(["run", "s.yaml", "--defaults", "native"]).policy == "native"


def test_argparse_choices_suggest_a_name(capsys):
    with pytest.raises(SystemExit) as e:
        cli_module.parser().parse_args(["run", "s.yaml", "--isolate", "Target"])
    assert e.value.code == 2 and "invalid choice: 'Target' (did you mean 'target'?)" in capsys.readouterr().err


def test_api_errors_can_name_api_arguments():
    from frameworkbench.execution.runner import RunOptions
    from frameworkbench.targets import parse_targets

    with pytest.raises(SpecError) as e:
        parse_targets("jax")
    assert str(e.value).startswith("--targets: unknown target 'jax'")
    with pytest.raises(SpecError) as e:
        parse_targets("Torch,jax", option="targets")
    assert [p.path for p in e.value.problems] == ["targets", "targets"]
    assert "did you mean 'torch'" in str(e.value)
    with pytest.raises(SpecError) as e:
        RunOptions(device="GPU", seeds=0, policy="nativ").check(
            option_names={"device": "device", "seeds": "seeds", "policy": "policy"})
    assert [p.path for p in e.value.problems] == ["device", "seeds", "policy"]
    assert "did you mean 'gpu'" in str(e.value) and "did you mean 'native'" in str(e.value)
    with pytest.raises(SpecError) as e:
        RunOptions(device="tpuu").check()
    assert e.value.problems[0].path == "--device"


# ---------------------------------------------------------------------------- targets
def test_targets_table_is_aligned_and_marks_the_defaults(capsys):
    from frameworkbench.targets import DEFAULT_TARGETS, TARGETS

    assert cli_module.main(["targets"]) == 0
    lines = capsys.readouterr().out.splitlines()
    header, rows = lines[0], lines[1:1 + len(TARGETS)]
    status_col = header.index("status")
    for name, row in zip(TARGETS, rows):
        assert row.startswith(name + " ") and row[status_col - 1] == " " and row[status_col] != " ", row
        assert (row[header.index("default")] == "*") == (name in DEFAULT_TARGETS), row


def test_install_hints_name_existing_extras():
    import tomllib

    from frameworkbench.targets import TARGETS

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for t in TARGETS.values():
        assert t.extras and set(t.extras) <= set(extras), t.name
        assert t.install_hint() == f"pip install 'frameworkbench[{','.join(t.extras)}]'"
    assert "jax" in TARGETS["keras:jax"].extras and "keras" in TARGETS["keras:jax"].extras


def test_a_missing_target_is_skipped_with_its_install_hint(monkeypatch, tmp_path, spec_dict):
    from frameworkbench.execution.runner import RunOptions, run
    from frameworkbench.spec import validate
    from frameworkbench.targets import TARGETS

    target = TARGETS["keras:jax"]
    monkeypatch.setattr(type(target), "missing_modules", lambda self: ["jax"])
    (rec,) = run(validate(spec_dict), [target], RunOptions(db=tmp_path / "r.db"))
    assert rec["status"] == "skipped" and rec["error"] == "not installed: jax (pip install 'frameworkbench[keras,jax]')"


def _rewrite_readme() -> None:
    text = README.read_text(encoding="utf-8")
    for name, (generated, pattern) in _blocks().items():
        text, n = re.subn(pattern, lambda m: m.group(1) + generated + m.group(3), text, flags=re.S)
        assert n == 1, name
    README.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    _rewrite_readme()
    print(f"rewrote the generated blocks of {README}")
