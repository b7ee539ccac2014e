"""gpu: the GPU figures in one run — matmul peaks, each target's training TFLOP/s per precision, the seed spec.

1. Matmul peaks (n = 8192 by default), each the median of timed calls read back to the host:
   torch float32 with TF32 off, torch TF32, torch bfloat16; jax float32 ``precision=highest``,
   jax ``tensorfloat32``, jax bfloat16. The peak of a precision is the better library's median.
2. A large MLP (1024 → 8192 → 8192 → 10, relu, softmax, sparse CE, Adam, batch 2048) trained by
   frameworkbench on the GPU at each precision (float32, tf32, mixed_bfloat16): achieved TFLOP/s =
   3 × 2 × Σ(in·out) × batch / median step time (warm-up epoch excluded), and its fraction of the
   matching peak (float32 → float32 peak, tf32 → TF32 peak, mixed_bfloat16 → bfloat16 peak).
   Goals (issue 12): float32 ≥ 85 % of the float32 peak for torch and keras:jax, ≥ 80 % for
   keras:torch; mixed_bfloat16 ≥ 50 % of the bfloat16 peak on the best target.
3. The seed spec (specs/seed_tf_keras.yaml) run and its parity against the float64 reference on the GPU.

Runs on a bare CUDA image with torch and jax but no TensorFlow and no Keras: targets whose
framework is missing get frameworkbench's own ``skipped: not installed`` record, with the reason.
Stops starting new stages when the time budget (``--budget``, default 330 s) is spent and says so.
On a machine without a GPU it prints a "no GPU" line and exits 0.

    python -m benchmarks.gpu [--n 8192] [--budget 330] [--targets torch,keras:jax,...]
"""
from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

from . import _common as C

PRECISIONS = ("float32", "tf32", "mixed_bfloat16")
PEAK_OF = {"float32": "float32", "tf32": "tf32", "mixed_bfloat16": "bfloat16"}
TARGETS = ("torch", "keras:jax", "keras:torch", "flax", "tf.keras", "keras:tensorflow")
MLP = [1024, 8192, 8192, 10]
ROOT = Path(__file__).resolve().parents[1]


def gpu_presence() -> tuple[bool, str]:
    """Whether torch or jax sees a GPU, and what each said."""
    said = []
    if importlib.util.find_spec("torch"):
        import torch

        said.append(f"torch.cuda.is_available()={torch.cuda.is_available()}")
        if torch.cuda.is_available():
            return True, said[-1]
    if importlib.util.find_spec("jax"):
        import jax

        try:
            gpus = jax.devices("gpu")
        except RuntimeError:
            gpus = []
        said.append(f"jax.devices('gpu')={len(gpus)} device(s)")
        if gpus:
            return True, said[-1]
    return False, "; ".join(said) or "neither torch nor jax is installed"


def _median_rate(fn, flops: float, repeats: int = 10) -> float:
    for _ in range(3):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return flops / C.median(times) / 1e12


def torch_peaks(n: int) -> dict[str, float]:
    import torch

    a32, b32 = torch.randn(n, n, device="cuda"), torch.randn(n, n, device="cuda")
    a16, b16 = a32.bfloat16(), b32.bfloat16()
    flops = 2.0 * n ** 3
    out = {}
    for name, (a, b, tf32) in {"float32": (a32, b32, False), "tf32": (a32, b32, True),
                               "bfloat16": (a16, b16, False)}.items():
        torch.backends.cuda.matmul.allow_tf32 = tf32

        def call(a=a, b=b):
            (a @ b).sum().item()  # host read-back: the product is done

        out[name] = _median_rate(call, flops)
    torch.backends.cuda.matmul.allow_tf32 = False
    return out


def jax_peaks(n: int) -> dict[str, float]:
    import jax
    import jax.numpy as jnp

    k1, k2 = jax.random.split(jax.random.PRNGKey(0))
    a, b = jax.random.normal(k1, (n, n)), jax.random.normal(k2, (n, n))
    flops = 2.0 * n ** 3
    out = {}
    for name, prec, dtype in (("float32", "highest", jnp.float32), ("tf32", "tensorfloat32", jnp.float32),
                              ("bfloat16", "default", jnp.bfloat16)):
        f = jax.jit(lambda x, y, p=prec: jnp.sum(jnp.matmul(x, y, precision=p)))
        x, y = a.astype(dtype), b.astype(dtype)
        out[name] = _median_rate(lambda f=f, x=x, y=y: float(f(x, y)), flops)
    return out


def peaks(n: int) -> dict[str, dict[str, float]]:
    """{library: {float32, tf32, bfloat16: TFLOP/s}} for the libraries installed here."""
    out = {}
    for lib, fn in (("torch", torch_peaks), ("jax", jax_peaks)):
        if importlib.util.find_spec(lib):
            try:
                out[lib] = fn(n)
            except Exception as exc:  # a library without a usable GPU here: say so, keep the other
                C.progress(f"{lib} peaks failed: {type(exc).__name__}: {exc}")
    return out


def mlp_runs(targets: list[str], precisions: tuple[str, ...], deadline: float) -> list[dict]:
    """Each target trains the large MLP on the GPU at each precision (frameworkbench runs)."""
    from frameworkbench.execution.runner import RunOptions, run
    from frameworkbench.spec import validate
    from frameworkbench.targets import get_target

    from .roofline import mlp_spec, train_flops_per_sample

    rows = []
    for precision in precisions:
        if time.perf_counter() > deadline:
            rows.append({"precision": precision, "target": "—", "status": "skipped: time budget spent"})
            continue
        raw = mlp_spec(MLP, batch=2048, n_train=2048 * 6, epochs=2)
        raw["training"]["precision"] = precision
        spec = validate(raw)
        for rec in run(spec, [get_target(t) for t in targets], RunOptions(device="gpu", store=False, timeout=240)):
            step = (rec.get("timings") or {}).get("median_step_s")
            tflops = train_flops_per_sample(MLP) * 2048 / step / 1e12 if step else None
            mp = ((rec.get("runtime") or {}).get("matmul_precision") or {}).get("effective")
            rows.append({"precision": precision, "target": rec["target"], "status": rec["status"],
                         "error": rec.get("error"), "step_s": step, "tflops": tflops, "matmul_precision": mp})
    return rows


def mlp_table(rows: list[dict], pk: dict[str, dict[str, float]]) -> str:
    best = {p: max((lib[p] for lib in pk.values() if p in lib), default=None) for p in ("float32", "tf32", "bfloat16")}
    out = []
    for r in rows:
        peak = best.get(PEAK_OF.get(r["precision"], ""))
        frac = r["tflops"] / peak if r.get("tflops") and peak else None
        out.append([r["precision"], r["target"], r["status"] if r["status"] == "ok" else
                    f"{r['status']}: {r.get('error') or ''}"[:90], r.get("matmul_precision") or "—",
                    C.fmt_time(r["step_s"]) if r.get("step_s") else "—",
                    C.fmt_num(r["tflops"], 1) if r.get("tflops") else "—", C.fmt_pct(frac) if frac else "—"])
    return C.table(["precision", "target", "status", "matmul precision", "median step", "TFLOP/s",
                    "of matching peak"], out)


def seed_spec(targets: list[str]) -> tuple[str, str]:
    """The seed spec's run and its parity on the GPU, as the two tables frameworkbench prints."""
    from frameworkbench.analysis.parity import run_parity
    from frameworkbench.execution.runner import RunOptions, run
    from frameworkbench.report.parity import parity_table
    from frameworkbench.report.tables import comparison_table
    from frameworkbench.spec import load_spec
    from frameworkbench.targets import get_target

    spec = load_spec(ROOT / "specs" / "seed_tf_keras.yaml")
    ts = [get_target(t) for t in targets]
    runs = run(spec, ts, RunOptions(device="gpu", store=False, timeout=180))
    par = run_parity(spec, ts, RunOptions(device="gpu", store=False, timeout=180))
    return comparison_table(runs), parity_table(par)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=8192, help="matmul size for the peaks (default 8192)")
    ap.add_argument("--budget", type=float, default=330.0, help="seconds after which no new stage starts")
    ap.add_argument("--targets", help=f"comma-separated (default: {','.join(TARGETS)})")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    present, said = gpu_presence()
    if not present:
        print(f"no GPU: nothing to measure ({said}); exiting")
        return 0
    targets = args.targets.split(",") if args.targets else list(TARGETS)
    C.progress(f"GPU found ({said}); matmul peaks, n = {args.n}")
    pk = peaks(args.n)
    lines = ["## Matmul peaks (TFLOP/s, median)", "",
             C.table(["library", "float32 (TF32 off / highest)", "TF32", "bfloat16"],
                     [[lib, *(C.fmt_num(v.get(k), 1) for k in ("float32", "tf32", "bfloat16"))]
                      for lib, v in pk.items()]), ""]
    print("\n".join(lines), flush=True)
    rows = mlp_runs(targets, PRECISIONS, t0 + args.budget)
    print("## Training TFLOP/s, MLP " + " → ".join(map(str, MLP)) + ", batch 2048\n\n" + mlp_table(rows, pk)
          + "\n", flush=True)
    if time.perf_counter() - t0 > args.budget:
        print("seed spec run and parity: skipped (time budget spent)")
    else:
        # the five default targets (flax left out to stay inside the 6-minute budget)
        runs, parity = seed_spec([t for t in targets if t in TARGETS[:3] + TARGETS[4:]] or targets)
        print("## Seed spec on the GPU\n\n" + runs + "\n\n## Parity on the GPU\n\n" + parity)
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
