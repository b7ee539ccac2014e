"""Timing outliers across runs (frameworkbench.analysis.outliers): synthetic records, a real store, the runner hook."""
from pathlib import Path

import pytest

from conftest import BASE_SPEC
from frameworkbench.analysis import outliers
from frameworkbench.execution import runner
from frameworkbench.measure import MachineLoad
from frameworkbench.execution.runner import RunOptions, run
from frameworkbench.spec import validate
from frameworkbench.store import Store
from frameworkbench.targets import get_target

_n = iter(range(10**6))


def rec(step, epoch=None, **kw):
    n = next(_n)
    return {"run_id": f"r{n}", "run_key": f"k{n}", "batch_id": "b", "created_at": f"2026-01-01T00:00:{n % 60:02d}",
            "spec_name": "s", "spec_hash": "h", "target": "keras:torch", "policy": "aligned", "mode": "train",
            "device": "cpu", "threads": 2, "host": {"cpu": "Xeon"}, "status": "ok", "seed": 0,
            "timings": {"median_step_s": step, "median_epoch_s": epoch if epoch is not None else step * 100},
            **kw}


QUIET = {"loadavg_start": 0.3, "loadavg_end": 0.4, "cores": 8, "cpu_busy_pct": 26.0, "own_cpu_pct": 25.0,
         "cpu_busy_other_pct": 1.0}
BUSY = {"loadavg_start": 3.9, "loadavg_end": 4.2, "cores": 2, "cpu_busy_pct": 100.0, "own_cpu_pct": 12.0,
        "cpu_busy_other_pct": 88.0}


def test_a_40x_slower_run_is_flagged_with_ratio_reference_count_and_load():
    peers = [rec(v) for v in (3.8e-3, 3.9e-3, 3.7e-3, 4.0e-3)]
    slow = rec(0.119, load=BUSY, threads=1)
    slow["threads"] = 2
    msg = outliers.check(slow, peers)
    assert msg.startswith("timing outlier")
    assert "median step 119 ms is 31.3× above their median (3.8 ms, 4 runs)" in msg
    assert "median epoch 11.9 s is 31.3× above" in msg
    assert "machine load was high: load average 3.9 → 4.2 on 2 cores, other processes kept 88 % of all cores busy" \
        in msg
    assert slow["warnings"] == [msg] and slow["outlier"]["median_step_s"]["runs"] == 4
    assert slow["outlier"]["median_step_s"]["reference"] == pytest.approx(3.8e-3)


def test_faster_runs_are_flagged_too_and_quiet_load_is_not_mentioned():
    peers = [rec(0.1), rec(0.11), rec(0.12)]
    fast = rec(0.01, load=QUIET)
    msg = outliers.check(fast, peers)
    assert "median step 10 ms is 11× below their median (110 ms, 3 runs)" in msg and "load" not in msg


def test_within_the_factor_nothing_is_flagged():
    peers = [rec(1e-3), rec(1.1e-3)]
    for v in (2.9e-3, 0.35e-3):
        r = rec(v)
        assert outliers.check(r, peers) is None and "warnings" not in r and "outlier" not in r
    assert outliers.OUTLIER_FACTOR == 3.0


def test_only_runs_of_the_same_setup_count():
    slow = rec(0.1)
    others = [rec(1e-3, threads=1), rec(1e-3, policy="native"), rec(1e-3, spec_hash="h2"), rec(1e-3, device="cuda"),
              rec(1e-3, target="torch"), rec(1e-3, mode="dynamic"), rec(1e-3, host={"cpu": "EPYC"}),
              rec(1e-3, status="failed"), {**slow}]  # a stored copy of the run itself
    assert outliers.peers(slow, others) == []
    assert outliers.check(slow, others) is None


def test_one_earlier_run_needs_a_clear_ratio():
    first = rec(3.8e-3)
    assert outliers.check(rec(3.8e-3 * 5), [first]) is None  # 5x: beyond 3x but not clear with one peer
    msg = outliers.check(rec(0.119), [first])
    assert "is 31.3× above the one earlier run (3.8 ms; one of the two is off)" in msg


def test_one_slow_run_among_two_earlier_ones_is_not_the_reference():
    assert outliers.check(rec(3.8e-3), [rec(0.119), rec(3.9e-3)]) is None  # lower median: 3.9 ms


def test_high_load_rule():
    assert outliers.high_load(None, 1) is None and outliers.high_load(QUIET, 4) is None
    assert outliers.high_load(BUSY, 1).startswith("machine load was high")
    # 30 % of 8 cores busy elsewhere = 2.4 cores: fits beside a 4-thread run, not beside an 8-thread one
    half = {**QUIET, "cpu_busy_other_pct": 30.0}
    assert outliers.high_load(half, 4) is None and outliers.high_load(half, 8)
    assert outliers.high_load({**QUIET, "cpu_busy_other_pct": None, "loadavg_end": 9.5}, 1)


def test_machine_load_measures_this_process():
    with MachineLoad() as load:
        x = 0
        for i in range(2_000_000):
            x += i
    r = load.result
    assert set(r) == {"loadavg_start", "loadavg_end", "cores", "cpu_busy_pct", "own_cpu_pct", "cpu_busy_other_pct"}
    if r["cpu_busy_pct"] is not None:  # Linux /proc/stat or psutil
        assert 0 <= r["cpu_busy_other_pct"] <= 100 and r["own_cpu_pct"] > 0 and r["cores"] >= 1


def test_flag_outlier_reads_peers_from_the_store(db_path):
    with Store(db_path) as st:
        for v in (3.8e-3, 3.9e-3, 3.7e-3):
            st.save(rec(v))
        st.save(rec(3.8e-3, spec_name="other"))
        slow = rec(0.119)
        assert "31.3× above their median (3.8 ms, 3 runs)" in outliers.flag_outlier(slow, st)
        assert outliers.flag_outlier(rec(3e-3, timings={}), st) is None  # no timings (e.g. another mode): nothing to compare


def test_the_runner_warns_when_it_stores_an_outlier(monkeypatch, db_path):
    torch = get_target("torch")
    if torch.missing_modules():
        pytest.skip("requires: torch installed (the stand-in launch runs nothing)")
    steps = iter([3.8e-3, 3.9e-3, 3.7e-3, 0.119])

    def launch(job, workdir, timeout, on_event=None, extra_env=None):
        job.record_path = str(Path(workdir) / f"record-{job.run_id}.json")
        s = next(steps)
        return {"status": "ok", "error": None, "device": "cpu", "warnings": [], "load": BUSY,
                "timings": {"median_step_s": s, "median_epoch_s": s * 100}}

    monkeypatch.setattr(runner, "launch", launch)
    spec = validate(BASE_SPEC)
    run(spec, [torch], RunOptions(db=db_path, seeds=3, threads=1))
    events = []
    [r] = run(spec, [torch], RunOptions(db=db_path, seeds=1, threads=1, force=True), events.append)
    assert "timing outlier" in r["warnings"][0] and "3 runs" in r["warnings"][0]
    done = next(e for e in events if e["event"] == "done")
    assert done["record"]["warnings"] == r["warnings"]
    with Store(db_path) as st:
        stored = st.records(run_ids=[r["run_id"]])[0]
    assert stored["outlier"]["median_step_s"]["ratio"] == pytest.approx(0.119 / 3.8e-3)
    assert stored["load"] == BUSY
