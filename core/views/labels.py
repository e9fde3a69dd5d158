"""How the pages and the verdict sentences name a run: by its name, with the end of its id where that is needed
to tell runs apart (names need not be unique). Below ``core.views.verdicts`` and ``core.views.runs``, so both
can use it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

ID_TAIL = 6  # characters of the run id that tell runs with one name apart


def run_label(name: str, run_id: str) -> str:
    """How a picker names a run: its name and the end of its id (names need not be unique)."""
    return f"{name} ({run_id[-ID_TAIL:]})"


def distinct_labels(names: Mapping[str, str | None]) -> dict[str, str]:
    """run id -> how a sentence names the run among ``names`` (run id -> name): its name alone where no other
    run there has it, else :func:`run_label`; a run without a name is named by the end of its id."""
    counts = Counter(name for name in names.values() if name)
    return {
        run_id: (name if counts[name] == 1 else run_label(name, run_id)) if name else run_id[-ID_TAIL:]
        for run_id, name in names.items()
    }
