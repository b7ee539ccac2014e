"""Old path of :mod:`frameworkbench.analysis.parity`, kept while report/parity.py import it: the same module object,
so patching one patches the other."""
import sys

from .analysis import parity as _module

sys.modules[__name__] = _module
