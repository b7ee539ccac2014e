"""The comparison report: markdown rendered from stored records only."""
from __future__ import annotations

import json
from pathlib import Path

from .markdown import table
from .tables import comparison_table


def latest_records(records: list[dict]) -> dict[str, list[dict]]:
    """Per spec name: the newest spec version's records, newest per (target, seed)."""
    by_name: dict[str, list[dict]] = {}
    for r in sorted(records, key=lambda r: (r["created_at"], r["run_id"])):
        by_name.setdefault(r["spec_name"], []).append(r)
    out = {}
    for name, recs in sorted(by_name.items()):
        newest_hash = recs[-1]["spec_hash"]
        latest: dict[tuple, dict] = {}
        for r in recs:
            if r["spec_hash"] == newest_hash:
                latest[(r["target"], r["seed"])] = r
        out[name] = list(latest.values())
    return out


def runtime_table(records: list[dict]) -> str:
    """What was in force in each target's worker: thread pools, native libraries, precision, reuse."""
    rows, seen = [], set()
    for r in records:
        rt = r.get("runtime") or {}
        if r["target"] in seen or not rt:
            continue
        seen.add(r["target"])
        threads = ", ".join(f"{k.replace('_threads', '')} {v}" for k, v in sorted(rt.items())
                            if k.endswith("_threads")) or "—"
        libs = ", ".join(f"{b.get('internal_api', b.get('user_api'))} {b.get('num_threads')}"
                         for b in rt.get("blas") or [] if "error" not in b) or "—"
        rows.append([r["target"], rt.get("cpu_affinity") and len(rt["cpu_affinity"]), threads, libs,
                     rt.get("tf32"), (r.get("worker") or {}).get("reused"), r.get("policy", "aligned")])
    return table(["target", "cores (affinity)", "framework threads in force", "native pools (threads)", "TF32",
                  "reused worker", "defaults"], rows)


def render(spec_name: str, records: list[dict], command: str | None = None) -> str:
    """Markdown report for one spec's records."""
    spec = records[-1]["spec"]
    ds_hashes = sorted({str(r.get("dataset_hash")) for r in records})
    layers = " → ".join(
        (f"Dense({lay['units']}, {lay['activation']['name']})" if lay["type"] == "dense"
         else lay["activation"]["name"]) for lay in spec["layers"])
    parts = [f"# frameworkbench report: {spec_name}", ""]
    if spec.get("description"):
        parts += [spec["description"], ""]
    ds = records[-1].get("dataset") or {}
    parts += [
        f"- model: input {spec['input_shape']} → {layers}",
        f"- loss `{spec['loss']['name']}`, optimizer `{json.dumps(spec['optimizer'], sort_keys=True)}`, "
        f"batch {spec['training']['batch_size']}, epochs {spec['training']['epochs']}, init `{spec['init']}`",
        f"- data: {ds.get('source')} ({ds.get('n_train')} train / {ds.get('n_val')} validation rows, "
        f"{ds.get('n_features')} features); dataset hash {', '.join(ds_hashes)}",
        f"- spec hash {records[-1]['spec_hash']}; seeds {sorted({r['seed'] for r in records})}",
        "", "## Comparison", "",
        "Medians over seeds. Epoch and step times exclude the first epoch (tracing / compilation), "
        "which is shown on its own.", "",
        comparison_table(records), "", "## Environment", ""]
    versions: dict[str, str] = {}
    for r in records:
        for k, v in (r.get("versions") or {}).items():
            versions.setdefault(k, v or "not installed")
    host = records[-1].get("host") or {}
    parts += [table(["package", "version"], sorted(versions.items())), "",
              f"Host: {host.get('cpu')}, {host.get('cores')} cores, {host.get('memory_gib')} GiB, "
              f"{host.get('os')}, Python {host.get('python')}; threads per run: "
              f"{sorted({r.get('threads') for r in records})}", "",
              runtime_table(records), ""]
    return "\n".join(parts + runs_section(records, command))


def runs_section(records: list[dict], command: str | None, columns: tuple[str, ...] = ("target", "seed")) -> list[str]:
    """The report's closing lines: every run it rests on, and the command that regenerates it."""
    keys = ("run_id", *columns, "status", "created_at")
    parts = ["## Runs", "", table([k.replace("_", " ") for k in keys], [[r.get(k) for k in keys] for r in records]),
             ""]
    if command:
        parts += ["Regenerate with:", "", f"    {command}", ""]
    return parts


def write_reports(records: list[dict], out_dir: Path, command: str | None = None) -> list[Path]:
    """Write ``<spec name>.md`` for each spec among ``records``; return the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    training = [r for r in records if r.get("mode", "train") == "train"]  # parity/probe runs have own reports
    for name, recs in latest_records(training).items():
        path = out_dir / f"{name}.md"
        path.write_text(render(name, recs, command), encoding="utf-8")
        paths.append(path)
    return paths
