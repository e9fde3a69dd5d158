"""The Run page's tabs over its test predictions: the confusion matrix whose cells (and most confused pairs)
open their images, and the predictions as thumbnails with readable top-5 and filters."""

from __future__ import annotations

import streamlit as st

from app_pages.lib.heatmap import heatmap_figure
from app_pages.lib.tables import share_column
from core.store import Store
from core.views import predict as predictview
from core.views import predictions as predview


def confusion(index: Store, run_id: str) -> None:
    """The matrix (counts in the cells, colour per row or by count); a click on a cell or a pair shows its
    images, with how many are shown of how many."""
    top = st.columns([1, 1, 3])
    level = top[0].radio("Level", predview.levels(index, run_id), horizontal=True, key="confusion_level")
    per_row = top[1].toggle("Per row", value=True, key="confusion_per_row",
                            help="colour each cell by its share of the true class, so mistakes stay visible")
    matrix = predview.matrix(predview.confusion(index, run_id, level), per_row)
    event = st.plotly_chart(heatmap_figure(matrix, f"Confusion ({level} level)", per_row), key="confusion_chart",
                            on_select="rerun", selection_mode="points")
    pairs = predview.confused_pairs(index, run_id, level)
    st.markdown("**Most confused pairs** (choose one, or click a cell above, to see its images)")
    picked = st.dataframe(pairs, hide_index=True, on_select="rerun", selection_mode="single-row",
                          key="confused_pairs", column_config={"share_of_truth": share_column("share of truth")})
    cell = _clicked(event, picked, pairs)
    if cell:
        images, captions, total = predview.pair_images(predview.predictions(index, run_id), level, *cell)
        st.caption(f"truth **{cell[0]}**, predicted **{cell[1]}**: {len(images)} shown of {total} images")
        if images:
            st.image(images, width=128, caption=captions)


def _clicked(event: object, picked: object, pairs: object) -> tuple[str, str] | None:
    points = getattr(getattr(event, "selection", None), "points", None) or []
    if points:
        return str(points[0]["y"]), str(points[0]["x"])
    rows = picked.selection.rows
    return (pairs.iloc[rows[0]]["truth"], pairs.iloc[rows[0]]["predicted"]) if rows else None


def predictions(index: Store, run_id: str) -> None:
    """Thumbnails with the truth and the top-5 with probabilities; filters: mistakes, make, confidence."""
    preds = predview.predictions(index, run_id)
    top = st.columns([1, 2, 3])
    wrong = top[0].toggle("Wrong only", key="pred_wrong")
    make = top[1].selectbox("Make", ["", *predictview.makes(preds)], format_func=lambda m: m or "all makes",
                            key="pred_make")
    low, high = top[2].slider("Confidence of the prediction", 0.0, 1.0, (0.0, 1.0), 0.05, key="pred_conf")
    chosen = predview.filtered(preds, wrong_only=wrong, make=make or None, confidence_range=(low, high))
    cards = predview.cards(chosen)
    st.caption(f"{len(cards)} shown of {len(chosen)} matching ({len(preds)} test images)")
    columns = st.columns(6)
    for i, card in enumerate(cards):
        with columns[i % 6]:
            st.image(card["image"], caption=card["file"], width="stretch")
            st.markdown(f"**{card['title']}**  \n" + "  \n".join(line.replace(".", "\\.", 1) for line in card["top5"]))
