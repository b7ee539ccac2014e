"""The document's end: the runs behind it, their environment, and the commands that regenerate it."""
from __future__ import annotations

from ..i18n import unit
from ..markdown import table
from .doc import Doc
from .facts import TRANSFORMER_SPEC, named_groups, target_key

STUDIES = ("frameworks", "activations", "layers")


def _runs(d: Doc) -> list[str]:
    t = d.t
    out = [f"## {t('runs')}", ""]
    rows = []
    groups = {f"study:{k}": v for k, v in d.f.groups.items()} | named_groups(d.f)  # + the language-model row's
    for key in sorted(groups):
        recs = groups[key]
        statuses: dict[str, int] = {}
        for r in recs:
            statuses[r["status"]] = statuses.get(r["status"], 0) + 1
        targets = sorted({r["target"] for r in recs}, key=target_key)
        rows.append([f"`{key}`", ", ".join(f"`{x}`" for x in targets),
                     ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())),
                     " ".join(sorted(r["run_id"] for r in recs))])
    if rows:
        out += [table([t("experiment"), t("target"), t("statuses"), t("run_ids")], rows), ""]
    else:
        out += ["—", ""]
    return out


def _environment(d: Doc) -> list[str]:
    t = d.t
    out = [f"## {t('environment')}", ""]
    versions: dict[str, set] = {}
    hosts, threads = set(), set()
    for r in d.f.all() + [r for recs in named_groups(d.f).values() for r in recs]:
        for k, v in (r.get("versions") or {}).items():
            versions.setdefault(k, set()).add(v or "not installed")
        h = r.get("host") or {}
        hosts.add(f"{h.get('cpu')}, {t('cores', n=h.get('cores'))}, {h.get('memory_gib')} {unit('GiB', d.lang)}, "
                  f"{h.get('os')}, "
                  f"Python {h.get('python')}")
        if r.get("threads") is not None:
            threads.add(r["threads"])
    if versions:
        out += [table([t("package"), t("version")], [[k, ", ".join(sorted(v))] for k, v in sorted(versions.items())]),
                ""]
    for h in sorted(hosts):
        out.append(f"{t('host')}: {h}; {t('threads')}: {sorted(threads)}")
    return out


def trace(d: Doc, command: str | None, db: str | None) -> list[str]:
    """Runs, environment and the regenerate commands."""
    t = d.t
    out = _runs(d) + _environment(d)
    out += ["", f"## {t('regenerate')}", "", t("regenerate_text"), ""]
    db_arg = f" --db {db}" if db else ""
    for s in STUDIES:
        out.append(f"    frameworkbench study {s}{db_arg}")
    out += [f"    frameworkbench lm-check{db_arg}",  # the language-model row; parity over 3 epochs (issue 11's contract)
            f"    frameworkbench run specs/{TRANSFORMER_SPEC}.yaml --targets all{db_arg}",
            f"    frameworkbench parity specs/{TRANSFORMER_SPEC}.yaml --targets all --epochs 3{db_arg}"]
    if command:
        out.append(f"    {command}")
    out.append("")
    return out

