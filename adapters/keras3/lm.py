"""Language-model check for Keras 3: ``keras_hub``'s BERT classifier on the process's Keras backend, one step.

``BertBackbone`` and ``BertTextClassifier`` built from their constructors (random initialisation, no preset
download, no preprocessor: token ids in), compiled with Adam and trained by ``train_on_batch``. The backend
is the target's ``KERAS_BACKEND``, so each backend runs in its own process
(:mod:`frameworkbench.analysis.language_models`).
"""
from __future__ import annotations

LIBRARY, LIBRARY_MODULE = "keras-hub", "keras_hub"
MODEL = "BertTextClassifier"


def check(sizes: dict, tokens, labels, imported) -> dict:
    import keras
    import keras_hub
    import numpy as np

    from frameworkbench.analysis.language_models import one_step

    imported()
    keras.utils.set_random_seed(sizes["seed"])
    x = {"token_ids": tokens, "segment_ids": np.zeros_like(tokens), "padding_mask": np.ones_like(tokens, dtype=bool)}

    def build():
        backbone = keras_hub.models.BertBackbone(
            vocabulary_size=sizes["vocab_size"], num_layers=sizes["num_layers"], num_heads=sizes["num_heads"],
            hidden_dim=sizes["hidden_size"], intermediate_dim=sizes["intermediate_size"], dropout=sizes["dropout"],
            max_sequence_length=sizes["sequence_length"])
        model = keras_hub.models.BertTextClassifier(backbone=backbone, num_classes=sizes["num_classes"],
                                                    preprocessor=None, dropout=sizes["dropout"])
        model.compile(optimizer=keras.optimizers.Adam(sizes["learning_rate"]),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        return model

    def logits(model):
        return keras.ops.convert_to_numpy(model(x, training=False))

    def step(model):
        model.train_on_batch(x, labels)

    def count(model):
        return sum(int(np.prod(w.shape)) for w in model.trainable_weights)

    return one_step(build, count, logits, step, labels)
