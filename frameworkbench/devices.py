"""What a device is: the names a run can ask for, and the error an adapter raises for one it cannot use."""
from __future__ import annotations

DEVICES = ("auto", "cpu", "gpu", "tpu")  # what --device accepts; "auto" resolves to gpu, tpu, then cpu
DEVICE_KINDS = ("cpu", "gpu", "tpu")  # what a run's parameters can live on


class DeviceUnavailable(RuntimeError):
    """The requested device cannot be used by this adapter in this process (the run is skipped)."""
