"""The error an adapter raises for what its target does not implement."""


class Unsupported(NotImplementedError):
    """A layer type, backend or feature this target does not implement (the message starts ``unsupported:``)."""
