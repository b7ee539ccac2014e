"""Language-model check for TensorFlow: ``transformers``' TensorFlow BERT classifier, where the installed version
still ships it (transformers 5 removed its TensorFlow classes: the check then reports ``unsupported`` and why).

``TFBertForSequenceClassification`` from a ``BertConfig`` (random initialisation, nothing downloaded),
compiled with Adam and trained by ``train_on_batch``. Run by :mod:`frameworkbench.analysis.language_models`.
"""
from __future__ import annotations

LIBRARY = LIBRARY_MODULE = "transformers"
MODEL = "TFBertForSequenceClassification"


def check(sizes: dict, tokens, labels, imported) -> dict:
    import numpy as np

    from frameworkbench.analysis.language_models import one_step

    from .._lm import bert_config, transformers_class

    cls = transformers_class(MODEL, "TensorFlow", "modeling_tf_")  # before TensorFlow's import: it may not be there
    import tensorflow as tf
    import tf_keras

    imported()
    tf.keras.utils.set_random_seed(sizes["seed"])
    config = bert_config(sizes)
    x = {"input_ids": tokens}

    def build():
        model = cls(config)
        model(x)  # creates the weights
        model.compile(optimizer=tf_keras.optimizers.Adam(sizes["learning_rate"]),
                      loss=tf_keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        return model

    def logits(model):
        return model(x, training=False).logits.numpy()

    def step(model):
        model.train_on_batch(x, labels)

    def count(model):
        return sum(int(np.prod(w.shape)) for w in model.trainable_weights)

    return one_step(build, count, logits, step, labels)
