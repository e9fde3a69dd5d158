"""The Gallery page's panels: the overall metrics, a query and its matches (or an upload's), Grad-CAM of a
match, and the embedding map."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st
from PIL import Image
from streamlit.delta_generator import DeltaGenerator

from core.recipes.classify.predict import PredictError
from core.recipes.reid import predict
from core.views import gallery as galleryview
from core.views.gallery import Gallery, Ranking

COLUMNS = 5  # gallery images per row


def show_metrics(ranking: Ranking, plain: Ranking) -> None:
    """The overall metrics of the chosen refinements, with their change from the plain ranking."""
    for column, (label, value, delta) in zip(st.columns(4), galleryview.deltas(ranking, plain), strict=True):
        column.metric(label, f"{value:.4f}", f"{delta:+.4f}" if delta else None)


def show_query(column: DeltaGenerator, title: str, gallery: Gallery, ranking: Ranking, query: int, k: int,
               flip: bool) -> None:  # fmt: skip
    """A query of the split: its image, identity and AP, and its top-k gallery images with marks."""
    frame = galleryview.matches(gallery, ranking.top[query], ranking.distance[query], k, flip=flip, query=query)
    column.subheader(title)
    column.image(str(gallery.saved.paths[query]), width=160,
                 caption=f"query · {gallery.saved.names[query]} · AP {ranking.aps[query]:.3f}")  # fmt: skip
    first = galleryview.first_match(frame)
    column.markdown(f"**AP {ranking.aps[query]:.3f}** · first correct match at rank {first or f'> {k}'}")
    _grid(column, frame)


def show_upload(column: DeltaGenerator, gallery: Gallery, handle: predict.EmbedderHandle, image: Image.Image,
                on: dict[str, bool], k: int) -> None:  # fmt: skip
    """An uploaded image as the query: its top-k gallery images (no marks: its identity is unknown)."""
    embedding, flipped = predict.embed_image(handle, image)
    refine = galleryview.refinements(gallery, on)
    top, distance, vector = galleryview.rank_upload(gallery, embedding, flipped, refine)
    frame = galleryview.matches(gallery, top, distance, k, flip=on["flip"], query_embedding=vector)
    column.image(image, width=160, caption="uploaded query")
    column.markdown(f"**Most similar identity:** {frame['identity'].iloc[0]}")
    _grid(column, frame)


def _grid(column: DeltaGenerator, frame: pd.DataFrame) -> None:
    """The matches, COLUMNS to a row: rank, identity, similarity and a mark when the truth is known."""
    for start in range(0, len(frame), COLUMNS):
        rows = frame.iloc[start : start + COLUMNS].iterrows()
        for cell, (_, row) in zip(column.columns(COLUMNS), rows, strict=False):
            mark = {True: " ✅", False: " ❌"}.get(row.get("correct"), "")
            cell.image(row["image"], caption=f"{row['rank']} · {row['identity']} · {row['similarity']:.3f}{mark}",
                       width="stretch")  # fmt: skip


def show_cam(handle: predict.EmbedderHandle, gallery: Gallery, image: Image.Image, match: int, *, method: str,
             layer: str) -> None:  # fmt: skip
    """Grad-CAM of the query's similarity to gallery image ``match``, beside that image."""
    try:
        result = predict.explain_similarity(handle, image, gallery.saved.embeddings[match], method=method, layer=layer)
    except PredictError as exc:
        st.error(str(exc))
        return
    left, right = st.columns(2)
    left.image(result.overlay, caption=f"query · {method} · {result.layer}", width="stretch")
    right.image(str(gallery.saved.paths[match]), caption=f"{gallery.saved.names[match]} · similarity "
                f"{result.similarity:.3f}", width="stretch")  # fmt: skip


def map_figure(frame: pd.DataFrame) -> go.Figure:
    """The embedding map: a point per image, coloured by identity, its identity and file on hover."""
    fig = px.scatter(frame, x="x", y="y", color="identity", custom_data=["image", "identity"], height=520)
    fig.update_traces(hovertemplate="%{customdata[1]}<br>%{customdata[0]}<extra></extra>", marker={"size": 7})
    return fig


def show_map(fig: go.Figure | None, run_id: str) -> None:
    """The val embeddings in 2-D (principal components), coloured by identity; a clicked point shows its image."""
    if fig is None:
        return
    chart, picked = st.columns([3, 1])
    event = chart.plotly_chart(fig, on_select="rerun", selection_mode="points", key=f"gallery_map_{run_id}")
    points = (event or {}).get("selection", {}).get("points", [])
    if points:
        image, identity = points[0]["customdata"]
        picked.image(image, caption=identity, width="stretch")
    else:
        picked.caption("Click a point (or drag around some) to see its image.")
