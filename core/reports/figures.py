"""The experiment log's images, drawn with matplotlib's Agg canvas (no browser, no display, no global pyplot
state, so a server can draw them from several threads): loss and accuracy curves, the confusion matrix and a
sample prediction, each returned as PNG bytes."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from core.evaluation.semantics import Semantics

Points = Sequence[Sequence[Any]]  # [(step, value)] as the run record gives them


def _figure(width: float = 6.4, height: float = 4.0) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _png(fig: Any) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def curves_png(curves: Mapping[str, Points], title: str, ylabel: str, semantics: Mapping[str, Semantics]) -> bytes:
    """One line per metric against the epoch; shares are drawn in percent whatever scale they were logged in."""
    fig = _figure()
    ax = fig.add_subplot()
    for name, points in sorted(curves.items()):
        finite = [(s, v) for s, v in points if v is not None]
        sem = semantics.get(name)
        scale = 100 / sem.unit if sem is not None and sem.is_share else 1.0
        ax.plot([s for s, _ in finite], [v * scale for _, v in finite], marker="o" if len(finite) < 30 else None,
                markersize=3, label=name)  # fmt: skip
    ax.set_title(title)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _png(fig)


def confusion_png(cells: Sequence[Mapping[str, Any]], title: str) -> bytes:
    """A confusion matrix from its non-zero cells ``{truth, predicted, count}``; rows are the truth."""
    import numpy as np

    names = sorted({str(c["truth"]) for c in cells} | {str(c["predicted"]) for c in cells})
    index = {n: i for i, n in enumerate(names)}
    matrix = np.zeros((len(names), len(names)))
    for c in cells:
        matrix[index[str(c["truth"])], index[str(c["predicted"])]] += float(c["count"])
    size = min(14.0, 3.0 + 0.25 * len(names))
    fig = _figure(size + 1.5, size)
    ax = fig.add_subplot()
    image = ax.imshow(matrix, cmap="Blues")
    fig.colorbar(image, ax=ax, shrink=0.8)
    if len(names) <= 40:
        ax.set_xticks(range(len(names)), names, rotation=90, fontsize=7)
        ax.set_yticks(range(len(names)), names, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("truth")
    ax.set_title(title)
    return _png(fig)


def sample_png(image: Path, caption: str) -> bytes | None:
    """An image the run predicted with its caption (truth, prediction, probability); None if unreadable."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(image) as img:
            pixels = img.convert("RGB")
    except (OSError, UnidentifiedImageError):
        return None
    fig = _figure(4.0, 4.4)
    ax = fig.add_subplot()
    ax.imshow(pixels)
    ax.set_axis_off()
    ax.set_title(caption, fontsize=9)
    return _png(fig)
