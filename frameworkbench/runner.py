"""Old path of :mod:`frameworkbench.execution.runner`, kept while benchmarks/, tests/ import it: the same module object,
so patching one patches the other."""
import sys

from .execution import runner as _module

sys.modules[__name__] = _module
