"""SQLite store and the typed records it keeps: schema version, round trip, filters, integrity."""
import sqlite3

import pytest

from frameworkbench.execution.records import Job, ParityResult, RecordError, RunRecord, TrainResult, check_result
from frameworkbench.store import SCHEMA_VERSION, Store


def rec(i, **kw):
    base = {"run_id": f"r{i}", "batch_id": "b", "created_at": f"2026-01-01T00:00:0{i}", "spec_name": "s",
            "spec_hash": "h", "dataset_hash": "d", "target": "torch", "status": "ok", "seed": i, "device": "cpu",
            "threads": 2, "run_key": f"k{i}", "history": [{"epoch": 1, "loss": 0.5}]}
    return {**base, **kw}


def test_round_trip_and_filters(db_path):
    with Store(db_path) as st:
        st.save(rec(1))
        st.save(rec(2, target="keras:jax", status="failed"))
        assert [r["run_id"] for r in st.records()] == ["r1", "r2"]
        assert st.records(target="keras:jax")[0]["status"] == "failed"
        assert st.records(status="ok")[0]["history"] == [{"epoch": 1, "loss": 0.5}]
        assert {k: r["run_id"] for k, r in st.completed_records(["k1", "k2", "k3"]).items()} == {"k1": "r1"}
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == str(SCHEMA_VERSION)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_newer_schema_is_refused(db_path):
    Store(db_path).close()
    conn = sqlite3.connect(db_path)
    conn.execute("UPDATE meta SET value='999' WHERE key='schema_version'")
    conn.commit()
    conn.close()
    from frameworkbench.spec import SpecError

    with pytest.raises(SpecError, match="--db: cannot use .* newer than this frameworkbench"):
        Store(db_path)


def test_failed_save_leaves_nothing(db_path):
    with Store(db_path) as st:
        with pytest.raises(RecordError, match="missing field.*'run_key'"):
            st.save({k: v for k, v in rec(1).items() if k != "run_key"})
        with pytest.raises(TypeError):  # fails inside the transaction: rolled back
            st.save(rec(2, history=object()))
        assert st.records() == []


def test_read_only_open_refuses_a_missing_database(tmp_path):
    from frameworkbench.spec import SpecError

    path = tmp_path / "missing" / "x.db"
    with pytest.raises(SpecError, match=r"^--db: cannot use '.*missing/x.db' as the results database: no such"):
        Store(path, create=False)
    with pytest.raises(SpecError, match=r"^db: cannot use .* not a file"):
        Store(tmp_path, create=False, option="db")
    assert not path.parent.exists()
    Store(path).close()  # created on purpose
    with Store(path, create=False) as st:
        assert st.records() == []


def test_run_record_round_trip_keeps_the_dict():
    """Stored records are RunRecord.to_dict(): the same keys, the mode's fields at the top level."""
    r = rec(3, mode="parity", policy="native", parity={"steps": 5}, arrays_shape=None)
    typed = RunRecord.from_dict(r)
    assert typed.results == {"history": r["history"], "parity": {"steps": 5}, "arrays_shape": None}
    assert typed.to_dict() == r and typed.get("outlier") is None and typed.get("policy") == "native"


def test_job_and_mode_results_refuse_unknown_fields():
    job = Job(run_id="r", target="torch", spec={"init": "shared"}, seed=1, device="cpu", threads=1, mode="train",
              policy="native", data_path="d", plan_path="p", weights_path="w", env={})
    assert Job.from_dict(job.to_dict()) == job and not job.shared_init  # native: the framework's own init
    with pytest.raises(RecordError, match="unknown field.*'steps'"):
        Job.from_dict({**job.to_dict(), "steps": 5})
    worker = {"status": "ok", "device": "cpu", "param_count": 3, "timings": {}}
    assert check_result({**worker, "history": [], "final": {}}, TrainResult)
    with pytest.raises(RecordError, match="TrainResult: unknown field.*'parity'"):
        check_result({**worker, "parity": {}}, TrainResult)
    assert ParityResult(parity={"steps": 1}).to_dict() == {"parity": {"steps": 1}}  # unset fields stay out
