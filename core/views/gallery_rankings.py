"""Every ranking of a gallery the page's switches can ask for, computed ahead in a background thread so that
a switch answers from memory: the plain ranking first, then each refinement alone, all of them, and the
pairs. A ranking asked for before the thread reaches it is computed at once (and only once: the thread and
the page share a lock per choice)."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Mapping

from core.recipes.reid.choices import REFINEMENTS
from core.views.gallery import Gallery, Ranking, rank, refinements

Key = tuple[bool, ...]  # one flag per name of REFINEMENTS, in that order


def warm_order() -> list[Key]:
    """Plain, each refinement alone, all together, then the rest (the order a user is likely to try them)."""
    n = len(REFINEMENTS)
    singles = [tuple(i == j for j in range(n)) for i in range(n)]
    first = [(False,) * n, *singles, (True,) * n]
    return first + [key for key in itertools.product((False, True), repeat=n) if key not in first]


class Rankings:
    """The rankings of one gallery, by choice of refinements; ``start()`` computes them all in the background."""

    def __init__(self, gallery: Gallery, ranker: Callable[[Gallery, Mapping[str, bool]], Ranking] | None = None):
        self.gallery = gallery
        self._rank = ranker or (lambda g, on: rank(g, refinements(g, dict(on))))
        self._done: dict[Key, Ranking] = {}
        self._locks = {key: threading.Lock() for key in warm_order()}
        self._thread: threading.Thread | None = None

    def start(self) -> Rankings:
        """Begin computing every choice in a daemon thread (once); returns self."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._warm, name="gallery-rankings", daemon=True)
            self._thread.start()
        return self

    def get(self, on: Mapping[str, bool]) -> Ranking:
        """The ranking with the refinements ``on`` (names of REFINEMENTS -> on or off)."""
        key = tuple(bool(on.get(name, False)) for name in REFINEMENTS)
        if key in self._done:
            return self._done[key]
        with self._locks[key]:
            if key not in self._done:
                self._done[key] = self._rank(self.gallery, dict(zip(REFINEMENTS, key, strict=True)))
        return self._done[key]

    def wait(self, timeout: float | None = None) -> None:
        """Block until the background thread has been through every choice (or ``timeout`` seconds passed)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def ready(self) -> int:
        """How many of the choices are computed."""
        return len(self._done)

    def _warm(self) -> None:
        for key in warm_order():
            try:
                self.get(dict(zip(REFINEMENTS, key, strict=True)))
            except Exception:  # e.g. flip TTA without flipped embeddings: the page says so when asked
                continue
