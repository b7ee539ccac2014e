"""Exports of stored runs to third-party tools (MLflow); each imports its tool on demand."""
