"""Faults: injected worker failures, Ctrl-C and resume, concurrent writers, whole-or-nothing records.

Fast tests replace the worker launch with a stand-in or write the store directly; the
``slow`` ones run real ``torch`` workers with the test-only FRAMEWORKBENCH_FAULT switch.
Every test that writes a database checks ``PRAGMA integrity_check`` afterwards.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml

from conftest import BASE_SPEC, ROOT, cli
from frameworkbench import cli as cli_module
from frameworkbench import estimate as estimate_module
from frameworkbench.execution import runner
from frameworkbench.estimate import check_memory, estimate
from frameworkbench.execution.runner import RunOptions, run
from frameworkbench.spec import SpecError, validate
from frameworkbench.store import Store
from frameworkbench.targets import get_target
from frameworkbench.execution.faults import FAULTS, faults_for
from frameworkbench.execution.worker import failure


def consistent(db: Path) -> list[dict]:
    """The stored records, after checking the database is intact and every record whole."""
    with Store(db) as st:
        records = st.records()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = conn.execute("SELECT run_id, status, run_key, record FROM runs").fetchall()
    for run_id, status, key, blob in rows:
        rec = json.loads(blob)
        assert (rec["run_id"], rec["status"], rec["run_key"]) == (run_id, status, key)
    return records


# --------------------------------------------------------------------------- the fault switch
def test_fault_switch_targets_kinds_and_seeds():
    run = ("keras:jax", 2)  # target, seed
    assert faults_for(*run, "") == []
    assert faults_for(*run, "raise") == [("raise", "")]
    assert faults_for(*run, "raise@torch") == []
    assert faults_for(*run, "nan:3@keras:jax#2,kill@keras:jax#1,oom#2") == [("nan", "3"), ("oom", "")]
    with pytest.raises(RuntimeError, match="unknown fault 'segv'"):
        faults_for(*run, "segv")
    assert set(FAULTS) >= {"raise", "exit", "kill", "hang", "oom", "nan"}


def test_failure_reason_says_out_of_memory():
    assert failure(MemoryError()) == "out of memory: MemoryError"
    assert failure(RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 8 GB")) \
        .startswith("out of memory: RuntimeError")
    assert failure(ValueError("bad shape")) == "ValueError: bad shape"


# --------------------------------------------------------------------------- resume with a stand-in worker
class FakeLaunch:
    """Stands in for runner.launch: counts launches; ``interrupt_at`` raises KeyboardInterrupt like Ctrl-C."""

    def __init__(self, interrupt_at: int | None = None, status: str = "ok"):
        self.calls: list[tuple[str, int]] = []
        self.interrupt_at, self.status = interrupt_at, status

    def __call__(self, job, workdir, timeout, on_event=None, extra_env=None):
        self.calls.append((job.target, job.seed))
        if self.interrupt_at is not None and len(self.calls) == self.interrupt_at:
            raise KeyboardInterrupt
        job.record_path = str(Path(workdir) / f"record-{job.run_id}.json")
        return {"status": self.status, "error": None if self.status == "ok" else "boom", "device": "cpu",
                "history": [{"epoch": 1, "loss": 0.5}], "final": {"loss": 0.5}}


@pytest.fixture
def fake(monkeypatch):
    def install(**kw) -> FakeLaunch:
        f = FakeLaunch(**kw)
        monkeypatch.setattr(runner, "launch", f)
        return f

    return install


TORCH = [get_target("torch")]


def test_resume_skips_runs_already_stored_ok(fake, db_path):
    spec = validate(BASE_SPEC)
    first = fake()
    recs1 = run(spec, TORCH, RunOptions(db=db_path, seeds=3))
    assert len(first.calls) == 3 and not any(r.get("cached") for r in recs1)

    again = fake()
    events = []
    recs2 = run(spec, TORCH, RunOptions(db=db_path, seeds=3), events.append)
    assert again.calls == []  # nothing repeated
    assert [r["run_id"] for r in recs2] == [r["run_id"] for r in recs1] and all(r["cached"] for r in recs2)
    assert events[0]["cached"] == 3 and [e.get("cached") for e in events if e["event"] == "done"] == [True] * 3

    seed = spec.training["seed"]  # seeds run seed, seed + 1, ...
    more = fake()  # one more seed: only the new run is launched
    run(spec, TORCH, RunOptions(db=db_path, seeds=4))
    assert more.calls == [("torch", seed + 3)]

    forced = fake()
    run(spec, TORCH, RunOptions(db=db_path, seeds=2, force=True))
    assert forced.calls == [("torch", seed), ("torch", seed + 1)]

    changed = fake()  # another spec hash is another run key
    run(spec.with_overrides(epochs=3), TORCH, RunOptions(db=db_path, seeds=1))
    assert changed.calls == [("torch", seed)]
    assert len(consistent(db_path)) == 4 + 2 + 1


def test_failed_runs_are_repeated_on_resume(fake, db_path):
    spec = validate(BASE_SPEC)
    fake(status="failed")
    run(spec, TORCH, RunOptions(db=db_path, seeds=2))
    again = fake()
    recs = run(spec, TORCH, RunOptions(db=db_path, seeds=2))
    assert len(again.calls) == 2 and [r["status"] for r in recs] == ["ok", "ok"]
    statuses = sorted(r["status"] for r in consistent(db_path))
    assert statuses == ["failed", "failed", "ok", "ok"]


def test_other_modes_and_no_store_never_resume(fake, db_path):
    spec = validate(BASE_SPEC)
    fake()
    run(spec, TORCH, RunOptions(db=db_path))
    probe = fake()
    run(spec, TORCH, RunOptions(db=db_path, mode="probe"))
    nostore = fake()
    run(spec, TORCH, RunOptions(store=False))
    assert len(probe.calls) == 1 and len(nostore.calls) == 1


def write_spec(tmp_path: Path, **training) -> Path:
    raw = {**BASE_SPEC, "training": {**BASE_SPEC["training"], **training}}
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_cli_interrupt_keeps_completed_runs_then_resumes(fake, tmp_path, db_path, capsys):
    spec = str(write_spec(tmp_path))
    argv = ["run", spec, "--targets", "torch", "--seeds", "3", "--db", str(db_path), "--json"]
    stopper = fake(interrupt_at=3)  # Ctrl-C while the third run is going
    assert cli_module.main(argv) == 130
    err = capsys.readouterr().err
    assert "interrupted: workers stopped; 2 completed run(s) are stored" in err and "Traceback" not in err
    stored = consistent(db_path)
    assert [r["seed"] for r in stored] == [3, 4] and len(stopper.calls) == 3

    resumed = fake()
    assert cli_module.main(argv) == 0
    out, err = capsys.readouterr()
    assert resumed.calls == [("torch", 5)]
    assert "resuming: 2 already stored" in err and "not repeated" in err
    recs = json.loads(out)
    assert [r.get("cached", False) for r in recs] == [True, True, False]
    assert [r["run_id"] for r in recs[:2]] == [r["run_id"] for r in stored]

    forced = fake()
    assert cli_module.main([*argv, "--force"]) == 0
    capsys.readouterr()
    assert len(forced.calls) == 3 and len(consistent(db_path)) == 6


def test_sigterm_is_treated_like_ctrl_c(monkeypatch, tmp_path, db_path, capsys):
    calls = []

    def terminate_on_second(job, workdir, timeout, on_event=None, extra_env=None):
        calls.append(job.seed)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGTERM)  # e.g. a job scheduler stopping the sweep
            time.sleep(5)  # the handler interrupts this wait
        job.record_path = str(Path(workdir) / f"record-{job.run_id}.json")
        return {"status": "ok", "error": None, "history": [{"epoch": 1, "loss": 0.5}]}

    monkeypatch.setattr(runner, "launch", terminate_on_second)
    before = signal.getsignal(signal.SIGTERM)
    code = cli_module.main(["run", str(write_spec(tmp_path)), "--targets", "torch", "--seeds", "3",
                            "--db", str(db_path)])
    assert code == 130 and "1 completed run(s) are stored" in capsys.readouterr().err
    assert calls == [3, 4] and len(consistent(db_path)) == 1
    assert signal.getsignal(signal.SIGTERM) is before  # the handler is only installed while runs go on


# --------------------------------------------------------------------------- memory estimate
def test_memory_estimate_formula():
    spec = validate(BASE_SPEC)  # 6 -> 8 relu -> 1 sigmoid, adam, batch 16, 200 samples
    est = estimate(spec)
    params = 6 * 8 + 8 + 8 * 1 + 1
    assert est.params == params
    assert est.state_bytes == params * 4 * 4  # weights, gradients, two Adam moments
    assert est.activation_bytes == 16 * (6 + 8 + 1) * 4 * 3
    assert est.data_bytes == 200 * (6 + 1) * 4
    sgd = validate({**BASE_SPEC, "optimizer": {"name": "sgd", "learning_rate": 0.1}})
    assert estimate(sgd).state_bytes == params * 2 * 4


def test_model_too_large_is_refused_before_any_worker(fake, db_path, monkeypatch):
    spec = validate(BASE_SPEC)
    with pytest.raises(SpecError, match=r"model too large for this machine: estimated .* but only 1\.0 KiB"):
        check_memory(spec, available=1024)
    monkeypatch.setattr(estimate_module, "available_memory", lambda: 1024)
    launched = fake()
    with pytest.raises(SpecError, match="model too large"):
        run(spec, TORCH, RunOptions(db=db_path))
    assert launched.calls == [] and not db_path.exists()
    monkeypatch.setattr(estimate_module, "available_memory", lambda: None)  # unknown: no refusal
    run(spec, TORCH, RunOptions(db=db_path))
    assert len(launched.calls) == 1


# --------------------------------------------------------------------------- the store under faults
def _writer(db: str, name: str, n: int) -> None:
    with Store(db) as st:
        for i in range(n):
            st.save({"run_id": f"{name}-{i}", "batch_id": name, "created_at": f"{i:06d}", "spec_name": "s",
                     "spec_hash": "h", "target": "torch", "status": "ok", "seed": i, "run_key": f"{name}-{i}",
                     "payload": "x" * 2000})


def test_concurrent_writers_lose_nothing(db_path):
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(db_path), f"w{k}", 60)) for k in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    records = consistent(db_path)
    assert len(records) == 240 and len({r["run_id"] for r in records}) == 240
    assert all(r["payload"] == "x" * 2000 for r in records)


KILLED_WRITER = textwrap.dedent("""
    import sys, itertools
    from frameworkbench.store import Store
    st = Store(sys.argv[1])
    for i in itertools.count():
        st.save({"run_id": f"r{i}", "batch_id": "b", "created_at": f"{i:09d}", "spec_name": "s", "spec_hash": "h",
                 "target": "torch", "status": "ok", "seed": i, "run_key": f"k{i}", "payload": "y" * 50000,
                 "last": i})
        if i == 20:
            print("saving", flush=True)
""")


def test_writer_killed_mid_write_leaves_whole_records(db_path):
    p = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(db_path)], stdout=subprocess.PIPE, text=True,
                         cwd=ROOT)
    assert p.stdout.readline().strip() == "saving"
    time.sleep(0.3)
    p.send_signal(signal.SIGKILL)
    p.wait()
    records = consistent(db_path)
    assert len(records) > 20
    assert [r["last"] for r in records] == list(range(len(records)))  # a prefix: nothing torn or missing
    assert all(r["payload"] == "y" * 50000 for r in records)


def test_interrupt_inside_a_save_stores_nothing(db_path):
    class Interrupting:
        def __init__(self, conn):
            self.conn = conn

        def execute(self, sql, *args):
            if sql == "COMMIT":
                raise KeyboardInterrupt  # Ctrl-C after the INSERT, before it commits
            return self.conn.execute(sql, *args)

    st = Store(db_path)
    st.save({"run_id": "a", "batch_id": "b", "created_at": "1", "spec_name": "s", "spec_hash": "h",
             "target": "torch", "status": "ok", "seed": 0, "run_key": "k"})
    real = st.conn
    st.conn = Interrupting(real)
    with pytest.raises(KeyboardInterrupt):
        st.save({"run_id": "half", "batch_id": "b", "created_at": "2", "spec_name": "s", "spec_hash": "h",
                 "target": "torch", "status": "ok", "seed": 1, "run_key": "k2"})
    real.close()
    assert [r["run_id"] for r in consistent(db_path)] == ["a"]


def test_unusable_database_is_bad_input(tmp_path):
    (tmp_path / "notadb").write_text("hello\n" * 100)
    for path in (tmp_path, tmp_path / "notadb"):
        with pytest.raises(SpecError, match="--db: cannot use"):
            Store(path)


# --------------------------------------------------------------------------- real workers
SLOW_TIMEOUT = "30"  # generous: a loaded 2-core machine can take 10 s to import torch


@pytest.mark.slow
def test_every_fault_is_recorded_and_the_sweep_goes_on(tmp_path, db_path):
    spec = write_spec(tmp_path, seed=0)
    faults = "raise@torch#0,kill@torch#1,hang@torch#2,nan:2@torch#3,oom@torch#4,exit@torch#5"
    p = cli("run", str(spec), "--targets", "torch", "--seeds", "7", "--timeout", SLOW_TIMEOUT, "--db", str(db_path),
            "--json", env={"FRAMEWORKBENCH_FAULT": faults})
    assert p.returncode == 1, p.stderr[-3000:]
    recs = {r["seed"]: r for r in json.loads(p.stdout)}
    assert (recs[0]["status"], recs[0]["error"]) == ("failed", "RuntimeError: injected fault")
    assert "RuntimeError: injected fault" in recs[0]["stderr_tail"]
    assert recs[1]["status"] == "failed" and "signal 9" in recs[1]["error"]
    assert recs[2]["status"] == "timeout" and f"time limit of {SLOW_TIMEOUT} s exceeded" in recs[2]["error"]
    assert recs[3]["status"] == "diverged" and recs[3]["diverged_epoch"] == 2
    assert "at epoch 2" in recs[3]["error"] and len(recs[3]["history"]) == 2
    assert recs[4]["status"] == "failed" and recs[4]["error"].startswith("out of memory: MemoryError")
    assert recs[5]["status"] == "failed" and "exit code 3" in recs[5]["error"]
    assert recs[6]["status"] == "ok" and len(recs[6]["history"]) == 2
    stored = {r["seed"]: r["status"] for r in consistent(db_path)}
    assert stored == {s: r["status"] for s, r in recs.items()}  # every run stored, none lost


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="requires: /proc (Linux) to find the worker process")
def test_ctrl_c_mid_sweep_then_resume(tmp_path, db_path):
    spec = write_spec(tmp_path, seed=0)
    argv = [sys.executable, "-m", "frameworkbench.cli", "run", str(spec), "--targets", "torch", "--seeds", "2",
            "--db", str(db_path)]
    p = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env={**os.environ, "FRAMEWORKBENCH_FAULT": "hang@torch#1"})
    seen = []
    for line in p.stderr:  # wait until the first run is stored and the second (hanging) one has started
        seen.append(line)
        if "[2/2] torch seed 1: starting worker" in line:
            break
    deadline = time.time() + 10
    while not (workers := _children(p.pid)) and time.time() < deadline:
        time.sleep(0.05)
    assert workers, "the worker process was not found"
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=30)
    err = "".join(seen) + err
    assert p.returncode == 130, err
    assert "interrupted: workers stopped; 1 completed run(s) are stored" in err and "Traceback" not in err
    assert not any(_alive(w) for w in workers)  # the hanging worker was stopped, not orphaned
    (first,) = consistent(db_path)
    assert (first["seed"], first["status"]) == (0, "ok")

    again = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "resuming: 1 already stored" in again.stderr
    assert f"[1/2] torch seed 0: ok (stored run {first['run_id']}, not repeated)" in again.stderr
    stored = consistent(db_path)
    assert [(r["seed"], r["status"]) for r in stored] == [(0, "ok"), (1, "ok")]
    assert stored[0]["run_id"] == first["run_id"]


@pytest.mark.slow
def test_two_concurrent_run_processes_lose_nothing(tmp_path, db_path):
    spec = write_spec(tmp_path, seed=0)
    base = [sys.executable, "-m", "frameworkbench.cli", "run", str(spec), "--targets", "torch", "--seeds", "2",
            "--threads", "1", "--db", str(db_path), "--quiet"]
    procs = [subprocess.Popen([*base, "--epochs", str(e)], cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True) for e in (1, 2)]
    errs = [p.communicate(timeout=180)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errs
    stored = consistent(db_path)
    assert len(stored) == 4 and {r["status"] for r in stored} == {"ok"}
    assert sorted((r["spec"]["training"]["epochs"], r["seed"]) for r in stored) == [
        (e, s) for e in (1, 2) for s in (0, 1)]
