"""Builders of embedding, self_attention and layer_norm for the Keras family (see ``frameworkbench.layers``).

``embedding`` is Keras' ``Embedding`` (it casts float ids to int32 itself), ``layer_norm`` its
``LayerNormalization`` on the last axis, ``self_attention`` a :func:`self_attention_class` subclass of
``MultiHeadAttention`` that a Sequential model can call with one input (query = key = value).

Keras 3 on TensorFlow gives an embedding table a sparse gradient (``tf.IndexedSlices``: one row per token
in the batch, repeated ids not combined), and its Adam squares those rows before the scatter adds them:
a token that occurs n times adds Σ g_i² to the second moment instead of (Σ g_i)², as every other target
(and tf_keras, which deduplicates) does. The aligned policy gives the table a dense gradient there
(:func:`embedding_class`); the native policy keeps Keras' own path (the defaults audit names it).
"""
from __future__ import annotations

import inspect
import math
from typing import Any

import numpy as np

_CLASSES: dict[tuple[str, str], type] = {}  # (Keras module name: keras or tf_keras, class) -> the class


def self_attention_class(K: Any) -> type:
    """``K.layers.MultiHeadAttention`` as a one-input layer: ``call(x) = MHA(x, x)`` (no mask, no dropout)."""
    if (K.__name__, "SelfAttention") not in _CLASSES:
        class SelfAttention(K.layers.MultiHeadAttention):
            def build(self, input_shape):
                if hasattr(self, "_build_from_signature"):  # tf_keras builds from (query, value)
                    self._build_from_signature(input_shape, input_shape)
                    self.built = True
                else:
                    super().build(input_shape, input_shape)

            def call(self, inputs, training=None):
                return super().call(inputs, inputs, training=training)

            def compute_output_shape(self, input_shape):
                return input_shape

            def compute_output_spec(self, inputs, training=None):  # Keras 3's symbolic pass
                return K.KerasTensor(inputs.shape, dtype=self.compute_dtype)

        _CLASSES[K.__name__, "SelfAttention"] = SelfAttention
    return _CLASSES[K.__name__, "SelfAttention"]


def embedding_class(K: Any) -> type:
    """Keras 3's ``Embedding`` on TensorFlow with a dense gradient for its table (the aligned policy: see the
    module docstring); same class name, weights and forward computation."""
    if (K.__name__, "Embedding") not in _CLASSES:
        import tensorflow as tf

        @tf.custom_gradient
        def dense_gradient(table):
            return tf.identity(table), lambda g: tf.convert_to_tensor(g)

        class Embedding(K.layers.Embedding):
            def call(self, inputs):
                if inputs.dtype not in ("int32", "int64"):
                    inputs = K.ops.cast(inputs, "int32")
                table = dense_gradient(tf.convert_to_tensor(self.embeddings))
                return K.ops.cast(K.ops.take(table, inputs, axis=0), dtype=self.compute_dtype)

        _CLASSES[K.__name__, "Embedding"] = Embedding
    return _CLASSES[K.__name__, "Embedding"]


def sparse_embedding_gradient(adapter: Any) -> bool:
    """Whether Keras' own Embedding gives its table a sparse gradient here (Keras 3 on TensorFlow)."""
    return adapter.backend == "tensorflow" and adapter.keras.__name__ == "keras"


def _embedding(adapter: Any, lay, input_shape) -> list:
    aligned = adapter.policy == "aligned" and sparse_embedding_gradient(adapter)
    cls = embedding_class(adapter.keras) if aligned else adapter.keras.layers.Embedding
    return [cls(lay.input_dim, lay.output_dim)]


def _self_attention(adapter: Any, lay, input_shape) -> list:
    cls = self_attention_class(adapter.keras)
    return [cls(num_heads=lay.num_heads, key_dim=lay.key_dim, use_bias=lay.use_bias)]


def _layer_norm(adapter: Any, lay, input_shape) -> list:
    eps = {} if adapter.policy == "native" else {"epsilon": lay.epsilon}
    return [adapter.keras.layers.LayerNormalization(axis=-1, **eps)]


BUILDERS: dict[str, Any] = {"embedding": _embedding, "self_attention": _self_attention, "layer_norm": _layer_norm}
WEIGHTED: dict[Any, Any] = {"Embedding": "embedding", "SelfAttention": "self_attention",
                            "LayerNormalization": "layer_norm"}


def _default(cls: type, name: str) -> Any:
    return inspect.signature(cls.__init__).parameters[name].default


def attention_fans(K: Any, width: int = 64, heads: int = 8, key_dim: int = 8) -> str:
    """The fans this Keras gives a multi-head attention's query kernel (width, heads, key_dim), told
    apart by the largest initial value of a throwaway layer's kernel (glorot-uniform's limit is
    sqrt(6 / (fan_in + fan_out))): Keras 3's EinsumDense uses its input and output axes, tf_keras
    the convolution rule of its ``_compute_fans``."""
    layer = K.layers.MultiHeadAttention(num_heads=heads, key_dim=key_dim)
    x = np.zeros((1, 2, width), np.float32)
    layer(x, x)
    top = float(np.abs(np.asarray(layer._query_dense.kernel)).max())
    candidates = {"EinsumDense axes: fan_in = D, fan_out = heads·key_dim": math.sqrt(6 / (width + heads * key_dim)),
                  "convolution rule: fan_in = D·heads, fan_out = D·key_dim":
                      math.sqrt(6 / (width * (heads + key_dim)))}
    name, limit = min(candidates.items(), key=lambda kv: abs(kv[1] - top))
    return (f"{name} (measured max |query kernel| {top:.4g}, limit {limit:.4g} at D={width}, heads={heads}, "
            f"key_dim={key_dim})")


def embedding_gradient(adapter: Any, model: Any) -> str:
    """The gradient type Keras' own Embedding gives its table here (measured on TensorFlow), and the model's."""
    if adapter.backend != "tensorflow":
        return f"dense (the {adapter.backend} backend's autodiff of take)"
    import tensorflow as tf

    layer = adapter.keras.layers.Embedding(3, 2)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(np.array([[0, 0, 1]], np.int32)))
    own = type(tape.gradient(loss, layer.trainable_weights)[0]).__name__
    densified = any(type(lay) is _CLASSES.get((adapter.keras.__name__, "Embedding")) for lay in model.layers)
    return own + ("; this model: dense (aligned: Keras 3's Adam squares repeated ids' sparse rows separately)"
                  if densified else "")


def defaults(adapter: Any, model: Any) -> dict[str, Any]:
    """Keras' defaults for these layer types, read from the Keras in use (signatures, initialiser configs,
    and the attention kernels' fans measured on a throwaway layer)."""
    K = adapter.keras
    emb = K.initializers.get(_default(K.layers.Embedding, "embeddings_initializer"))
    mha = K.layers.MultiHeadAttention
    norms = [float(lay.epsilon) for lay in model.layers if isinstance(lay, K.layers.LayerNormalization)]
    return {
        "embedding_initializer": f"{type(emb).__name__}({emb.get_config()})",
        "embedding_gradient": embedding_gradient(adapter, model),
        "self_attention_kernel_initializer": f"{_default(mha, 'kernel_initializer')}; fans: {attention_fans(K)}",
        "self_attention_bias_initializer": _default(mha, "bias_initializer"),
        "layer_norm_epsilon": _default(K.layers.LayerNormalization, "epsilon"),
        "layer_norm_epsilon_in_model": norms or None,
    }
