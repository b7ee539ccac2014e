"""Test-only fault injection in workers: ``FRAMEWORKBENCH_FAULT=KIND[:ARG][@TARGET][#SEED][,...]``.

KIND is one of :data:`FAULTS`; without ``@TARGET`` or ``#SEED`` a fault applies to every run.
``nan:N`` makes the loss non-finite from epoch N (default 1). Unset, nothing here acts.
"""
from __future__ import annotations

import os
import time

FAULT_ENV = "FRAMEWORKBENCH_FAULT"
FAULTS = ("raise", "exit", "kill", "hang", "oom", "nan")
OOM_HEADROOM = 64 << 20  # bytes the oom fault leaves the worker above what it already uses


def faults_for(target: str, seed: int, value: str | None = None) -> list[tuple[str, str]]:
    """The injected faults that apply to a run of ``target`` with ``seed``, as (kind, argument) pairs."""
    value = os.environ.get(FAULT_ENV, "") if value is None else value
    out = []
    for entry in filter(None, (e.strip() for e in value.split(","))):
        head, _, only_seed = entry.partition("#")
        kind_arg, _, only_target = head.partition("@")
        kind, _, arg = kind_arg.partition(":")
        if kind not in FAULTS:
            raise RuntimeError(f"{FAULT_ENV}: unknown fault {kind!r}; expected one of: {', '.join(FAULTS)}")
        if only_target and only_target != target:
            continue
        if only_seed and int(only_seed) != int(seed):
            continue
        out.append((kind, arg))
    return out


def inject(target: str, seed: int) -> None:
    """Raise, exit, die, hang or run out of memory as ``FRAMEWORKBENCH_FAULT`` says (``nan`` acts later)."""
    for kind, _ in faults_for(target, seed):
        if kind == "raise":
            raise RuntimeError("injected fault")
        if kind == "exit":
            os._exit(3)
        if kind == "kill":
            import signal

            os.kill(os.getpid(), signal.SIGKILL)
        if kind == "hang":
            time.sleep(1e6)
        if kind == "oom":
            _exhaust_memory()


def _exhaust_memory() -> None:
    """Cap the address space just above current use, then allocate past it: a real MemoryError."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    try:
        with open("/proc/self/statm") as f:
            used = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        used = None
    try:
        if used is not None:
            cap = used + OOM_HEADROOM
            resource.setrlimit(resource.RLIMIT_AS, (cap if hard == resource.RLIM_INFINITY else min(cap, hard), hard))
            blocks = [bytearray(OOM_HEADROOM // 4) for _ in range(8)]  # twice the headroom: past the cap
            del blocks
        bytearray(1 << 62)  # no cap could be set: more than any address space
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def loss(target: str, seed: int, epoch: int, value: float) -> float:
    """The epoch's loss, or NaN when a ``nan[:N]`` fault applies from epoch N on."""
    for kind, arg in faults_for(target, seed):
        if kind == "nan" and epoch >= int(arg or 1):
            return float("nan")
    return value
