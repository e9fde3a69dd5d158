"""What a person says about a run when starting it: name, group, changes, reason and tags, carried as one value
from the form, the CLI and the logging API to the run folder's ``meta.json``."""

from __future__ import annotations

from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class RunLabels:
    """The human side of a run.

    Attributes:
        name: a short title; None lets the run folder pick one (the recipe, or the script's name).
        group: runs to compare together (seeds, a sweep); None for none.
        changes: what differs from the baseline, as the experiment logs write it.
        reason: the reason or hypothesis: what the person expects and why.
        tags: free labels for filtering.
    """

    name: str | None = None
    group: str | None = None
    changes: str = ""
    reason: str = ""
    tags: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "tags", tuple(self.tags))

    def with_name(self, name: str | None) -> RunLabels:
        """The same labels under another name (one run of several launched together)."""
        return replace(self, name=name)
