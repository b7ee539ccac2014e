"""Analyses of runs: parity against the float64 reference, studies, diagnostics worker modes,
timing outliers and the diff of two result sets."""
