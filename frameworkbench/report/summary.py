"""The comparison report: markdown rendered from stored records only.

A spec's runs are split into comparison groups by what changes the figures (defaults policy, spec
version such as an ``--epochs`` override, dataset, device, precision, threads); each group is its own
section, and within a group the newest run per (target, seed, repeat) wins over older reruns.
"""
from __future__ import annotations

import hashlib
import json
import shlex
from pathlib import Path
from typing import Callable

from .markdown import table
from .tables import comparison_table, standardised_target, time_split_table

GROUP_FIELDS = ("policy", "spec_hash", "dataset_hash", "device", "precision", "compile", "threads")
"""What separates comparison groups, in heading order."""


def run_identity(r: dict) -> tuple:
    """Within a group, records with the same identity are reruns of one run: the newest wins."""
    return r["target"], r["seed"], r.get("repeat", 0)


def group_key(r: dict) -> dict:
    """The values of :data:`GROUP_FIELDS` for one record."""
    return {"policy": r.get("policy", "aligned"), "spec_hash": r["spec_hash"], "dataset_hash": r.get("dataset_hash"),
            "device": r.get("device_requested") or r.get("device"), "precision": r.get("precision"),
            "compile": r.get("compile"), "threads": r.get("threads")}


def _newest_first(records: list[dict]) -> list[dict]:
    return sorted(records, key=lambda r: (r["created_at"], r["run_id"]))


def latest_records(records: list[dict]) -> dict[str, list[dict]]:
    """Per spec name: the newest spec version's records, newest per (target, seed, repeat)."""
    by_name: dict[str, list[dict]] = {}
    for r in _newest_first(records):
        by_name.setdefault(r["spec_name"], []).append(r)
    out = {}
    for name, recs in sorted(by_name.items()):
        newest_hash = recs[-1]["spec_hash"]
        latest: dict[tuple, dict] = {}
        for r in recs:
            if r["spec_hash"] == newest_hash:
                latest[run_identity(r)] = r
        out[name] = list(latest.values())
    return out


def comparison_groups(records: list[dict]) -> tuple[list[dict], int]:
    """One spec's records as comparison groups, newest group first, and the number of superseded reruns.

    Each group: ``key`` (:func:`group_key`), ``records`` (newest per :func:`run_identity`, oldest first),
    ``label`` (what distinguishes it from the other groups; empty when there is one group) and ``slug``
    (a short stable id for file names)."""
    groups: dict[str, dict] = {}
    total = 0
    for r in _newest_first(records):
        key = group_key(r)
        gid = json.dumps(key, sort_keys=True, default=str)
        g = groups.setdefault(gid, {"key": key, "latest": {}, "spec": r.get("spec") or {}})
        g["latest"][run_identity(r)] = r
        g["spec"] = r.get("spec") or g["spec"]
        total += 1
    out = []
    for gid, g in groups.items():
        recs = _newest_first(list(g["latest"].values()))
        out.append({"key": g["key"], "records": recs, "spec": g["spec"],
                    "slug": hashlib.sha256(gid.encode()).hexdigest()[:8], "newest": recs[-1]["created_at"]})
    out.sort(key=lambda g: g["newest"], reverse=True)
    _label(out)
    return out, total - sum(len(g["records"]) for g in out)


def _flat(d, prefix: str = "") -> dict[str, str]:
    if isinstance(d, dict):
        out = {}
        for k, v in d.items():
            out.update(_flat(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: d if isinstance(d, str) else json.dumps(d, sort_keys=True)}


def _short(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[:n - 1] + "…"


def _label(groups: list[dict]) -> None:
    """Set each group's ``label`` to the fields whose values differ between the groups."""
    if len(groups) < 2:
        for g in groups:
            g["label"] = ""
        return
    flats = [_flat({k: v for k, v in g["spec"].items() if k != "description"}) for g in groups]
    spec_fields = sorted({k for f in flats for k in f if len({fl.get(k) for fl in flats}) > 1})
    names = {"policy": "defaults", "spec_hash": "spec", "dataset_hash": "dataset", "device": "device",
             "precision": "precision", "compile": "compile", "threads": "threads"}
    varying = [f for f in GROUP_FIELDS if len({str(g["key"][f]) for g in groups}) > 1]
    for g, flat in zip(groups, flats):
        parts = []
        for f in varying:
            v = g["key"][f]
            if f == "spec_hash":
                parts += [f"{k} {_short(flat.get(k, '(absent)'))}" for k in spec_fields]
                v = str(v)[:8]
            elif f == "dataset_hash":
                v = str(v)[:8]
            parts.append(f"{names[f]} {v}")
        g["label"] = " · ".join(parts)


def runtime_table(records: list[dict]) -> str:
    """What was in force in each target's worker: thread pools, native libraries, precision, reuse."""
    rows, seen = [], set()
    for r in records:
        rt = r.get("runtime") or {}
        key = (r["target"], r.get("policy", "aligned"))
        if key in seen or not rt:
            continue
        seen.add(key)
        threads = ", ".join(f"{k.replace('_threads', '')} {v}" for k, v in sorted(rt.items())
                            if k.endswith("_threads")) or "—"
        libs = ", ".join(f"{b.get('internal_api', b.get('user_api'))} {b.get('num_threads')}"
                         for b in rt.get("blas") or [] if "error" not in b) or "—"
        rows.append([r["target"], rt.get("cpu_affinity") and len(rt["cpu_affinity"]), threads, libs,
                     rt.get("tf32"), matmul_precision(r) or "—", (r.get("worker") or {}).get("reused"),
                     r.get("policy", "aligned")])
    return table(["target", "cores (affinity)", "framework threads in force", "native pools (threads)", "TF32",
                  "matmul precision", "reused worker", "defaults"], rows)


def matmul_precision(rec: dict) -> str | None:
    """The effective matmul precision the run computed at (runtime.matmul_precision), None if not recorded."""
    return ((rec.get("runtime") or {}).get("matmul_precision") or {}).get("effective")


def precision_flag(records: list[dict]) -> list[str]:
    """A warning when the ok runs of one comparison computed their matmuls at different precisions."""
    found = {r["target"]: matmul_precision(r) for r in records if r["status"] == "ok" and matmul_precision(r)}
    if len(set(found.values())) < 2:
        return []
    return ["**Different precisions:** the targets computed their matmuls at different precisions ("
            + ", ".join(f"{t}: {p}" for t, p in found.items()) + "), so time and loss differences here are "
            "partly differences of precision, not of frameworks (see `runtime.matmul_precision`).", ""]


def _counts(records: list[dict]) -> str:
    seeds = sorted({r["seed"] for r in records})
    repeats = len({r.get("repeat", 0) for r in records})
    return f"seeds {seeds} × {repeats} repeat{'s' if repeats != 1 else ''}"


def group_section(g: dict, index: int, n_groups: int, spec_name: str, plots_dir: Path | None) -> list[str]:
    """One comparison group: heading, what it is, the comparison table and its plots."""
    recs, key = g["records"], g["key"]
    heading = "## Comparison" + (f" {index}: {g['label']}" if n_groups > 1 else "")
    training = (g["spec"].get("training") or {})
    facts = [f"defaults {key['policy']}", f"epochs {training.get('epochs')}", f"batch {training.get('batch_size')}",
             f"device {key['device']}", f"threads {key['threads']}", f"spec hash {str(key['spec_hash'])[:8]}"]
    if key["precision"] is not None:
        facts.insert(4, f"precision {key['precision']}")
    if key.get("compile") not in (None, "default"):
        facts.insert(4, f"compile {key['compile']}")
    parts = [heading, "", f"- {'; '.join(facts)}; {_counts(recs)}", "",
             "Medians over each target's ok runs (the runs column: seeds × repeats). Epoch and step times exclude "
             "the first epoch (tracing / compilation), which is shown on its own.", "",
             comparison_table(recs), "", *precision_flag(recs), *_split_section(recs)]
    if standardised_target(recs):
        parts += ["Losses and metrics are in standardised target units (the target was scaled to mean 0, "
                  "std 1 on the training split; records keep no scale to convert back).", ""]
    if plots_dir is not None:
        parts += _plots(g, spec_name, plots_dir)
    return parts


def _split_section(recs: list[dict]) -> list[str]:
    """Where a steady epoch's time goes (the per-spec report's time accounting)."""
    split = time_split_table(recs)
    if split is None:
        return []
    return ["### Where an epoch's time goes", "",
            "The instrumented epoch after the warm-up, split into the steps (each timed until its loss is on the "
            "host), the input (gathering each batch from the plan's indices and moving it to the device) and the "
            "other time (callbacks, metrics, the loop itself: the epoch minus the two). Epoch / steps is the "
            "headline epoch (the steady epochs trained without per-step clocks where a framework has such, see "
            "instrumented epochs) over the steps per epoch; mean step: the instrumented epoch's step time over "
            "its steps (far above the median: a few slow steps, usually other work on the machine); ratio: "
            "epoch / steps over the median step (> 1.05: more "
            "than 5 % of an epoch is outside the steps, and the run carries a warning).", "", split, ""]


def _plots(g: dict, spec_name: str, plots_dir: Path) -> list[str]:
    from . import spec_plots

    if not spec_plots.available():
        return ["Plots skipped: matplotlib is not installed (`pip install 'frameworkbench[report]'`).", ""]
    files = spec_plots.write(g["records"], plots_dir, f"{spec_name}-{g['slug']}")
    rel = plots_dir.name
    return [f"![{title}]({rel}/{path.name})" for title, path in files] + [""]


def layer_text(lay: dict) -> str:
    """One spec layer in a line: ``Dense(16, relu)``, ``conv2d(filters=8, kernel_size=[3, 3], relu)``, ``tanh``."""
    act = (lay.get("activation") or {}).get("name")
    if lay["type"] == "activation":
        return act
    if lay["type"] == "dense":
        return f"Dense({lay['units']}, {act})"
    shown = [f"{k}={v}" for k, v in lay.items() if k not in ("type", "activation")]
    return f"{lay['type']}({', '.join(shown + ([act] if act and act != 'linear' else []))})"


def render(spec_name: str, records: list[dict], command: str | None = None, plots_dir: Path | None = None) -> str:
    """Markdown report for one spec's records (every comparison group; plots into ``plots_dir`` if given)."""
    groups, superseded = comparison_groups(records)
    shown = [r for g in groups for r in g["records"]]
    newest = max(shown, key=lambda r: (r["created_at"], r["run_id"]))
    spec = newest["spec"]
    ds_hashes = sorted({str(r.get("dataset_hash")) for r in shown})
    layers = " → ".join(layer_text(lay) for lay in spec["layers"])
    parts = [f"# frameworkbench report: {spec_name}", ""]
    if spec.get("description"):
        parts += [spec["description"], ""]
    ds = newest.get("dataset") or {}
    parts += [
        f"- model: input {spec['input_shape']} → {layers}",
        f"- loss `{spec['loss']['name']}`, optimizer `{json.dumps(spec['optimizer'], sort_keys=True)}`, "
        f"batch {spec['training']['batch_size']}, epochs {spec['training']['epochs']}, init `{spec['init']}`"
        + (" (newest spec version)" if len({r['spec_hash'] for r in shown}) > 1 else ""),
        f"- data: {ds.get('source')} ({ds.get('n_train')} train / {ds.get('n_val')} validation rows, "
        f"{ds.get('n_features')} features); dataset hash {', '.join(ds_hashes)}",
        f"- {len(groups)} comparison{'s' if len(groups) != 1 else ''} from {len(shown)} "
        f"run{'s' if len(shown) != 1 else ''}"
        + (f"; {superseded} older rerun{'s' if superseded != 1 else ''} of the same runs left out (the newest "
           "of each target, seed and repeat is shown)" if superseded else ""), ""]
    for i, g in enumerate(groups, 1):
        parts += group_section(g, i, len(groups), spec_name, plots_dir)
    parts += ["## Environment", ""]
    versions: dict[str, str] = {}
    for r in shown:
        for k, v in (r.get("versions") or {}).items():
            versions.setdefault(k, v or "not installed")
    host = newest.get("host") or {}
    parts += [table(["package", "version"], sorted(versions.items())), "",
              f"Host: {host.get('cpu')}, {host.get('cores')} cores, {host.get('memory_gib')} GiB, "
              f"{host.get('os')}, Python {host.get('python')}; threads per run: "
              f"{sorted({r.get('threads') for r in shown}, key=str)}", "",
              runtime_table(shown), ""]
    if len(groups) > 1:
        index = {r["run_id"]: i for i, g in enumerate(groups, 1) for r in g["records"]}
        rows = [{**r, "comparison": index[r["run_id"]]} for g in groups for r in g["records"]]
        return "\n".join(parts + runs_section(rows, command, ("comparison", "target", "seed", "repeat")))
    return "\n".join(parts + runs_section(shown, command, ("target", "seed", "repeat")))


def runs_section(records: list[dict], command: str | None, columns: tuple[str, ...] = ("target", "seed")) -> list[str]:
    """The report's closing lines: every run it rests on, and the command that regenerates it."""
    keys = ("run_id", *columns, "status", "created_at")
    parts = ["## Runs", "", table([k.replace("_", " ") for k in keys], [[r.get(k) for k in keys] for r in records]),
             ""]
    if command:
        parts += ["Regenerate with:", "", f"    {command}", ""]
    return parts


def report_command(out_dir: str | Path, spec_name: str, db: str | Path | None = None) -> str:
    """The shell command (quoted) that rewrites ``<out_dir>/<spec_name>.md`` from the database."""
    return " ".join(["frameworkbench", "report", "--out", shlex.quote(str(out_dir)), "--spec", shlex.quote(spec_name)]
                    + (["--db", shlex.quote(str(db))] if db else []))


def write_reports(records: list[dict], out_dir: Path, command: str | Callable[[str], str] | None = None,
                  plots: bool = True) -> list[Path]:
    """Write ``<spec name>.md`` (and its plots under ``out_dir/plots``) for each spec among ``records``;
    ``command`` is the regenerate command, or a function of the spec name giving it. Return the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    training = [r for r in records if r.get("mode", "train") == "train"]  # parity/probe runs have own reports
    by_name: dict[str, list[dict]] = {}
    for r in training:
        by_name.setdefault(r["spec_name"], []).append(r)
    for name, recs in sorted(by_name.items()):
        path = out_dir / f"{name}.md"
        cmd = command(name) if callable(command) else command
        path.write_text(render(name, recs, cmd, out_dir / "plots" if plots else None), encoding="utf-8")
        paths.append(path)
    return paths
