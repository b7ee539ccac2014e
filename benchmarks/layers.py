"""layers: frameworkbench vs hand-written idiomatic scripts on the CNN and LSTM specs, per target (issue 11).

For ``specs/cnn_digits.yaml`` and ``specs/lstm_sequence.yaml`` (each included when it exists, validates,
its data loads and the hand-written scripts build its layer types; else one line says why not), every
target trains the same model, arrays and batch size twice, each in a fresh process with the same env,
thread count and cores (this process is pinned to the last ``--threads`` cores, as ``taskset`` would):
by the hand-written script of ``benchmarks/_handwritten_layers.py`` (Keras ``model.fit`` on the arrays,
a torch loop, a Flax NNX ``jax.jit`` loop over ``nnx.split`` state; framework defaults) and by
frameworkbench (``--defaults native``: the same defaults). Steady-state step time: hand-written, the
median epoch after the first / steps per epoch; frameworkbench, its headline ``timings.epoch_per_step_s``
(the median steady epoch trained without per-step clocks where there is one, / steps). Rounds interleave
the two sides (alternating which goes first, rotating the target order); the ratio fb/hw is taken per
round, its median reported. Goal: ratio ≤ 1.05 for every target.

Findings (``--no-findings`` skips the extra models): where a framework's default path is slow.
(1) Per spec, each target's hand-written step time over the fastest target's. (2) One LSTM and one GRU
layer at equal shapes (``--rnn-shape T,F,UNITS``, batch 32, random data) in every framework's idiomatic
script, over torch's ``nn.LSTM`` / ``nn.GRU``, with the recurrent kernel each Keras 3 backend ran (its
``backend.lstm``/``backend.gru`` op and the helper that op called, e.g. ``_fallback_lstm``, or Keras'
generic RNN loop where the op raised NotImplementedError).
(3) The first spec's model in other idiomatic forms of a script (:data:`VARIANTS`: Flax NNX's
``cached_partial`` and plain ``nnx.jit`` loops, Keras ``fit`` on a tf.data pipeline on TensorFlow).
(2) and (3) run in the first spec's hand-written process, after its model. (4) Targets that miss the goal.

    python -m benchmarks.layers [--rounds 2] [--epochs 3] [--threads 1] [--targets ...] [--specs ...]
                                [--rnn-shape 32,16,64] [--no-findings] [--out DIR]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from . import _common as C
from ._handwritten_layers import FLAX_LOOPS, RECURRENT, unsupported_types

GOAL = 1.05
SPECS = ("cnn_digits", "lstm_sequence")
DEFAULT_TARGETS = ("tf.keras", "keras:tensorflow", "keras:jax", "keras:torch", "torch", "flax")
RNN_BATCH, RNN_ROWS, RNN_CLASSES = 32, 512, 10
BASELINE = "torch"  # the findings' recurrent reference: nn.LSTM / nn.GRU


# --------------------------------------------------------------------------- cases
def load_case(name: str, epochs: int):
    """(spec, dataset, None) or (None, None, why it is not available)."""
    from frameworkbench import data
    from frameworkbench.spec import SpecError, load_spec

    path = C.REPO / "specs" / f"{name}.yaml"
    if not path.exists():
        return None, None, f"specs/{name}.yaml does not exist"
    try:
        spec = load_spec(path).with_overrides(epochs=epochs)
    except SpecError as exc:
        return None, None, f"the spec does not validate: {' '.join(str(exc).split())}"
    missing = unsupported_types([lay.to_dict() for lay in spec.layers])
    if missing:
        return None, None, f"the hand-written scripts do not build {', '.join(missing)}"
    try:
        ds = data.load_dataset(spec)
    except Exception as exc:  # a data source another issue has not built yet: say so, measure the rest
        return None, None, f"its data does not load: {type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
    return spec, ds, None


def spec_config(spec, data_path: str, epochs: int) -> dict:
    """The hand-written job's config of ``spec``: its layers as plain dicts, its arrays, loss, lr, batch."""
    return {"name": spec.name, "data": data_path, "input_shape": list(spec.input_shape),
            "layers": [lay.to_dict() for lay in spec.layers], "loss": spec.loss["name"],
            "lr": spec.optimizer["learning_rate"], "batch_size": spec.training["batch_size"], "epochs": epochs}


def rnn_configs(shape: tuple[int, int, int], epochs: int) -> list[dict]:
    """One LSTM and one GRU layer (then a softmax dense layer) at equal shapes, random data."""
    t, f, units = shape
    return [{"name": kind, "synthetic": {"rows": RNN_ROWS, "classes": RNN_CLASSES}, "input_shape": [t, f],
             "layers": [{"type": kind, "units": units},
                        {"type": "dense", "units": RNN_CLASSES, "activation": {"name": "softmax"}}],
             "loss": "sparse_categorical_crossentropy", "lr": 1e-3, "batch_size": RNN_BATCH, "epochs": epochs}
            for kind in ("lstm", "gru")]


# --------------------------------------------------------------------------- measuring
def handwritten(target: str, configs: list[dict], threads: int, timeout: float) -> dict:
    return C.run_module("benchmarks._handwritten_layers", {"target": target, "threads": threads, "configs": configs},
                        C.target_env(target, threads), timeout)


def fb_step(rec: dict, steps: int) -> float:
    """frameworkbench's headline steady-state seconds per step (epoch-derived)."""
    t = rec["timings"]
    return t.get("epoch_per_step_s") or C.steady_step_s(t["epoch_s"], steps)


def new_result() -> dict:
    return {"hw": [], "fb": [], "fb_timer": [], "ratio": [], "error": None, "kernels": {}, "wall_s": []}


VARIANTS = {"flax": [{"name": f"loop:{loop}", "loop": loop} for loop in FLAX_LOOPS[1:]],
            **{t: [{"name": "input:tf.data", "input": "tf.data"}] for t in ("tf.keras", "keras:tensorflow")}}
"""Other idiomatic forms of a target's hand-written script, trained on the first case's model (findings)."""


def extra_configs(target: str, cfg: dict, findings: list[dict]) -> list[dict]:
    """What rides along in the first case's hand-written process, after its model: the findings'
    recurrent models and the case's model in the target's other script forms (:data:`VARIANTS`)."""
    return findings + [{**cfg, **v} for v in VARIANTS.get(target, [])] if findings else []


def measure(args, targets: list[str], cases: dict, threads: int, findings: list[dict]) -> tuple[dict, dict]:
    """Interleaved rounds over every case and target; the findings' models ride along in the first
    case's hand-written process (:func:`extra_configs`). Returns ({case: {target: result}},
    {"steps": {target: {config name: [step s]}}, "kernels": {target: {layer type: kernel}}})."""
    res = {name: {t: new_result() for t in targets} for name in cases}
    extra_steps: dict = {t: {} for t in targets}
    kernels: dict = {t: {} for t in targets}
    first_case = next(iter(cases), None)
    for r in range(args.rounds):
        order = targets[r % len(targets):] + targets[:r % len(targets)]  # no target always first
        for name, (spec, cfg, steps) in cases.items():
            for i, t in enumerate(order):
                cur = res[name][t]
                if cur["error"]:
                    continue
                sides = ("hw", "fb") if (r + i) % 2 == 0 else ("fb", "hw")  # alternate which side runs first
                try:
                    for side in sides:
                        if side == "hw":
                            extra = extra_configs(t, cfg, findings) if name == first_case else []
                            out = handwritten(t, [cfg] + extra, threads, args.timeout)
                            cur["wall_s"].append(out["wall_s"])
                            cur["hw"].append(C.steady_step_s(out["configs"][0]["epoch_s"], steps))
                            cur["kernels"] = out["configs"][0].get("recurrent_kernel", {})
                            for c in out["configs"][1:]:
                                step_s = C.steady_step_s(c["epoch_s"], c["steps_per_epoch"])
                                extra_steps[t].setdefault(c["name"], []).append(step_s)
                                kernels[t].update(c.get("recurrent_kernel", {}))
                        else:
                            rec = C.frameworkbench_run(spec, t, threads, args.timeout, policy="native")
                            cur["fb"].append(fb_step(rec, steps))
                            cur["fb_timer"].append(rec["timings"].get("median_step_s"))
                            cur["wall_s"].append(rec.get("worker_wall_s"))
                except (RuntimeError, subprocess.TimeoutExpired) as exc:
                    cur["error"] = " ".join(str(exc).split())[:300]
                    for k in ("hw", "fb", "fb_timer"):  # this round's other side, if it finished, is left out
                        del cur[k][len(cur["ratio"]):]
                    C.progress(f"{name} {t}: not measured ({cur['error'][:160]})")
                    continue
                cur["ratio"].append(cur["fb"][-1] / cur["hw"][-1])
                C.progress(f"round {r + 1}/{args.rounds} {name} {t}: hand-written {C.fmt_time(cur['hw'][-1])}, "
                           f"frameworkbench {C.fmt_time(cur['fb'][-1])} per step (ratio {cur['ratio'][-1]:.3f}; "
                           f"processes {sum(w or 0 for w in cur['wall_s'][-2:]):.0f} s)")
    return res, {"steps": extra_steps, "kernels": kernels}


# --------------------------------------------------------------------------- tables
def ratio_table(res: dict, warn: C.Warnings, case: str = "") -> tuple[str, dict]:
    """Per target: medians over rounds of both sides' step times, their IQR, the ratio and the goal."""
    rows, verdict = [], {}
    for t, r in res.items():
        if not r["ratio"]:
            rows.append([t] + ["n/a"] * 7 + [f"not measured: {r['error'] or 'no round finished'}"])
            verdict[t] = None
            continue
        ratio = C.median(r["ratio"])
        verdict[t] = ratio <= GOAL
        rows.append([t, C.fmt_time(C.median(r["hw"])) + warn.flagged(f"{t} hand-written", r["hw"]),
                     C.fmt_pct(C.rel_iqr(r["hw"])),
                     C.fmt_time(C.median(r["fb"])) + warn.flagged(f"{t} frameworkbench", r["fb"]),
                     C.fmt_pct(C.rel_iqr(r["fb"])), C.fmt_time(C.median(r["fb_timer"])),
                     f"{ratio:.3f}" + warn.flagged(f"{t} ratio", r["ratio"]), C.fmt_pct(C.rel_iqr(r["ratio"])),
                     "met" if verdict[t] else f"MISSED (+{100 * (ratio - 1):.0f} %)"])
    warn.summary(f"rounds of {case}" if case else "rounds")
    head = ["target", "hand-written /step", "IQR", "frameworkbench /step", "IQR", "fb per-step timer",
            "ratio fb/hw", "IQR", f"goal ≤ {GOAL}"]
    return C.table(head, rows), verdict


def default_path_table(res: dict) -> str:
    """Per target: the hand-written step time over the fastest target's (what each framework's
    idiomatic default path costs on this model)."""
    steps = {t: C.median(r["hw"]) for t, r in res.items() if r["hw"]}
    if not steps:
        return "no hand-written step time measured"
    best = min(steps.values())
    fastest = min(steps, key=steps.get)
    rows = [[t, C.fmt_time(s), f"{s / best:.2f}", res[t]["kernels"] and
             "; ".join(f"{k}: {v}" for k, v in res[t]["kernels"].items()) or ""] for t, s in steps.items()]
    return C.table(["target", "hand-written /step", f"× fastest ({fastest})", "recurrent kernel"], rows)


def rnn_table(found: dict, shape: tuple[int, int, int]) -> str:
    """Per target: the LSTM and GRU models' step times and their ratio to torch's nn.LSTM / nn.GRU."""
    steps, kernels = found["steps"], found["kernels"]
    models = sorted({m for per in steps.values() for m in per if m in RECURRENT}, key=RECURRENT.index)
    base = {m: C.median(steps.get(BASELINE, {}).get(m, [])) for m in models}
    rows = []
    for t, per in steps.items():
        if not any(per.get(m) for m in models):
            continue
        row = [t]
        for m in models:
            s = C.median(per.get(m, []))
            row += [C.fmt_time(s), f"{s / base[m]:.2f}" if math.isfinite(base[m]) and math.isfinite(s) else "n/a",
                    kernels[t].get(m, "")]
        rows.append(row)
    head = ["target"] + [h for m in models for h in (f"{m} /step", f"× torch nn.{m.upper()}", f"{m} kernel")]
    t, f, units = shape
    return (f"one {'/'.join(models)} layer of {units} units over {t} steps × {f} features, then dense softmax "
            f"({RNN_CLASSES} classes); batch {RNN_BATCH}, {RNN_ROWS} random rows; hand-written scripts, medians "
            "over rounds\n\n" + C.table(head, rows))


def variants_table(case: str, res: dict, steps: dict) -> str:
    """The first case's model in other forms of each target's script, over that target's baseline."""
    rows = []
    for t, variants in VARIANTS.items():
        measured = [v["name"] for v in variants if steps.get(t, {}).get(v["name"])]
        if not measured or t not in res or not res[t]["hw"]:
            continue
        base = C.median(res[t]["hw"])
        rows.append([t, "the baseline above", C.fmt_time(base), "1.00"])
        rows += [[t, name, C.fmt_time(C.median(steps[t][name])), f"{C.median(steps[t][name]) / base:.2f}"]
                 for name in measured]
    if not rows:
        return ""
    return (f"{case} in other idiomatic forms of the same script (hand-written, in the baseline's process; "
            "loop: Flax NNX's documented training-loop styles, input: Keras fit on a tf.data pipeline instead "
            "of the arrays):\n\n" + C.table(["target", "form", "/step", "× baseline"], rows, align="llrr"))


def findings_lines(res: dict, found: dict | None, shape, verdicts: dict) -> list[str]:
    lines = ["### Findings: where a framework's default path is slow", ""]
    for name, per in res.items():
        lines += [f"{name}: the idiomatic hand-written script per target (same model, data, batch, threads)", "",
                  default_path_table(per), ""]
    if found is not None:
        lines += ["Recurrent layers at equal shapes:", "", rnn_table(found, shape), ""]
        first = next(iter(res))
        text = variants_table(first, res[first], found["steps"])
        lines += [text, ""] if text else []
    misses = [(name, t) for name, v in verdicts.items() for t, ok in v.items() if ok is False]
    for name, t in misses:
        r = res[name][t]
        lines.append(f"- {name} on {t}: frameworkbench {C.fmt_time(C.median(r['fb']))} vs hand-written "
                     f"{C.fmt_time(C.median(r['hw']))} per step (medians over rounds); median of the per-round "
                     f"ratios {C.median(r['ratio']):.3f} (> {GOAL})")
    if not misses:
        lines.append(f"- every measured target is within {GOAL}× its hand-written script")
    return lines


# --------------------------------------------------------------------------- entry point
def parse_shape(text: str) -> tuple[int, int, int]:
    try:
        t, f, units = (int(v) for v in text.split(","))
    except ValueError:
        raise SystemExit(f"error: --rnn-shape {text!r}: expected three integers T,F,UNITS (e.g. 32,16,64)") from None
    if min(t, f, units) < 1:
        raise SystemExit(f"error: --rnn-shape {text!r}: every value must be ≥ 1")
    return t, f, units


def publish(lines: list[str], payload: dict, out: Path | None) -> None:
    if out is None:
        C.publish("layers", lines, payload)
        return
    print("\n".join(lines))
    out.mkdir(parents=True, exist_ok=True)
    (out / "layers.md").write_text("\n".join(lines) + "\n")
    (out / "layers.json").write_text(json.dumps(payload, indent=2, default=str))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.layers", description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1, help="threads for both sides of every target (default 1)")
    ap.add_argument("--targets", default=",".join(DEFAULT_TARGETS),
                    help=f"comma-separated targets (default {','.join(DEFAULT_TARGETS)})")
    ap.add_argument("--timeout", type=float, default=600, help="time limit per subprocess, seconds (default 600)")
    ap.add_argument("--specs", default=",".join(SPECS), help=f"spec names under specs/ (default {','.join(SPECS)})")
    ap.add_argument("--rounds", type=int, default=2,
                    help="interleaved rounds (default 2: about 10 minutes on an idle 2-core machine; 3 for "
                         "the figures of record)")
    ap.add_argument("--epochs", type=int, default=3, help="epochs per run; the first is warm-up (default 3)")
    ap.add_argument("--rnn-shape", default="32,16,64", help="findings' recurrent layers: T,F,UNITS (default 32,16,64)")
    ap.add_argument("--no-findings", dest="findings", action="store_false", help="skip the recurrent comparison")
    ap.add_argument("--out", type=Path, default=None, help=f"where layers.md/.json go (default {C.OUT})")
    args = ap.parse_args(argv)
    if args.epochs < 2 or args.rounds < 1:
        raise SystemExit("error: --epochs must be ≥ 2 (the first is warm-up) and --rounds ≥ 1")
    shape = parse_shape(args.rnn_shape)
    clock = C.Stopwatch()
    threads = args.threads
    C.pin_cores(threads)
    from frameworkbench.targets import TARGETS

    targets = C.targets_from(args.targets)
    absent = {t: TARGETS[t].install_hint() for t in targets if not TARGETS[t].is_installed()}
    targets = [t for t in targets if t not in absent]
    info = C.machine(threads)
    notes, cases, meta = [], {}, {}
    with tempfile.TemporaryDirectory(prefix="fb-layers-") as tmp:
        for name in [s.strip() for s in args.specs.split(",") if s.strip()]:
            spec, ds, why = load_case(name, args.epochs)
            if spec is None:
                notes.append(f"{name}: not available ({why})")
                continue
            path = Path(tmp) / f"{name}.npz"
            np.savez(path, x_train=ds.x_train, y_train=ds.y_train)  # the arrays frameworkbench trains on
            steps = math.ceil(len(ds.x_train) / spec.training["batch_size"])
            cases[name] = (spec, spec_config(spec, str(path), args.epochs), steps)
            meta[name] = {"rows": len(ds.x_train), "batch": spec.training["batch_size"], "steps": steps,
                          "layers": " → ".join(lay.type for lay in spec.layers)}
        findings = rnn_configs(shape, args.epochs) if args.findings and cases else []
        res, found = measure(args, targets, cases, threads, findings) if cases else ({}, None)

    warn = C.Warnings()
    lines = [C.header("layers: frameworkbench vs hand-written, CNN and LSTM specs", info), "",
             f"{args.rounds} interleaved rounds, {args.epochs} epochs per run (the first is warm-up), each side in "
             f"a fresh process; frameworkbench --defaults native; medians over rounds, IQR/median in %. "
             "'fb per-step timer' is frameworkbench's own per-step median (timings.median_step_s)."]
    lines += [f"not measured: {t} is not installed ({hint})" for t, hint in absent.items()]
    lines += [""] + notes if notes else []
    verdicts = {}
    for name, per in res.items():
        m = meta[name]
        text, verdicts[name] = ratio_table(per, warn, name)
        lines += ["", f"### {name}: {m['layers']}; {m['rows']} training rows, batch {m['batch']} "
                      f"({m['steps']} steps per epoch)", "", text]
    if warn.lines:
        lines += ["", warn.render()]
    if res:
        lines += [""] + findings_lines(res, found if findings else None, shape, verdicts)
    missed = [f"{n}/{t}" for n, v in verdicts.items() for t, ok in v.items() if ok is False]
    unmeasured = [f"{n}/{t}" for n, v in verdicts.items() for t, ok in v.items() if ok is None]
    load_end = f"{os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else "?"
    goal = "met" if not missed else f"missed by {', '.join(missed)}"
    lines += ["", f"goal (ratio ≤ {GOAL} for every target): {goal}"
              + (f"; not measured: {', '.join(unmeasured)}" if unmeasured else ""),
              f"layers benchmark wall time: {clock.elapsed():.0f} s; load average at the end {load_end}"]
    publish(lines, {"machine": info, "rounds": args.rounds, "epochs": args.epochs, "cases": meta, "notes": notes,
                    "results": res, "findings": found, "rnn_shape": shape, "goal": GOAL, "met": verdicts}, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
