"""Reports rendered from stored records only: markdown tables (and, later, plots)."""
