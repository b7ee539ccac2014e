"""Studies: the experiment specs behind the rebuilt document tables (``frameworkbench study``).

A study file (``specs/studies/NAME.yaml``) lists experiments. Each experiment has a worker
``mode`` (:data:`frameworkbench.execution.modes.MODES`), targets, seeds, and either one spec
(``spec:`` inline or ``spec_file:`` relative to the study file) or a grid that expands
into many specs:

* ``hidden: [relu, tanh, ...]`` with ``spec``: one spec per hidden activation (every dense
  layer but the last gets it);
* ``tasks: {binary: {datasets, outputs}, ...}`` with ``hidden`` and ``base``: per task and
  dataset, every output activation × loss pair (hidden layers ``default_hidden``) and every
  hidden activation (output = the task's first pair).

Every generated spec is validated like any other (the validator's rules decide which
output × loss pairs exist) and named ``study:<study>:<experiment>[:<variant>]``; the report
finds its records by that name and reads the values from the stored spec snapshot.
Runs go through :func:`frameworkbench.execution.runner.run`, one worker process each, and are stored
like every run; ``jobs`` > 1 runs that many specs at a time (for experiments whose result
is a metric, not a timing).
"""
from __future__ import annotations

import copy
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from ..spec import (SKLEARN_DATASETS, Spec, SpecError, load_spec, problem, read_yaml, unknown, validate,
                   wrong_type)

PREFIX = "study"
STUDY_DIR = Path("specs") / "studies"
EXPERIMENT_FIELDS = ("name", "mode", "targets", "seeds", "threads", "jobs", "timeout", "isolate", "spec", "spec_file",
                     "hidden", "default_hidden", "tasks", "base", "job_options", "description")


def spec_name(study: str, experiment: str, variant: str | None = None) -> str:
    return ":".join([PREFIX, study, experiment] + ([variant] if variant else []))


def parse_name(name: str) -> tuple[str, str, str | None] | None:
    """(study, experiment, variant) of a study spec name, or None for any other spec."""
    parts = name.split(":", 3)
    if len(parts) < 3 or parts[0] != PREFIX:
        return None
    return parts[1], parts[2], parts[3] if len(parts) > 3 else None


def is_study_spec(name: str) -> bool:
    return parse_name(name) is not None


@dataclass
class Experiment:
    study: str
    name: str
    mode: str
    targets: list[str]
    seeds: int
    specs: list[Spec]
    threads: int | None = None
    jobs: int = 1
    timeout: float | None = None
    job_options: dict = field(default_factory=dict)
    isolate: str | None = None  # runner isolation ("run": fresh worker per run; "target": one per target and spec)

    @property
    def runs(self) -> int:
        return len(self.specs) * len(self.targets) * self.seeds


@dataclass
class Study:
    name: str
    description: str
    experiments: list[Experiment]
    source: str

    @property
    def runs(self) -> int:
        return sum(e.runs for e in self.experiments)


# ----------------------------------------------------------------------------- loading
def find(name_or_path: str, root: Path | None = None) -> Path:
    """A study file: an existing path, or NAME in specs/studies/ (under ``root``, default the cwd)."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml", ".json") and p.exists():
        return p
    folder = (root or Path.cwd()) / STUDY_DIR
    cand = folder / f"{name_or_path}.yaml"
    if cand.exists():
        return cand
    known = sorted(q.stem for q in folder.glob("*.yaml")) if folder.is_dir() else []
    raise SpecError([unknown("study", "study", name_or_path, known or [f"(no studies in {folder})"])])


def load(name_or_path: str | Mapping[str, Any], root: Path | None = None) -> Study:
    """Load a study from a name, a path or a mapping; expand and validate every spec in it."""
    if isinstance(name_or_path, Mapping):
        raw, source, base_dir = dict(name_or_path), "<study>", root or Path.cwd()
    else:
        path = find(str(name_or_path), root)
        import yaml

        try:
            raw = read_yaml(path.read_text(encoding="utf-8"))  # the spec loader's YAML: 1e-3 is a number
        except yaml.YAMLError as exc:
            raise SpecError([problem("", f"malformed YAML: {exc}")], source=str(path)) from None
        source, base_dir = str(path), path.parent
    if not isinstance(raw, Mapping):
        raise SpecError([wrong_type("", raw, "a mapping with name and experiments")], source=source)
    name = raw.get("name")
    if not isinstance(name, str) or not name or ":" in name:
        raise SpecError([wrong_type("name", name, "a study name without ':'")], source=source)
    exps = raw.get("experiments")
    if not isinstance(exps, list) or not exps:
        raise SpecError([wrong_type("experiments", exps, "a non-empty list of experiments")], source=source)
    problems, out = [], []
    for i, e in enumerate(exps):
        try:
            out.append(_experiment(name, e, f"experiments[{i}]", base_dir))
        except SpecError as exc:
            problems += [problem(f"experiments[{i}]" + (f".{p.path}" if p.path else ""), p.message)
                         for p in exc.problems]
    if problems:
        raise SpecError(problems, source=source)
    return Study(name, str(raw.get("description", "")), out, source)


def _experiment(study: str, e: Any, where: str, base_dir: Path) -> Experiment:
    from ..execution.modes import MODES
    from ..targets import TARGETS

    if not isinstance(e, Mapping):
        raise SpecError([wrong_type("", e, "a mapping")])
    bad = [unknown(str(k), "experiment field", k, EXPERIMENT_FIELDS) for k in e if k not in EXPERIMENT_FIELDS]
    name, mode = e.get("name"), e.get("mode", "train")
    if not isinstance(name, str) or not name or ":" in name:
        bad.append(wrong_type("name", name, "an experiment name without ':'"))
    if mode not in MODES:
        bad.append(unknown("mode", "worker mode", mode, MODES))
    targets = e.get("targets") or []
    if targets == "all":  # every registered target, so a new adapter joins the study by itself
        targets = list(TARGETS)
    if not isinstance(targets, list) or not targets:
        bad.append(wrong_type("targets", targets, "a non-empty list of target names or 'all'"))
        targets = []
    bad += [unknown("targets", "target", t, TARGETS) for t in targets if t not in TARGETS]
    for key, lo in (("seeds", 1), ("jobs", 1), ("threads", 1)):
        v = e.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < lo):
            bad.append(wrong_type(key, v, f"an integer >= {lo}"))
    if bad:
        raise SpecError(bad)
    specs = expand(study, name, e, base_dir)
    return Experiment(study, name, mode, list(targets), int(e.get("seeds", 1)), specs, e.get("threads"),
                      int(e.get("jobs", 1)), e.get("timeout"), dict(e.get("job_options") or {}), e.get("isolate"))


def _base_spec(e: Mapping, base_dir: Path) -> dict:
    if "spec_file" in e:
        return load_spec(base_dir / str(e["spec_file"])).to_dict()
    if "spec" in e:
        if not isinstance(e["spec"], Mapping):
            raise SpecError([wrong_type("spec", e["spec"], "a spec mapping")])
        return copy.deepcopy(dict(e["spec"]))
    raise SpecError([problem("spec", "missing: give spec, spec_file, or base with tasks")])


def _named(raw: dict, name: str) -> Spec:
    raw = {**raw, "name": name}
    try:
        return validate(raw)
    except SpecError as exc:
        raise SpecError([problem(f"{name}: {p.path}" if p.path else name, p.message) for p in exc.problems]) from None


def with_hidden(raw: dict, act: str) -> dict:
    """Every dense layer but the last gets activation ``act``."""
    raw = copy.deepcopy(raw)
    dense = [i for i, lay in enumerate(raw["layers"]) if lay.get("type", "dense") == "dense"]
    for i in dense[:-1]:
        raw["layers"][i]["activation"] = act
    return raw


def dataset_shape(d: Mapping) -> tuple[int, int | None]:
    """(feature count, class count) of a dataset entry, reading scikit-learn's bundled data if needed."""
    if d.get("source") == "sklearn":
        name = d.get("name")
        if name not in SKLEARN_DATASETS:
            raise SpecError([unknown("data.name", "scikit-learn dataset", name, SKLEARN_DATASETS)])
        from sklearn import datasets

        x, y = getattr(datasets, f"load_{name}")(return_X_y=True)
        classes = int(y.max()) + 1 if SKLEARN_DATASETS[name] != "regression" else None
        return int(x.shape[1]), classes
    return int(d.get("n_features", 10)), int(d.get("n_classes", 3))


def dataset_label(d: Mapping) -> str:
    return str(d["name"]) if d.get("source") == "sklearn" else f"{d.get('source', 'synthetic')}"


def expand(study: str, exp: str, e: Mapping, base_dir: Path) -> list[Spec]:
    """The validated specs of one experiment (see the module docstring)."""
    if "tasks" in e:
        return _task_grid(study, exp, e)
    raw = _base_spec(e, base_dir)
    if "hidden" in e:
        return [_named(with_hidden(raw, h), spec_name(study, exp, h)) for h in e["hidden"]]
    return [_named(raw, spec_name(study, exp))]


def _task_grid(study: str, exp: str, e: Mapping) -> list[Spec]:
    base = dict(e.get("base") or {})
    widths = base.pop("hidden", [32, 32])
    hidden_all = list(e.get("hidden") or ["relu"])
    default_hidden = e.get("default_hidden", hidden_all[0])
    out, seen = [], set()
    for task, t in (e["tasks"] or {}).items():
        outputs = t.get("outputs") or []
        if not outputs:
            raise SpecError([problem(f"tasks.{task}.outputs", "expected at least one {activation, loss} pair")])
        combos = [(default_hidden, o) for o in outputs] + [(h, outputs[0]) for h in hidden_all if h != default_hidden]
        for d in t.get("datasets") or []:
            n_features, n_classes = dataset_shape(d)
            units = 1 if task in ("binary", "regression") else n_classes
            for hidden, o in combos:
                key = (task, dataset_label(d), hidden, o["activation"], o["loss"])
                if key in seen:
                    continue
                seen.add(key)
                data = dict(d)
                if data.get("source", "synthetic") == "synthetic":
                    data.setdefault("n_features", n_features)
                metrics = list(t.get("metrics") or (["accuracy"] if task != "regression" else ["mse"]))
                raw = {**copy.deepcopy(base), "task": task, "input_shape": [n_features], "data": data,
                       "layers": [{"type": "dense", "units": w, "activation": hidden} for w in widths]
                       + [{"type": "dense", "units": units, "activation": o["activation"]}],
                       "loss": o["loss"], "metrics": metrics}
                variant = f"{task}:{dataset_label(d)}:{hidden}:{o['activation']}+{o['loss']}"
                out.append(_named(raw, spec_name(study, exp, variant)))
    return out


# ----------------------------------------------------------------------------- running
def _annotate(rec: dict) -> None:
    """Store the API level the target trains with (fit or a custom loop) in the record."""
    from ..targets import TARGETS

    if rec["target"] in TARGETS:
        rec["api"] = TARGETS[rec["target"]].api


def run_study(study: Study, *, db=None, only: list[str] | None = None, seeds: int | None = None,
              jobs: int | None = None, on_event: Callable[[dict], None] | None = None, executor: str = "local",
              ray_address: str | None = None) -> dict:
    """Run every experiment (or those named in ``only``); return counts per status and the wall time.

    ``jobs`` (default: each experiment's own) bounds the runs at a time; ``executor`` is where
    they run (:mod:`frameworkbench.execution.executors`: local, or ray at ``ray_address``).
    """
    from ..execution.executors import check_options, executors

    names = [e.name for e in study.experiments]
    for o in only or []:
        if o not in names:
            raise SpecError([unknown("--only", "experiment", o, names)])
    check_options(executor, jobs, ray_address)
    t0, counts = time.perf_counter(), {}
    with executors(executor, ray_address) as make:
        for exp in study.experiments:
            if not only or exp.name in only:
                _run_experiment(study, exp, make(jobs or exp.jobs), db, seeds or exp.seeds, counts,
                                on_event or (lambda ev: None))
    return {"counts": counts, "wall_s": time.perf_counter() - t0}


def _run_experiment(study: Study, exp: Experiment, ex, db, n_seeds: int, counts: dict,
                    emit: Callable[[dict], None]) -> None:
    """One experiment's specs, ``ex.jobs`` runs at a time (as many specs in flight, sharing ``ex``)."""
    from ..execution.runner import RunOptions, run
    from ..targets import TARGETS

    lock = threading.Lock()
    emit({"event": "experiment", "study": study.name, "experiment": exp.name, "mode": exp.mode,
          "specs": len(exp.specs), "runs": len(exp.specs) * len(exp.targets) * n_seeds})
    targets = [TARGETS[t] for t in exp.targets]
    opts = dict(mode=exp.mode, seeds=n_seeds, threads=exp.threads, timeout=exp.timeout, db=db, force=True,
                job_options=dict(exp.job_options), **({"isolate": exp.isolate} if exp.isolate else {}))

    def one(spec: Spec) -> None:
        def relay(ev: dict) -> None:
            if ev.get("event") == "done":
                with lock:
                    counts[ev["status"]] = counts.get(ev["status"], 0) + 1
                emit({**ev, "spec": spec.name})

        run(spec, targets, RunOptions(**opts), relay, finalize=_annotate, executor=ex)

    if ex.jobs <= 1:
        for s in exp.specs:
            one(s)
        return
    pool = ThreadPoolExecutor(max_workers=min(ex.jobs, len(exp.specs)))
    try:
        for f in [pool.submit(one, s) for s in exp.specs]:
            f.result()
    except BaseException:  # interrupted or failed: stop the runs in flight, start nothing new, stored runs stay
        ex.cancel_all()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown()
