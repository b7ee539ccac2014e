"""PyTorch: an ``nn.Sequential`` model and an idiomatic hand-written training loop (target ``torch``).

Declarations only (imports no framework): the adapter is in :mod:`.adapter`, diagnostics in
:mod:`.probes`, the code generator in :mod:`.codegen`.
"""
from frameworkbench.targets import Target

TARGETS = (
    Target("torch", f"{__name__}.adapter:TorchAdapter", ("torch",), ("torch",), {}, family="torch", backend="torch",
           api="loop", extras=("torch",), default=True, order=50, codegen=f"{__name__}.codegen:generate"),
)
