"""The worker modes: name -> the function a worker runs and the result it returns. One registry.

A mode is ``"module:function"``, imported by the worker only (``function(ctx, model)`` returns
an instance of the mode's :class:`~frameworkbench.execution.records.ModeResult` subclass).
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass

from . import records


@dataclass(frozen=True)
class Mode:
    function: str  # "module:function"
    result: type[records.ModeResult]
    description: str

    def load(self):
        """Import and return the mode's function (worker side)."""
        module, _, name = self.function.partition(":")
        return getattr(importlib.import_module(module), name)


MODES: dict[str, Mode] = {
    "train": Mode("frameworkbench.execution.training:train_mode", records.TrainResult,
                  "train for the spec's epochs; history, timings, inference latency"),
    "probe": Mode("frameworkbench.execution.training:probe_mode", records.ProbeResult,
                  "conformance probe: outputs at init, one epoch, a repeat from the same start"),
    "parity": Mode("frameworkbench.analysis.parity_mode:parity_mode", records.ParityResult,
                   "numerical parity against the float64 reference"),
    # the rebuilt document's measurements
    "activations": Mode("frameworkbench.analysis.diagnostics:activations_mode", records.ActivationsResult,
                        "every document activation computed by the framework, with its derivative"),
    "dynamic": Mode("frameworkbench.analysis.diagnostics:dynamic_mode", records.DynamicResult,
                    "eager vs compiled training step"),
    "export": Mode("frameworkbench.analysis.export_mode:export_mode", records.ExportResult,
                   "train (or load a saved model), export to every format: size, load time, latency, max |Δ|"),
    "codegen": Mode("frameworkbench.analysis.diagnostics:codegen_mode", records.CodegenResult,
                    "the generated idiomatic script, run"),
    "train_stats": Mode("frameworkbench.analysis.diagnostics:train_stats_mode", records.TrainStatsResult,
                        "train plus dead units and gradient norms"),
}
