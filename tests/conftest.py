"""Shared fixtures. Unit tests import no ML framework; slow tests run real worker processes."""
from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "specs"
FRAMEWORK_MODULES = ("tensorflow", "tf_keras", "keras", "torch", "jax", "jaxlib")

BASE_SPEC = {
    "name": "tiny",
    "task": "binary",
    "input_shape": [6],
    "layers": [{"type": "dense", "units": 8, "activation": "relu"},
               {"type": "dense", "units": 1, "activation": "sigmoid"}],
    "loss": "binary_crossentropy",
    "optimizer": {"name": "adam", "learning_rate": 0.01},
    "training": {"epochs": 2, "batch_size": 16, "seed": 3},
    "data": {"source": "synthetic", "n_samples": 200, "n_features": 6},
}


@pytest.fixture
def spec_dict():
    """A small valid spec as a fresh dict (mutate freely)."""
    return copy.deepcopy(BASE_SPEC)


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "results.db"


def cli(*args: str, env: dict | None = None, timeout: float = 600, cwd: Path | None = None):
    """Run the CLI in a subprocess; return the CompletedProcess (text)."""
    return subprocess.run([sys.executable, "-m", "frameworkbench.cli", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd or ROOT, env={**os.environ, **(env or {})})


def numeric_gradient(loss, arr, h: float = 1e-6):
    """Central finite differences of ``loss()`` with respect to every entry of ``arr`` (changed in place, restored)."""
    import numpy as np

    num = np.zeros_like(arr)
    for i in np.ndindex(arr.shape):
        old = arr[i]
        arr[i] = old + h
        up = loss()
        arr[i] = old - h
        num[i] = (up - loss()) / (2 * h)
        arr[i] = old
    return num
