"""Experiment Explorer core: training recipes, run folders, the DuckDB index and the CLI (no Streamlit here)."""
