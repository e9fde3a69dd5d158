"""One generic registry of named entries, in the manner of timm's: recipes, datasets and CLI verbs each keep
one ``Registry`` filled by explicit ``register`` calls, and everything that lists names lists from it.

A duplicate name replaces the earlier entry with a warning; an unknown name raises the registry's own error
type with a message that lists the known names (and the closest one, for a typo).
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Iterator
from typing import Generic, Protocol, TypeVar


class Named(Protocol):
    """What an entry needs: the name users type."""

    @property
    def name(self) -> str: ...


E = TypeVar("E", bound=Named)


class Registry(Generic[E]):
    """Named entries of one kind, listed sorted by name.

    Args:
        kind: what an entry is, for messages (``"recipe"``, ``"dataset"``, ``"verb"``).
        error: the exception type an unknown name raises (a ``LookupError`` or ``ValueError`` subclass).
    """

    def __init__(self, kind: str, error: type[Exception] = LookupError) -> None:
        self.kind = kind
        self.error = error
        self._entries: dict[str, E] = {}

    def register(self, entry: E) -> E:
        """Add ``entry``; a second entry with the same name replaces the first, with a warning."""
        if entry.name in self._entries:
            warnings.warn(
                f"{self.kind} {entry.name!r} is registered twice; the later registration replaces the earlier",
                stacklevel=2,
            )
        self._entries[entry.name] = entry
        return entry

    def get(self, name: str) -> E:
        """The entry registered as ``name``.

        Raises:
            self.error: no entry has that name; the message lists the known names and the closest one.
        """
        try:
            return self._entries[name]
        except KeyError:
            raise self.error(self.unknown_message(name)) from None

    def unknown_message(self, name: str) -> str:
        """``unknown recipe 'clasify'; did you mean 'classify'? known recipes: ...``."""
        known = ", ".join(self.names()) or "(none registered)"
        close = difflib.get_close_matches(name, self.names(), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"unknown {self.kind} {name!r}{hint}; known {self.kind}s: {known}"

    def names(self) -> list[str]:
        """The registered names, sorted."""
        return sorted(self._entries)

    def entries(self) -> list[E]:
        """All entries, sorted by name."""
        return [self._entries[name] for name in self.names()]

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[E]:
        return iter(self.entries())

    def __len__(self) -> int:
        return len(self._entries)
