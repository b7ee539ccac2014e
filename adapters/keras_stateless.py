"""Old path of :mod:`.keras3.stateless`, kept while tests/test_document_e2e.py imports it."""
from .keras3.stateless import KerasStatelessAdapter  # noqa: F401
