"""Measurement: summary statistics (unit) and the fields every run record carries (slow)."""
import json

import pytest

from conftest import SPECS, cli
from frameworkbench import measure
from frameworkbench.execution.runner import spread_warnings
from frameworkbench.targets import TARGETS


def test_summary_median_iqr_p95():
    s = measure.summary([float(v) for v in range(1, 101)])
    assert s["median"] == 50.5 and s["iqr"] == pytest.approx(49.5) and s["p95"] == 95 and s["n"] == 100
    assert measure.summary([]) == {}
    assert not measure.noisy(measure.summary([1.0, 1.01, 0.99, 1.0]))
    assert measure.noisy(measure.summary([1.0, 2.0, 1.0, 2.0]))


def test_latency_counts_calls_after_warmup():
    calls = []
    stats = measure.latency(lambda: calls.append(1), warmup=3, repeats=7)
    assert len(calls) == 10 and stats["n"] == 7


def test_rss_sampler_sees_an_allocation():
    with measure.RSSSampler(interval=0.005) as rss:
        block = bytearray(200 * 2**20)
        block[::4096] = b"x" * len(block[::4096])
        import time

        time.sleep(0.05)
    assert rss.peak_mb >= 200 and rss.samples > 0


def test_noise_across_runs_is_flagged():
    recs = [{"target": "t", "status": "ok", "timings": {"median_step_s": v}} for v in (1.0, 1.6, 1.0, 1.7)]
    changed = spread_warnings(recs)
    assert len(changed) == 4 and "noisy across 4 runs" in recs[0]["warnings"][0]
    calm = [{"target": "t", "status": "ok", "timings": {"median_step_s": v}} for v in (1.0, 1.01)]
    assert spread_warnings(calm) == []


@pytest.mark.slow
def test_records_carry_measurements_and_reused_workers_agree(db_path):
    if not TARGETS["torch"].is_installed():
        pytest.skip("requires: torch installed")
    fresh = json.loads(cli("run", str(SPECS / "seed_torch_net.yaml"), "--targets", "torch", "--seeds", "2",
                           "--db", str(db_path), "--json", "--threads", "1").stdout)
    reused = json.loads(cli("run", str(SPECS / "seed_torch_net.yaml"), "--targets", "torch", "--seeds", "2",
                            "--isolate", "target", "--force", "--db", str(db_path), "--json", "--threads", "1").stdout)
    for r in fresh + reused:
        t = r["timings"]
        assert r["status"] == "ok" and r["threads"] == 1 and r["runtime"]["torch_threads"] == 1
        assert t["import_s"] >= 0 and t["build_s"] > 0 and t["first_step_s"] > 0 and t["samples_per_s"] > 0
        assert t["median_step_s"] > 0 and t["step_iqr_s"] >= 0 and t["measured_steps"] == 4 * 103
        for b in ("batch_1", "batch_large"):
            inf = r["inference"][b]
            assert 0 < inf["median_s"] <= inf["p95_s"] and inf["samples_per_s"] > 0
        assert r["peak_rss_mb"] > 50 and r["peak_rss_sampled_mb"] > 50 and r["device_memory"] is None
        assert any(lib.get("user_api") for lib in r["runtime"]["blas"])
        assert r["host"]["cores"] and r["versions"]["torch"]
        assert r["load"]["cores"] and r["load"]["own_cpu_pct"] > 0  # machine load while the run ran
    assert [r["worker"]["reused"] for r in fresh] == [False, False]
    assert [r["worker"]["reused"] for r in reused] == [False, True] and reused[1]["isolate"] == "target"
    assert len({r["worker"]["pid"] for r in reused}) == 1
    # same seed, fresh or reused worker: the same loss curve (results do not depend on reuse)
    for a, b in zip(fresh, reused):
        assert [h["loss"] for h in a["history"]] == [h["loss"] for h in b["history"]]
