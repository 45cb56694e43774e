"""The queries of bulk jobs: inputs, progress, per-row results."""
