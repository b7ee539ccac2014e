"""``frameworkbench lm-check``: which language-model libraries each framework has, measured here.

For each target (default: the first target of every family and backend, in registry order) a
subprocess with the target's environment (``KERAS_BACKEND`` is per process) and a time limit runs
its family's check: the module ``lm`` beside the target's adapter module (found through the target
registry, so the core names no framework). A check builds a tiny randomly initialised BERT-style
classifier from constructor arguments (:data:`SIZES`; nothing is downloaded), measures the loss on
a seeded batch, trains one step with Adam on that batch and measures the loss again.

A family's check module declares ``LIBRARY`` (the distribution), ``LIBRARY_MODULE`` (what it imports) and
``MODEL`` (the class it builds), and ``check(sizes, tokens, labels, imported)``: it calls ``imported()`` once
its libraries (and the model class) are imported, raises :class:`Unsupported` with the reason when the library
has no such class for its framework, and returns :func:`one_step`'s figures.

Each target gives one record, stored like every run (``mode`` = ``lm-check``, the check's figures
under ``language_model``): ``ok`` with the figures, ``unsupported`` when the installed library has
no model classes for the framework (the reason is the finding), ``skipped`` when the library is not
installed, ``failed`` with the error, or ``timeout``. Imports no framework itself.
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np

MODE = "lm-check"
SPEC_NAME = "lm-check"  # the stored records' spec name
CHECK_VERSION = 1  # bump when the check's procedure changes (part of the records' spec hash)
# The tiny BERT-style classifier every check builds, and its one training step.
SIZES = {"vocab_size": 100, "hidden_size": 32, "num_layers": 2, "num_heads": 2, "intermediate_size": 64,
         "sequence_length": 16, "batch_size": 8, "num_classes": 2, "dropout": 0.0, "learning_rate": 1e-3, "seed": 0}
STATUSES = ("ok", "unsupported", "skipped", "failed", "timeout")
DEFAULT_TIMEOUT = 600.0
EXTRA = "lm"  # the pyproject extra that installs the libraries


class Unsupported(Exception):
    """Raised by a family's check: the installed library offers nothing for this framework (the message says why)."""


def spec_hash(sizes: dict = SIZES) -> str:
    text = json.dumps({"check": MODE, "version": CHECK_VERSION, "sizes": sizes}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def batch(sizes: dict = SIZES) -> tuple[np.ndarray, np.ndarray]:
    """The seeded batch every check trains on: token ids ``(batch, sequence)`` (never 0) and class labels."""
    rng = np.random.default_rng(sizes["seed"])
    tokens = rng.integers(1, sizes["vocab_size"], (sizes["batch_size"], sizes["sequence_length"]), dtype=np.int32)
    labels = rng.integers(0, sizes["num_classes"], sizes["batch_size"]).astype(np.int32)
    return tokens, labels


def cross_entropy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Mean softmax cross-entropy of ``logits`` (float64), the loss every check reports."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(len(labels)), labels].mean())


def one_step(build: Callable[[], object], count: Callable[[object], int], logits: Callable[[object], np.ndarray],
             step: Callable[[object], None], labels: np.ndarray) -> dict:
    """Build the model, then loss (inference mode) → one training step → loss, timed. The family's check
    supplies the four callables; ``logits`` returns host arrays, ``step`` returns once the update is done."""
    t0 = time.perf_counter()
    model = build()
    build_s = time.perf_counter() - t0
    before = cross_entropy(logits(model), labels)
    t0 = time.perf_counter()
    step(model)
    step_s = time.perf_counter() - t0
    return {"param_count": int(count(model)), "loss_before": before, "loss_after": cross_entropy(logits(model), labels),
            "timings": {"build_s": build_s, "step_s": step_s}}


# ----------------------------------------------------------------------------- child process
def check_module(target) -> str:
    """The family's check module: ``lm`` beside the target's adapter module (read from the registry)."""
    return target.adapter.partition(":")[0].rpartition(".")[0] + ".lm"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]


def _child(target_name: str) -> dict:
    """Run one target's check in this process (the environment is already the target's)."""
    from ..measure import peak_rss_mb
    from ..targets import TARGETS

    target = TARGETS[target_name]
    name = check_module(target)
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        return {"status": "unsupported", "error": f"no language-model check for the {target.family} family"}
    out = {"library": module.LIBRARY, "library_version": None, "model": module.MODEL}
    if importlib.util.find_spec(module.LIBRARY_MODULE) is None:
        return {**out, "status": "skipped",
                "error": f"{module.LIBRARY} is not installed (pip install 'frameworkbench[{EXTRA}]')"}
    out["library_version"] = importlib.metadata.version(module.LIBRARY)
    tokens, labels = batch()
    t0 = time.perf_counter()
    try:
        res = module.check(SIZES, tokens, labels, imported=lambda: out.setdefault(
            "import_s", time.perf_counter() - t0))
    except Unsupported as exc:
        return {**out, "status": "unsupported", "error": str(exc)}
    except Exception as exc:  # noqa: BLE001 - every failure is a result
        return {**out, "status": "failed", "error": _first_line(exc), "traceback": traceback.format_exc()[-4000:]}
    timings = {"import_s": out.pop("import_s", None), **res.pop("timings")}
    return {**out, **res, "status": "ok", "timings": timings, "peak_rss_mb": peak_rss_mb()}


def child_env(target, threads: int) -> dict:
    """The subprocess environment: the target's variables, thread limits, CPU only, no hub downloads."""
    env = {**os.environ, **target.env, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "CUDA_VISIBLE_DEVICES": "-1", "JAX_PLATFORMS": "cpu", "TF_CPP_MIN_LOG_LEVEL": "2"}
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
        env[var] = str(threads)
    return env


def run_check(target, timeout: float = DEFAULT_TIMEOUT, threads: int = 1) -> dict:
    """One target's check in a subprocess: its result fields (``status`` one of :data:`STATUSES`)."""
    with tempfile.TemporaryDirectory(prefix="fb-lm-") as tmp:
        out = Path(tmp) / "result.json"
        cmd = [sys.executable, "-m", "frameworkbench.analysis.language_models", target.name, str(out)]
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(cmd, env=child_env(target, threads), capture_output=True, text=True,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"status": "timeout", "error": f"no result within {timeout:g} s", "worker_wall_s": timeout}
        wall = time.perf_counter() - t0
        if out.exists():
            return {**json.loads(out.read_text(encoding="utf-8")), "worker_wall_s": wall}
        tail = (proc.stderr or proc.stdout or "").strip()[-2000:]
        last = tail.splitlines()[-1] if tail else f"exit status {proc.returncode}"
        return {"status": "failed", "error": f"the check process ended without a result: {last}"[:300],
                "stderr_tail": tail, "worker_wall_s": wall}


# ----------------------------------------------------------------------------- parent side
def default_targets() -> list:
    """The first registered target of every (family, backend): one check per framework and Keras backend."""
    from ..targets import TARGETS

    seen, out = set(), []
    for t in TARGETS.values():
        if (t.family, t.backend) not in seen:
            seen.add((t.family, t.backend))
            out.append(t)
    return out


def to_record(target, result: dict, batch_id: str, threads: int) -> dict:
    """A run record (:class:`~frameworkbench.execution.records.RunRecord`) of one check."""
    from ..measure import host_info

    result = dict(result)
    lm = {k: result.pop(k, None) for k in ("library", "library_version", "model", "loss_before", "loss_after")}
    lm["sizes"] = SIZES
    h = spec_hash()
    versions = {**target.versions(), **({lm["library"]: lm["library_version"]} if lm["library"] else {})}
    rec = {"run_id": uuid.uuid4().hex[:12], "batch_id": batch_id,
           "created_at": datetime.now(timezone.utc).isoformat(timespec="microseconds"), "spec_name": SPEC_NAME,
           "spec_hash": h, "target": target.name, "seed": SIZES["seed"], "run_key": f"{MODE}:{target.name}:{h}",
           "family": target.family, "backend": target.backend, "mode": MODE, "device": "cpu", "threads": threads,
           "versions": versions, "host": host_info(), "language_model": lm, "error": None, **result}
    rec["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="microseconds")
    return rec


def run_checks(targets: list, timeout: float = DEFAULT_TIMEOUT, threads: int = 1, db=None, store: bool = True,
               on_record: Callable[[dict], None] | None = None) -> list[dict]:
    """Every target's check, one subprocess at a time; records stored in ``db`` (unless ``store`` is false)."""
    from ..store import Store

    batch_id, records = uuid.uuid4().hex[:12], []
    for target in targets:
        rec = to_record(target, run_check(target, timeout, threads), batch_id, threads)
        if store:
            with Store(db) as st:
                st.save(rec)
        records.append(rec)
        if on_record:
            on_record(rec)
    return records


# ----------------------------------------------------------------------------- command
HEADERS = ("target", "library", "status", "model", "params", "import", "build", "1st step", "loss before → after",
           "peak RSS", "reason / error")


def _s(v: float | None) -> str:
    return "—" if v is None else (f"{v:.2f} s" if v >= 1 else f"{v * 1e3:.1f} ms")


def rows(records: list[dict]) -> list[list[str]]:
    out = []
    for r in records:
        lm, tm = r.get("language_model") or {}, r.get("timings") or {}
        lib = f"{lm['library']} {lm.get('library_version') or ''}".strip() if lm.get("library") else "—"
        loss = "—" if lm.get("loss_before") is None else f"{lm['loss_before']:.4f} → {lm['loss_after']:.4f}"
        rss = "—" if r.get("peak_rss_mb") is None else f"{r['peak_rss_mb']:.0f} MiB"
        out.append([r["target"], lib, r["status"], lm.get("model") or "—",
                    "—" if r.get("param_count") is None else str(r["param_count"]), _s(tm.get("import_s")),
                    _s(tm.get("build_s")), _s(tm.get("step_s")), loss, rss,
                    (r.get("error") or "").replace("|", "/")])
    return out


def render_table(records: list[dict]) -> str:
    from ..report.markdown import table

    return table(HEADERS, rows(records), ["l", "l", "l", "l", "r", "r", "r", "r", "r", "r", "l"])


def add_parser(sub, db_arg) -> None:
    c = sub.add_parser(MODE, help="which language-model libraries each framework has: a tiny BERT trained one step",
                       description="For each target (default: one per framework and Keras backend), in a subprocess "
                                   "with a time limit: build a tiny randomly initialised BERT-style classifier with "
                                   "the framework's language-model library (transformers for PyTorch, TensorFlow "
                                   "and Flax where the installed version still ships those classes; keras_hub for "
                                   "Keras 3), no download, and train it one step. Stores one record per target; "
                                   "`frameworkbench report` shows them in the language-model row.")
    c.add_argument("--targets", metavar="A,B", help="comma-separated targets or 'all' (default: the first target of "
                                                    "every family and backend)")
    c.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                   help=f"time limit per target (default: {DEFAULT_TIMEOUT:g})")
    c.add_argument("--threads", type=int, default=1, metavar="N", help="threads per check (default: 1)")
    db_arg(c)
    c.add_argument("--json", action="store_true", help="print the records as JSON")
    c.add_argument("--quiet", action="store_true", help="no progress lines")


def cmd_lm_check(args) -> int:
    from ..spec import SpecError, problem
    from ..targets import parse_targets

    if not args.timeout > 0:
        raise SpecError([problem("--timeout", f"got {args.timeout:g}; expected seconds > 0")])
    if args.threads < 1:
        raise SpecError([problem("--threads", f"got {args.threads}; expected an integer >= 1")])
    targets = parse_targets(args.targets) if args.targets else default_targets()

    def progress(rec: dict) -> None:
        if not args.quiet:
            err = f" — {rec['error']}" if rec.get("error") else ""
            print(f"  {rec['target']}: {rec['status']}{err}", file=sys.stderr, flush=True)

    records = run_checks(targets, args.timeout, args.threads, args.db, on_record=progress)
    if args.json:
        print(json.dumps(records, indent=2, default=str))
    else:
        print(render_table(records))
    return 1 if any(r["status"] in ("failed", "timeout") for r in records) else 0


def main(argv: list[str]) -> int:
    """Child entry: ``python -m frameworkbench.analysis.language_models TARGET RESULT.json``."""
    target_name, out = argv
    try:
        result = _child(target_name)
    except Exception as exc:  # noqa: BLE001 - the parent reads every failure from the file
        result = {"status": "failed", "error": _first_line(exc), "traceback": traceback.format_exc()[-4000:]}
    Path(out).write_text(json.dumps(result, default=float), encoding="utf-8")
    return 0


if __name__ == "__main__":  # run the package's copy of this module: its Unsupported is the one checks raise
    from frameworkbench.analysis.language_models import main as package_main

    sys.exit(package_main(sys.argv[1:]))
