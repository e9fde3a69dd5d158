"""The Predict page's model loader (cached for the life of the server) and its result panel."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import streamlit as st
from PIL import Image
from streamlit.delta_generator import DeltaGenerator

from app_pages.lib.tables import share_column
from core.recipes.classify import predict
from core.views import predict as predictview


@st.cache_resource(max_entries=6, show_spinner="Loading the model...")
def _cached_model(root: str, run_id: str, which: str, mtime_ns: int) -> predict.ModelHandle:
    """One model per run, checkpoint and file version (``mtime_ns``), kept for the life of the server."""
    return predict.load_run_model(Path(root) / run_id, which)


def model_of(root: Path, run_id: str, which: str) -> predict.ModelHandle | None:
    """The run's model from its best or last checkpoint; None (with the message shown) when it cannot load."""
    path = predict.checkpoint_path(root / run_id, which)
    try:
        return _cached_model(str(root), run_id, which, path.stat().st_mtime_ns if path.exists() else 0)
    except predict.PredictError as exc:
        st.error(str(exc))
        return None


def read_upload() -> tuple[Image.Image | None, str]:
    """The uploader and its image. A file that is not an image is said so and taken off the list (the
    uploader is drawn anew), so the next upload starts clean."""
    n = st.session_state.setdefault("predict_upload_n", 0)
    if problem := st.session_state.pop("predict_upload_problem", None):
        st.error(problem)
    upload = st.file_uploader("An image", type=list(predict.UPLOAD_TYPES), key=f"predict_upload_{n}")
    if upload is None:
        return None, ""
    data = upload.getvalue()
    try:
        return predict.read_upload(data, upload.name), upload.name
    except predict.PredictError as exc:
        st.session_state["predict_upload_problem"] = str(exc)
        st.session_state["predict_upload_n"] = n + 1
        st.rerun()


def has_checkpoint(root: Path) -> Callable[[str], bool]:
    """Whether a run (by id) under ``root`` has its last checkpoint, for ``predictview.finished_runs``."""
    return lambda run_id: predict.checkpoint_path(root / run_id, "last").exists()


def show_explanation(column: DeltaGenerator, title: str, model: predict.ModelHandle, image: Image.Image, *,
                     image_label: str, truth_name: str | None, method: str, target: str | int, layer: str,
                     opacity: float) -> None:
    """The image and its CAM overlay, the truth and the prediction, and the top-5 models and makes."""
    try:
        result = predict.explain(model, image, method=method, target=target, layer=layer, opacity=opacity,
                                 truth=predictview.class_index(model.classes, truth_name))
    except predict.PredictError as exc:
        column.error(str(exc))
        return
    column.subheader(title)
    pics = column.columns(2)
    pics[0].image(image, caption=predictview.file_name(image_label), width="stretch")
    pics[1].image(result.overlay, caption=f"{method} · {model.classes[result.target]} · {result.layer}",
                  width="stretch")
    predicted = result.prediction.models[0][0]
    if truth_name is not None:
        mark = "right" if predicted == truth_name else "wrong"
        column.markdown(f"**Truth:** {truth_name} · **Predicted:** {predicted} · {mark}")
    tables = column.columns(2)
    for table, (what, ranked) in zip(tables, (("model", result.prediction.models), ("make", result.prediction.makes))):
        table.dataframe(predictview.probability_table(ranked, what), hide_index=True,
                        column_config={"probability": share_column("probability")})
    column.caption(f"Make probabilities: {result.prediction.make_source}.")
