"""Model specs: the field table, the typed frozen Spec, the loader, the validator and the error helpers.

A spec is validated once, when it is loaded; adapters never validate, and a worker rebuilds
the Spec from its validated snapshot with :func:`from_snapshot`. Every user-facing error
message of the project is built by the helpers in :mod:`.errors`.
"""
from __future__ import annotations

from ..activations import ACTIVATION_PARAMS, ACTIVATIONS, Activation
from .errors import (Problem, SpecError, fmt, missing, out_of_range, problem, sourced, suggest, unknown,
                     wrong_type)
from .fields import (CROSSENTROPY_EPSILON, DATA_SOURCES, DEFAULT_LOSS, DEFAULT_METRICS, DEVICES, FIELDS,
                     FILE_FORMATS, INIT_MODES, LAYER_TYPES, LOSS_OUTPUT_ACTIVATION, LOSSES, MAX_BATCH, MAX_EPOCHS,
                     MAX_FEATURES, MAX_LAYERS, MAX_SAMPLES, MAX_UNITS, METRICS, OPTIMIZER_DEFAULTS, OPTIMIZERS,
                     REQUIRED, SKLEARN_DATASETS, TASK_LOSSES, TASK_METRICS, TASKS, TOP_FIELDS, Field,
                     fields_markdown, invalid_values)
from .loader import load_spec, read_yaml
from .model import Spec, from_snapshot, validate
from .validate import normalise, train_count

__all__ = [
    "ACTIVATIONS", "ACTIVATION_PARAMS", "Activation", "CROSSENTROPY_EPSILON", "DATA_SOURCES", "DEFAULT_LOSS",
    "DEFAULT_METRICS", "DEVICES", "FIELDS", "FILE_FORMATS", "Field", "INIT_MODES", "LAYER_TYPES",
    "LOSS_OUTPUT_ACTIVATION", "LOSSES", "MAX_BATCH", "MAX_EPOCHS", "MAX_FEATURES", "MAX_LAYERS", "MAX_SAMPLES",
    "MAX_UNITS", "METRICS", "OPTIMIZER_DEFAULTS", "OPTIMIZERS", "Problem", "REQUIRED", "SKLEARN_DATASETS",
    "Spec", "SpecError", "TASK_LOSSES", "TASK_METRICS", "TASKS", "TOP_FIELDS", "fields_markdown", "fmt",
    "from_snapshot", "invalid_values", "load_spec", "missing", "normalise", "out_of_range", "problem",
    "read_yaml", "sourced", "suggest", "train_count", "unknown", "validate", "wrong_type",
]
