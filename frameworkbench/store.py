"""SQLite results store: one row per run, the whole record kept as JSON.

Versioned schema (``meta.schema_version``), WAL journal and a busy timeout so
several processes can write one database, and every write in a transaction:
a record is stored whole or not at all.
"""
from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Iterable

from .execution.records import SCHEMA_VERSION, RunRecord

DEFAULT_DB = "frameworkbench.db"
ENV_DB = "FRAMEWORKBENCH_DB"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id       TEXT PRIMARY KEY,
    batch_id     TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    spec_name    TEXT NOT NULL,
    spec_hash    TEXT NOT NULL,
    dataset_hash TEXT,
    target       TEXT NOT NULL,
    status       TEXT NOT NULL,
    seed         INTEGER NOT NULL,
    device       TEXT,
    threads      INTEGER,
    run_key      TEXT NOT NULL,
    record       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_spec ON runs (spec_name, spec_hash, target);
CREATE INDEX IF NOT EXISTS runs_key ON runs (run_key, status);
"""
_COLUMNS = ("run_id", "batch_id", "created_at", "spec_name", "spec_hash", "dataset_hash", "target", "status", "seed",
            "device", "threads", "run_key")  # the columns before ``record``, in table order


def default_path() -> Path:
    return Path(os.environ.get(ENV_DB) or DEFAULT_DB)


class Store:
    """Results database. Use as a context manager or call :meth:`close`."""

    def __init__(self, path: str | os.PathLike | None = None, *, create: bool = True, option: str = "--db") -> None:
        """Open (``create``: or create) the database; ``create=False`` refuses a path with no database.

        Errors are SpecErrors naming ``option`` (the API passes ``"db"``)."""
        self.path = Path(path) if path else default_path()
        self.conn = None
        from .spec import SpecError, problem

        def refuse(reason: str) -> SpecError:
            hint = "" if path else f" (the default; set --db or ${ENV_DB})"
            return SpecError([problem(option, f"cannot use {str(self.path)!r}{hint} as the results database: "
                                              f"{reason}")])

        if not create:
            try:
                exists, is_file = self.path.exists(), self.path.is_file()
            except (OSError, ValueError) as exc:
                raise refuse(str(exc)) from None
            if not exists:
                raise refuse("no such file; run `frameworkbench run SPEC` first, or check the path")
            if not is_file:
                raise refuse("not a file")
        try:
            if create and self.path.parent and not self.path.parent.exists():
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            self.conn.execute("PRAGMA busy_timeout = 30000")
            self.conn.execute("PRAGMA journal_mode = WAL")
            self._migrate()
        except (OSError, ValueError, sqlite3.DatabaseError) as exc:  # a directory, not a database, no access
            if self.conn is not None:
                self.conn.close()
            if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
                raise  # busy past the timeout: not a problem with the user's input
            raise refuse(str(exc)) from None

    def _migrate(self) -> None:
        with self._tx():
            for stmt in filter(str.strip, _SCHEMA.split(";")):
                self.conn.execute(stmt)
            row = self.conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row is None:
                self.conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            elif int(row[0]) > SCHEMA_VERSION:
                raise ValueError(f"{self.path} has schema version {row[0]}, newer than this frameworkbench "
                                   f"({SCHEMA_VERSION}); upgrade frameworkbench")

    def _tx(self):
        conn = self.conn

        class _Tx:
            def __enter__(self):
                conn.execute("BEGIN IMMEDIATE")

            def __exit__(self, exc_type, exc, tb):
                conn.execute("ROLLBACK" if exc_type else "COMMIT")
                return False

        return _Tx()

    def save(self, record: dict) -> None:
        """Insert (or replace) one run record (checked as a :class:`RunRecord`) in a single transaction."""
        rec = RunRecord.from_dict(record)
        row = [rec.get(c) for c in _COLUMNS]
        row[_COLUMNS.index("seed")] = int(rec.seed)
        with self._tx():
            self.conn.execute(f"INSERT OR REPLACE INTO runs VALUES ({','.join('?' * (len(_COLUMNS) + 1))})",
                              (*row, json.dumps(rec.to_dict(), sort_keys=True)))

    def records(self, *, spec_name: str | None = None, target: str | None = None, status: str | None = None,
                batch_id: str | None = None, run_ids: Iterable[str] | None = None) -> list[dict]:
        """Stored records matching every given filter, oldest first."""
        where, args = [], []
        for col, val in (("spec_name", spec_name), ("target", target), ("status", status), ("batch_id", batch_id)):
            if val is not None:
                where.append(f"{col} = ?")
                args.append(val)
        if run_ids is not None:
            ids = list(run_ids)
            where.append(f"run_id IN ({','.join('?' * len(ids))})")
            args += ids
        sql = "SELECT record FROM runs" + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY created_at, run_id"
        return [json.loads(r[0]) for r in self.conn.execute(sql, args)]

    def completed_records(self, keys: Iterable[str]) -> dict[str, dict]:
        """The newest ``ok`` record for each run key among ``keys`` that has one (for resuming)."""
        keys = list(dict.fromkeys(keys))
        out: dict[str, dict] = {}
        for i in range(0, len(keys), 500):  # stay under SQLite's bound-parameter limit
            chunk = keys[i:i + 500]
            rows = self.conn.execute(f"SELECT run_key, record FROM runs WHERE status = 'ok' AND run_key IN "
                                     f"({','.join('?' * len(chunk))}) ORDER BY created_at, run_id", chunk)
            for key, blob in rows:
                out[key] = json.loads(blob)  # later rows win: the newest record
        return out

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
