"""Old path of :mod:`frameworkbench.analysis.study`, kept while report/document.py, tests/ import it: the same module object,
so patching one patches the other."""
import sys

from .analysis import study as _module

sys.modules[__name__] = _module
