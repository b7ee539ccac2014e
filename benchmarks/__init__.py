"""Benchmarks of frameworkbench itself (issue 4): overhead, roofline, scaling, wallclock.

Run each with ``python -m benchmarks.NAME`` from the repository root, or all four with
``make bench``. Every script prints a table of figures and ratios measured side by side in
one run and writes the same figures as JSON under ``benchmarks/out/``.
"""
