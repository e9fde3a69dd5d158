"""How runs are judged: metrics as pure functions of arrays (``classification``), significance tests
(``stats``) and diagnostics of curves and sets of runs (``diagnostics``).

Import from the submodule that owns a function. Nothing here imports torch: pages import these and must open fast.
"""
