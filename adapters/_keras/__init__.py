"""The Keras API shared by tf.keras (Keras 2) and standalone Keras 3: the adapter base class and
its layer builders (:mod:`.adapter`), diagnostics (:mod:`.probes`) and code generation
(:mod:`.codegen`). Declares no target; importing it imports no framework."""

# Loss classes by spec name; the probability clipping epsilon is Keras' global backend epsilon.
LOSSES = {"binary_crossentropy": "BinaryCrossentropy", "categorical_crossentropy": "CategoricalCrossentropy",
          "sparse_categorical_crossentropy": "SparseCategoricalCrossentropy", "mse": "MeanSquaredError"}
