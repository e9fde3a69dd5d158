"""The Gallery page's cached loaders: a run's embeddings, its rankings (one per choice of refinements) and its
embedder; each shows its error and returns None when the run cannot be read."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import plotly.graph_objects as go
import streamlit as st
from PIL import Image
from streamlit.runtime.uploaded_file_manager import UploadedFile

from app_pages.lib.gallery_panels import map_figure
from core.recipes.classify.predict import PredictError, read_image, read_upload
from core.recipes.reid import predict
from core.views import gallery as galleryview
from core.views.gallery import Gallery, GalleryError, Ranking
from core.views.gallery_rankings import Rankings

T = TypeVar("T")


def _version(root: Path, run_id: str) -> int:
    """Changes when the run's embeddings are rewritten, so that caches keyed by it are refreshed."""
    split = galleryview.gallery_split(root / run_id)
    return galleryview.split_file(root / run_id, split).stat().st_mtime_ns if split else 0


@st.cache_resource(max_entries=8, show_spinner="Loading the embeddings...")
def _gallery(root: str, run_id: str, version: int) -> Gallery:
    return galleryview.load_gallery(Path(root) / run_id)


@st.cache_resource(max_entries=8, show_spinner=False)
def _rankings(root: str, run_id: str, version: int) -> Rankings:
    return Rankings(_gallery(root, run_id, version)).start()  # every switch's ranking, ahead, in the background


@st.cache_resource(max_entries=4, show_spinner="Loading the model...")
def _model(root: str, run_id: str, version: int) -> predict.EmbedderHandle:
    return predict.load_run_model(Path(root) / run_id)


@st.cache_resource(max_entries=4, show_spinner="Projecting the embeddings...")
def _map(root: str, run_id: str, version: int) -> go.Figure:
    return map_figure(galleryview.load_map(Path(root) / run_id))  # built once: thousands of points take a while


def _shown(load: Callable[[str, str, int], T], error: type[Exception], root: Path, run_id: str) -> T | None:
    """``load`` of the run (a cached loader, keyed by the embeddings' version); None, with the message shown,
    when it raises ``error`` (the run cannot be read)."""
    try:
        return load(str(root), run_id, _version(root, run_id))
    except error as exc:
        st.error(str(exc))
        return None


def map_of(root: Path, run_id: str) -> go.Figure | None:
    """The run's embedding map; None (with the message shown) when it cannot be made."""
    return _shown(_map, GalleryError, root, run_id)


def gallery_of(root: Path, run_id: str) -> Gallery | None:
    """The run's gallery; None (with the message shown) when it cannot be read."""
    return _shown(_gallery, GalleryError, root, run_id)


def ranking_of(root: Path, run_id: str, on: dict[str, bool]) -> Ranking:
    """The run's ranking with the switches ``on`` (flip, qe, rerank), computed once per choice."""
    rankings = _rankings(str(root), run_id, _version(root, run_id))
    with st.spinner("Ranking the gallery..."):
        return rankings.get(on)


def model_of(root: Path, run_id: str) -> predict.EmbedderHandle | None:
    """The run's embedder; None (with the message shown) when its checkpoint cannot be loaded."""
    return _shown(_model, PredictError, root, run_id)


def read_query_image(gallery: Gallery, query: int | None, upload: UploadedFile | None) -> Image.Image | None:
    """The query's pixels: the split's image, or the upload; None when there is none yet or (message shown) it
    cannot be read."""
    try:
        if upload is not None:
            return read_upload(upload.getvalue(), upload.name)
        return read_image(str(gallery.saved.paths[query])) if query is not None else None
    except PredictError as exc:
        st.error(str(exc))
        return None
