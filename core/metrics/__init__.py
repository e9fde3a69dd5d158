"""Metrics as pure functions of arrays, shared by training, the CLI and the pages.

Import from the submodule that owns a metric, e.g. ``from core.metrics.classification import
summarize_predictions``. Nothing here imports torch: pages import these and must open fast.
"""
