"""`frameworkbench diff`: pairing, ratio of medians with bootstrap CI, verdicts, --fail-if, bad input."""
import json

import pytest

from frameworkbench import cli
from frameworkbench.analysis.diff import METRICS, SAME, compare, parse_fail_if, ratio_ci
from frameworkbench.spec import SpecError
from frameworkbench.store import Store
from test_report_summary import unpadded

STEPS = [0.010, 0.0102, 0.0099, 0.0101, 0.0098, 0.0103]  # six runs: 3 seeds x 2 repeats


def rec(i, *, scale=1.0, target="torch", spec="mlp", policy="aligned", threads=2, batch="b", status="ok", **kw):
    step = STEPS[i % len(STEPS)] * scale
    base = {"run_id": f"{batch}-{spec}-{target}-{policy}-{i}", "batch_id": batch,
            "created_at": f"2026-01-01T00:00:{i:02d}",
            "spec_name": spec, "spec_hash": "h", "dataset_hash": "d", "target": target, "status": status,
            "seed": i // 2, "repeat": i % 2, "device": "cpu", "threads": threads, "run_key": f"k{batch}{i}",
            "policy": policy, "mode": "train", "spec": {"training": {"batch_size": 32}},
            "timings": {"median_step_s": step, "median_epoch_s": step * 100},
            "inference": {"batch_1": {"median_s": 1e-4 * (1 + (i % 3) * 0.01)}},
            "peak_rss_mb": 400.0 + i, "final": {"loss": 0.5 + 0.001 * i}}
    return {**base, **kw}


def store(path, records):
    with Store(path) as st:
        for r in records:
            st.save(r)
    return str(path)


@pytest.fixture
def two_dbs(tmp_path):
    a = store(tmp_path / "a.db", [rec(i) for i in range(6)])
    b = store(tmp_path / "b.db", [rec(i, scale=2.0, threads=1, batch="c") for i in range(6)])
    return a, b


def test_planted_slowdown_is_slower_and_fail_if_exits_1(two_dbs, capsys):
    a, b = two_dbs
    assert cli.main(["diff", a, b, "--json", "--fail-if", "median_step>1.10"]) == 1
    out = json.loads(capsys.readouterr().out)
    (pair,) = out["pairs"]
    assert (pair["spec"], pair["target"], pair["policy"]) == ("mlp", "torch", "aligned")
    assert pair["baseline"]["threads"] == ["2"] and pair["candidate"]["threads"] == ["1"]
    step = {m["metric"]: m for m in pair["metrics"]}["median_step"]
    assert step["ratio"] == pytest.approx(2.0) and step["verdict"] == "slower"
    assert 1 < step["ci_low"] <= step["ratio"] <= step["ci_high"]
    assert step["p_value"] is not None and step["p_value"] < 0.01  # 6 vs 6, fully separated
    assert out["fail_if"]["tripped"] == ["--fail-if median_step>1.1: mlp/torch/aligned ratio 2.000"]
    # the same gate on the other direction passes; markdown names the differing setting
    assert cli.main(["diff", b, a, "--fail-if", "median_step>1.10", "--fail-if", "epoch_time >= 1.5"]) == 0
    md = unpadded(capsys.readouterr().out)
    assert "| median step | 20.1 ms | 10 ms | 0.500 |" in md and "faster" in md
    assert "settings that differ: threads" in md


def test_equal_sets_are_same_within_noise(tmp_path, capsys):
    a = store(tmp_path / "a.db", [rec(i) for i in range(6)])
    b = store(tmp_path / "b.db", [rec(i, batch="c") for i in range(6)])
    assert cli.main(["diff", a, b, "--json", "--fail-if", "median_step>1.10"]) == 0
    out = json.loads(capsys.readouterr().out)
    for m in out["pairs"][0]["metrics"]:
        assert m["ratio"] == pytest.approx(1.0) and m["verdict"] == SAME, m
        assert m["ci_low"] <= 1 <= m["ci_high"] and m["p_value"] == pytest.approx(1.0)
    assert out["fail_if"]["tripped"] == []


def test_ci_brackets_ratio_and_is_reproducible():
    base = [1.0, 1.1, 0.9, 1.05, 0.95]
    cand = [1.3, 1.2, 1.25, 1.4, 1.1]
    r, lo, hi = ratio_ci(base, cand)
    assert lo <= r <= hi and r == pytest.approx(1.25)
    assert ratio_ci(base, cand) == (r, lo, hi)  # seeded
    assert ratio_ci([2.0], [3.0]) == (1.5, 1.5, 1.5)


def test_single_runs_have_no_p_value_and_no_verdict(tmp_path, capsys):
    a = store(tmp_path / "a.db", [rec(0)])
    b = store(tmp_path / "b.db", [rec(0, scale=3.0, batch="c")])
    assert cli.main(["diff", a, b]) == 0
    md = unpadded(capsys.readouterr().out)
    assert "| median step | 10 ms | 30 ms | 3.000 | [3.000, 3.000] | n/a | 1/1 | too few runs |" in md


def test_batch_selection_pairs_by_spec_target_policy(tmp_path, capsys):
    db = store(tmp_path / "one.db", [rec(i, batch="x") for i in range(4)] + [rec(i, batch="y", scale=1.5) for i in
                                                                           range(4)]
               + [rec(i, batch="y", target="keras:jax") for i in range(2)]
               + [rec(i, batch="y", policy="native", scale=9) for i in range(2)]
               + [rec(i, batch="y", status="failed", run_id=f"f{i}") for i in range(2)])
    assert cli.main(["diff", f"{db}:x", f"{db}:y", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [(p["target"], p["policy"]) for p in out["pairs"]] == [("torch", "aligned")]
    assert out["only_in_candidate"] == ["mlp/keras:jax/aligned", "mlp/torch/native"]
    step = out["pairs"][0]["metrics"][0]
    assert step["n_baseline"] == step["n_candidate"] == 4 and step["ratio"] == pytest.approx(1.5)


def test_missing_database_exits_2_and_creates_nothing(tmp_path, two_dbs, capsys):
    missing = tmp_path / "nope.db"
    assert cli.main(["diff", str(missing), two_dbs[1]]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: BASELINE: no results database at") and str(missing) in err
    assert not missing.exists()
    assert cli.main(["diff", two_dbs[0], f"{missing}:b"]) == 2  # PATH:BATCH with a missing PATH
    assert "CANDIDATE: no results database at" in capsys.readouterr().err and not missing.exists()


def test_unknown_batch_lists_batches(two_dbs, capsys):
    assert cli.main(["diff", two_dbs[0], f"{two_dbs[1]}:nobatch"]) == 2
    err = capsys.readouterr().err
    assert "CANDIDATE: batch 'nobatch' has no ok runs" in err and "batches there: c" in err


def test_no_shared_pair_says_what_each_set_has(tmp_path, capsys):
    a = store(tmp_path / "a.db", [rec(i) for i in range(2)])
    b = store(tmp_path / "b.db", [rec(i, target="keras:jax", batch="c") for i in range(3)])
    assert cli.main(["diff", a, b]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "share no (spec, target, policy) pair" in err
    assert "has: mlp/torch/aligned (2 runs)" in err and "has: mlp/keras:jax/aligned (3 runs)" in err


def test_no_shared_metric(tmp_path, capsys):
    bare = {"timings": {}, "inference": {}, "peak_rss_mb": None, "final": {}}
    a = store(tmp_path / "a.db", [rec(i, **bare) for i in range(2)])
    b = store(tmp_path / "b.db", [rec(i, batch="c") for i in range(2)])
    assert cli.main(["diff", a, b]) == 2
    assert "no metric measured in both sets" in capsys.readouterr().err


@pytest.mark.parametrize("rule", ["median_step", "median_step>>1", "speed>1.1", "median_step>fast", "> 1.1", ""])
def test_bad_fail_if_shows_grammar_and_metrics(two_dbs, capsys, rule):
    assert cli.main(["diff", *two_dbs, "--fail-if", rule]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: --fail-if: cannot parse {rule!r}; expected METRIC (>|<|>=|<=) NUMBER")
    assert ", ".join(METRICS) in err and err.count("\n") == 1


def test_fail_if_on_a_metric_no_pair_has_is_refused(tmp_path, capsys):
    recs = [rec(i, inference={}) for i in range(2)]
    a = store(tmp_path / "a.db", recs)
    assert cli.main(["diff", a, a, "--fail-if", "latency_b1>1.1"]) == 2
    assert "no compared pair has latency_b1" in capsys.readouterr().err


def test_parse_fail_if_forms():
    assert str(parse_fail_if(" peak_rss <= 0.9 ")) == "peak_rss<=0.9"
    assert parse_fail_if("final_loss<1e-1").threshold == 0.1
    with pytest.raises(SpecError):
        parse_fail_if("peak_rss=1")


def test_compare_is_pure_and_verdict_respects_min_effect():
    a = [rec(i) for i in range(6)]
    b = [rec(i, scale=1.03) for i in range(6)]  # a real but small shift: below a 5 % minimum effect
    m = {x["metric"]: x for x in compare(a, b)["pairs"][0]["metrics"]}["median_step"]
    assert m["ci_low"] > 1 and m["verdict"] == SAME
    m = {x["metric"]: x for x in compare(a, b, min_effect=0.01)["pairs"][0]["metrics"]}["median_step"]
    assert m["verdict"] == "slower"


def test_diff_and_mlflow_help_stay_light():
    import subprocess
    import sys

    code = ("import sys\nimport frameworkbench.cli as c\nfor cmd in ('diff', 'mlflow'):\n    try:\n"
            "        c.main([cmd, '--help'])\n    except SystemExit:\n        pass\n"
            "print(sorted(m for m in ('mlflow', 'scipy', 'sqlalchemy', 'torch', 'tensorflow', 'jax', 'keras') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "usage: frameworkbench diff" in out and "usage: frameworkbench mlflow" in out
    assert out.strip().splitlines()[-1] == "[]"
