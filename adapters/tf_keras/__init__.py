"""tf.keras: TensorFlow's own Keras 2 (the tf_keras package behind ``TF_USE_LEGACY_KERAS=1``), trained by
``model.fit`` (``tf.keras``) or by a hand-written ``tf.GradientTape`` loop (``tf:gradienttape``).

Declarations only (imports no framework): the adapters are in :mod:`.adapter` and :mod:`.tape`,
the code generators in :mod:`.codegen`.
"""
from frameworkbench.targets import Target

_P = __name__
_TF = dict(modules=("tensorflow", "tf_keras"), packages=("tensorflow", "tf-keras"),
           env={"TF_USE_LEGACY_KERAS": "1"}, family="tf.keras", backend="tensorflow", extras=("tensorflow",))

TARGETS = (
    Target("tf.keras", f"{_P}.adapter:TfKerasAdapter", **_TF, default=True, order=10, codegen=f"{_P}.codegen:fit"),
    # Low-level variant: the same model trained by a hand-written loop.
    Target("tf:gradienttape", f"{_P}.tape:TfGradientTapeAdapter", **_TF, api="loop", order=70,
           codegen=f"{_P}.codegen:gradient_tape"),
)
