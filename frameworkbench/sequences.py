"""Synthetic sequences (``data.sequence_length``), seeded by ``data.seed``.

* :func:`float_sequences` (``n_features``): standard-normal ``x`` of shape (rows, T, F); the target is
  the peak of a random walk -- the maximum over time of the running sum of a fixed random projection of
  each step's features -- so a model must carry state across the steps (an LSTM beats a dense model on
  the flattened sequence).
* :func:`token_sequences` (``vocab_size``): token ids of shape (rows, T); each sequence holds one
  "a" marker (ids ``0 .. k-1``) and one "b" marker (ids ``k .. 2k-1``) among filler tokens, and the
  label is which pair they form, ``(b - k - a) mod k`` (0: a matching pair). No single token tells the
  label, only the two together: self-attention learns it, a bag of embeddings cannot.

The generators are plain numpy and self-contained: ``frameworkbench codegen`` writes their source into
generated scripts (:func:`source`), so a script makes exactly these arrays.
"""
from __future__ import annotations

import inspect

import numpy as np


def flip_labels(y, n_classes, flip_y, gen):
    """A share ``flip_y`` of the labels replaced by random classes (label noise, as make_classification)."""
    flip = gen.random(len(y)) < flip_y
    y[flip] = gen.integers(0, n_classes, int(flip.sum()))
    return y


def float_sequences(n_samples, sequence_length, n_features, seed, n_classes=None, flip_y=0.0, noise=0.0):
    """Float sequences (rows, T, F) and targets from the peak of a random walk: regression (``n_classes``
    None) the peak plus Gaussian noise of std ``noise``; classification its quantile bucket among the rows
    (``n_classes`` classes of equal size) with label noise ``flip_y``."""
    gen = np.random.default_rng(np.random.SeedSequence([seed, 102]))  # stream 102: float sequences
    x = gen.standard_normal((n_samples, sequence_length, n_features))
    w = gen.standard_normal(n_features)
    peak = np.cumsum(x @ (w / np.linalg.norm(w)), axis=1).max(axis=1) / np.sqrt(sequence_length)
    if n_classes is None:
        return x, peak + noise * gen.standard_normal(n_samples)
    y = np.searchsorted(np.quantile(peak, np.arange(1, n_classes) / n_classes), peak, side="right")
    return x, flip_labels(y, n_classes, flip_y, gen)


def token_sequences(n_samples, sequence_length, vocab_size, seed, n_classes=2, flip_y=0.0):
    """Token ids (rows, T) in ``[0, vocab_size)``: fillers ``2k .. vocab_size-1``, one "a" marker (id ``i < k``)
    and one "b" marker (id ``k + j``) at two random positions; label ``(j - i) mod k``, label noise ``flip_y``."""
    gen = np.random.default_rng(np.random.SeedSequence([seed, 103]))  # stream 103: token sequences
    k, rows = n_classes, np.arange(n_samples)
    x = gen.integers(2 * k, vocab_size, size=(n_samples, sequence_length))
    a, y = gen.integers(0, k, n_samples), gen.integers(0, k, n_samples)
    where = np.argsort(gen.random((n_samples, sequence_length)), axis=1)[:, :2]  # two distinct positions
    x[rows, where[:, 0]] = a
    x[rows, where[:, 1]] = k + (a + y) % k
    return x, flip_labels(y, k, flip_y, gen)


GENERATORS = {f.__name__: f for f in (float_sequences, token_sequences)}


def source(name: str) -> list[str]:
    """The lines defining generator ``name`` (and the helper it calls), for generated scripts."""
    return [*inspect.getsource(flip_labels).splitlines(), "", "", *inspect.getsource(GENERATORS[name]).splitlines()]
