"""Old path of :mod:`.tf_keras.tape`, kept while tests/test_document_e2e.py imports it."""
from .tf_keras.tape import TfGradientTapeAdapter  # noqa: F401
