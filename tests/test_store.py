"""SQLite store: schema version, round trip, filters, integrity."""
import sqlite3

import pytest

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
        assert st.completed_keys(["k1", "k2", "k3"]) == {"k1"}
        assert st.integrity_ok()
    conn = sqlite3.connect(db_path)
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
        with pytest.raises(KeyError):
            st.save({"run_id": "x"})
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
