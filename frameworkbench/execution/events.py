"""Progress events from a worker to the runner: ``FBEVENT {json}`` lines on the worker's stdout."""
from __future__ import annotations

import json

EVENT_PREFIX = "FBEVENT "


class WorkerState:
    """What this worker process has done: the run going on and how many it finished before it."""

    current_run: str | None = None
    jobs_done: int = 0  # runs this process finished before the current one (worker reuse)


def emit(event: str, **fields) -> None:
    """Print one event for the current run (the runner relays it)."""
    print(EVENT_PREFIX + json.dumps({"event": event, "run_id": WorkerState.current_run, **fields}), flush=True)


def parse(line: str) -> dict | None:
    """The event of a worker's stdout line, or None for any other line."""
    if not line.startswith(EVENT_PREFIX):
        return None
    try:
        return json.loads(line[len(EVENT_PREFIX):])
    except json.JSONDecodeError:
        return None
