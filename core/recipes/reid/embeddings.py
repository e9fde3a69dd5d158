"""The embeddings a reid run saves for the Gallery page: one ``.npz`` per split under ``artifacts/embeddings/``.

NumPy only (no torch), so the page reads them without the training stack. Each file holds ``embeddings``
(N, D) and ``flipped`` (N, D, of the mirror images, for flip TTA), both L2-normalised float32, ``labels``
(N,) identity indices, ``paths`` (N,) image files and ``identities`` (the names the labels index).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

EMBEDDINGS_DIR = "embeddings"  # under the run folder's artifacts/


class EmbeddingsError(ValueError):
    """An embeddings file that is missing or malformed; the message says which and what to do."""


@dataclass(frozen=True)
class SavedEmbeddings:
    """The embeddings of one split, as saved."""

    embeddings: np.ndarray  # (N, D) float32
    flipped: np.ndarray | None  # (N, D) float32
    labels: np.ndarray  # (N,) int64
    paths: np.ndarray  # (N,) str
    identities: np.ndarray  # (C,) str

    def __post_init__(self) -> None:
        n = len(self.labels)
        shapes_ok = self.embeddings.ndim == 2 and len(self.embeddings) == n and len(self.paths) == n
        if not shapes_ok or (self.flipped is not None and self.flipped.shape != self.embeddings.shape):
            raise EmbeddingsError(
                f"embeddings {self.embeddings.shape}, flipped {None if self.flipped is None else self.flipped.shape}, "
                f"{n} labels and {len(self.paths)} paths do not fit together"
            )

    @property
    def names(self) -> np.ndarray:
        """(N,) the identity name of each image."""
        return self.identities[self.labels]


def embeddings_file(split: str) -> str:
    """The file of a split, relative to artifacts/: ``embeddings/test.npz``."""
    return f"{EMBEDDINGS_DIR}/{split}.npz"


def save_embeddings(path: str | os.PathLike[str], saved: SavedEmbeddings) -> None:
    """Write ``saved`` to ``path`` (written next to it, then renamed: a reader never sees half a file)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.stem}.{os.getpid()}.tmp.npz")
    arrays = {"embeddings": saved.embeddings, "labels": saved.labels, "paths": saved.paths,
              "identities": saved.identities}  # fmt: skip
    if saved.flipped is not None:
        arrays["flipped"] = saved.flipped
    np.savez(tmp, **arrays)
    os.replace(tmp, target)


def load_embeddings(path: str | os.PathLike[str]) -> SavedEmbeddings:
    """Read a split's embeddings.

    Raises:
        EmbeddingsError: no such file, or not one a reid run wrote.
    """
    file = Path(path)
    if not file.is_file():
        raise EmbeddingsError(f"no embeddings at {file}; a reid run saves them when it finishes")
    try:
        with np.load(file, allow_pickle=False) as npz:
            flipped = npz["flipped"].astype(np.float32) if "flipped" in npz.files else None
            return SavedEmbeddings(npz["embeddings"].astype(np.float32), flipped, npz["labels"].astype(np.int64),
                                   npz["paths"].astype(str), npz["identities"].astype(str))  # fmt: skip
    except (OSError, ValueError, KeyError) as exc:
        raise EmbeddingsError(f"cannot read embeddings {file}: {type(exc).__name__}: {exc}") from exc
