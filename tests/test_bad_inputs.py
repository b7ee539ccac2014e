"""The bad-input corpus: every case gives exit 2 and a one-line cause naming the field or file, no traceback.

Cases live in tests/bad_inputs/cases.json (written by tests/bad_inputs/make_corpus.py together with
the spec and data files). They run in-process through the CLI's ``main()`` -- ``run`` with worker
launches forbidden (bad input is refused before any worker starts) and, for spec files,
``validate --data`` -- and a few through a real ``frameworkbench`` subprocess.
"""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from conftest import cli
from frameworkbench import cli as cli_module
from frameworkbench import runner
from frameworkbench.spec import SpecError

CORPUS = Path(__file__).resolve().parent / "bad_inputs"
CASES = json.loads((CORPUS / "cases.json").read_text())


@pytest.fixture
def in_corpus(monkeypatch, tmp_path):
    """cwd = the corpus (specs name their data files relatively); launching a worker is a test failure."""
    monkeypatch.chdir(CORPUS)

    def no_worker(*args, **kwargs):
        raise AssertionError("a worker was launched for bad input")

    monkeypatch.setattr(runner, "launch", no_worker)
    return tmp_path


def call(argv: list[str], capsys) -> tuple[int, str]:
    try:
        code = cli_module.main(argv)
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code
    return code, capsys.readouterr().err


def check_error(code: int, err: str, case: dict) -> None:
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    first = next(line for line in lines if "error:" in line)
    argparse_error = not err.startswith("error: ")
    multi = "problems found:" in first
    if argparse_error:  # "usage: ..." then "frameworkbench run: error: argument --x: ..."
        assert "argument --" in first
    elif multi:  # the first line names the file; one indented line per problem
        assert case["spec"] in first or ".csv" in first or ".npz" in first
        assert all(line.startswith("  ") for line in lines[1:]) and len(lines) >= 3
    else:  # one line: the field or file, the received value, what is allowed
        assert len(lines) == 1, err
        assert case["expect"][0] in first, err
    for text in case["expect"]:
        assert text in err, err


def test_corpus_is_large_enough():
    spec_files = {c["spec"] for c in CASES}
    data_files = [p for p in (CORPUS / "data").iterdir() if not p.name.startswith("good")]
    assert len(CASES) >= 40 and len(spec_files) >= 40 and len(data_files) >= 20


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_bad_input_run(case, in_corpus, capsys):
    db = in_corpus / "results.db"
    code, err = call(["run", case["spec"], "--targets", "torch", "--db", str(db), "--quiet", *case["args"]], capsys)
    check_error(code, err, case)
    if db.exists():  # nothing half-written: the database holds no run
        with sqlite3.connect(db) as conn:
            assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 0


SPEC_CASES = [c for c in CASES if not c["args"]]


@pytest.mark.parametrize("case", SPEC_CASES, ids=[c["name"] for c in SPEC_CASES])
def test_bad_input_validate(case, in_corpus, capsys):
    code, err = call(["validate", "--data", case["spec"]], capsys)
    check_error(code, err, case)


def test_good_controls_pass(in_corpus, capsys):
    """The corpus' bad files differ from these valid ones only in the fault they carry."""
    for spec in ("specs/good.yaml", "specs/good_file.yaml"):
        code, err = call(["validate", "--data", spec], capsys)
        assert code == 0, err


@pytest.mark.parametrize("name", ["malformed", "data_nan", "too_big_for_memory", "arg_unknown_target"])
def test_real_process_gives_one_line_and_exit_2(name, tmp_path):
    case = next(c for c in CASES if c["name"] == name)
    p = cli("run", case["spec"], "--targets", "torch", "--db", str(tmp_path / "r.db"), *case["args"], cwd=CORPUS)
    check_error(p.returncode, p.stderr, case)
    assert p.stdout == ""


def test_debug_shows_the_traceback(in_corpus, capsys):
    with pytest.raises(SpecError, match="unknown activation 'rleu'"):
        cli_module.main(["--debug", "validate", "specs/unknown_activation.yaml"])
    p = cli("--debug", "validate", "specs/unknown_activation.yaml", cwd=CORPUS)
    assert p.returncode != 0 and "Traceback" in p.stderr and "SpecError" in p.stderr


def test_nothing_is_unpickled_or_constructed(in_corpus, capsys):
    """The pickle and the python/object YAML tag would call sys.exit if they were ever loaded unsafely."""
    for spec in ("specs/data_npz_is_a_pickle.yaml", "specs/python_tag.yaml", "specs/data_npz_object_array.yaml"):
        code, err = call(["validate", "--data", spec], capsys)
        assert code == 2 and "unpickled" not in err and "unsafe yaml" not in err


DATA_CASES = [c for c in SPEC_CASES if c["name"].startswith("data_")]


@pytest.mark.parametrize("case", DATA_CASES, ids=[c["name"] for c in DATA_CASES])
def test_data_errors_name_the_spec_file(case, in_corpus, capsys):
    code, err = call(["validate", case["spec"]], capsys)  # validate checks the data by default
    assert code == 2 and err.startswith(f"error: {case['spec']}"), err
