"""Per-framework adapters (installed as ``frameworkbench.adapters``).

Importing this package imports no framework; each adapter module imports its
framework at module level and is loaded only inside a worker process.
"""
