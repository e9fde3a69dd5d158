"""Predict: a finished run's model on one image (test image, random, misclassified or upload): top-5
models and makes, the truth, and a Grad-CAM overlay; optionally two runs side by side."""

from __future__ import annotations

import random

import streamlit as st

from core.recipes.classify import predict
from core.store import queries
from core.views import run as runview
from pages.lib.common import page_setup, store

page_setup("Predict")
st.title("Predict")
index = store()
if index is None:
    st.stop()


@st.cache_resource(max_entries=6, show_spinner="Loading the model...")
def cached_model(root: str, run_id: str, which: str, mtime_ns: int) -> predict.ModelHandle:
    """One model per run, checkpoint and file version, kept for the life of the server."""
    return predict.load_run_model(index.root / run_id, which)


def model_of(run_id: str, which: str) -> predict.ModelHandle | None:
    path = predict.checkpoint_path(index.root / run_id, which)
    try:
        return cached_model(str(index.root), run_id, which, path.stat().st_mtime_ns if path.exists() else 0)
    except predict.PredictError as exc:
        st.error(str(exc))
        return None


finished, _ = queries.find_runs(index, metrics=["test/top1"], recipe=["classify"], limit=300,
                                status=["succeeded", "cancelled", "crashed", "failed"])
finished = finished[[predict.checkpoint_path(index.root / r, "last").exists() for r in finished["id"]]]
if finished.empty:
    st.info("No classify run with a checkpoint yet: train one on the Launch page, then come back.")
    st.stop()
labels = {r: f"{n} ({r[-6:]})" + (f" · top-1 {t:.1%}" if t == t else "")
          for r, n, t in zip(finished["id"], finished["name"], finished["test/top1"])}
top = st.columns([3, 1, 2])
run_id = top[0].selectbox("Run", list(labels), format_func=labels.get, key="predict_run")
which = top[1].radio("Checkpoint", ["best", "last"], key="predict_ckpt", horizontal=True)
second = top[2].selectbox("Side by side with", ["", *labels], format_func=lambda r: labels.get(r, "— none —"),
                          key="predict_second")
handle = model_of(run_id, which)
if handle is None:
    st.stop()

# -- the image ---------------------------------------------------------------------------------------------
preds = runview.predictions(index, run_id)
source = st.radio("Image", ["test images", "random", "misclassified", "upload"], horizontal=True, key="predict_source")
image, truth_name, image_label = None, None, ""
if source == "upload":
    upload = st.file_uploader("An image", type=list(predict.UPLOAD_TYPES), key="predict_upload")
    if upload is not None:
        try:
            image, image_label = predict.read_upload(upload.getvalue(), upload.name), upload.name
        except predict.PredictError as exc:
            st.error(str(exc))
elif preds.empty:
    st.info("This run has no test predictions table to browse; upload an image instead.")
else:
    if source == "test images":
        pick = st.columns(3)
        make = pick[0].selectbox("Make", sorted(preds["truth_make"].dropna().unique()), key="predict_make")
        models = sorted(preds.loc[preds["truth_make"] == make, "truth"].unique())
        model = pick[1].selectbox("Model", models, key="predict_model")
        paths = preds.loc[preds["truth"] == model, "image"].tolist()
        row = preds[preds["image"] == pick[2].selectbox("File", paths, format_func=lambda p: p.rsplit("/", 1)[-1],
                                                        key="predict_file")].iloc[0]
    elif source == "random":
        if st.button("Another random image", key="predict_shuffle") or "predict_random" not in st.session_state:
            st.session_state["predict_random"] = random.randrange(len(preds))
        row = preds.iloc[st.session_state["predict_random"] % len(preds)]
    else:
        wrong = preds[~preds["correct"].astype(bool)]
        if wrong.empty:
            st.success("This run misclassified no test image.")
            st.stop()
        chosen = st.selectbox("Misclassified image", range(len(wrong)), key="predict_wrong",
                              format_func=lambda i: f"{wrong.iloc[i]['truth']} → {wrong.iloc[i]['pred']}")
        row = wrong.iloc[chosen]
    try:
        image, truth_name, image_label = predict.read_image(row["image"]), row["truth"], row["image"]
    except predict.PredictError as exc:
        st.error(str(exc))
if image is None:
    st.stop()

# -- Grad-CAM settings -------------------------------------------------------------------------------------
controls = st.columns([2, 2, 3, 2])
method = controls[0].selectbox("Method", list(predict.METHODS), key="predict_method")
target_kind = controls[1].selectbox("Explain", ["prediction", "truth", "a class"], key="predict_target",
                                    disabled=False)
target: str | int = {"prediction": "pred", "truth": "truth"}.get(target_kind, "pred")
if target_kind == "a class":
    target = controls[1].selectbox("Class", range(len(handle.classes)), format_func=lambda i: handle.classes[i],
                                   key="predict_class")
layer = controls[2].selectbox("Layer", handle.layers[::-1], key=f"predict_layer_{run_id}",
                              help="default: the last layer that outputs the final feature map")
opacity = controls[3].slider("Opacity", 0.0, 1.0, 0.5, 0.05, key="predict_opacity")


def show(column: st.delta_generator.DeltaGenerator, model: predict.ModelHandle, chosen_layer: str) -> None:
    truth = model.classes.index(truth_name) if truth_name in model.classes else None
    try:
        result = predict.explain(model, image, method=method, target=target, truth=truth, layer=chosen_layer,
                                 opacity=opacity)
    except predict.PredictError as exc:
        column.error(str(exc))
        return
    column.subheader(labels.get(model.run_id, model.run_id))
    pics = column.columns(2)
    pics[0].image(image, caption=image_label.rsplit("/", 1)[-1], width="stretch")
    pics[1].image(result.overlay, caption=f"{method} · {model.classes[result.target]} · {result.layer}",
                  width="stretch")
    predicted = result.prediction.models[0][0]
    if truth_name is not None:
        mark = "✅ correct" if predicted == truth_name else "❌ wrong"
        column.markdown(f"**Truth:** {truth_name} · **Predicted:** {predicted} · {mark}")
    tables = column.columns(2)
    tables[0].dataframe({"model": [n for n, _ in result.prediction.models],
                         "probability": [p for _, p in result.prediction.models]}, hide_index=True,
                        column_config={"probability": st.column_config.ProgressColumn(min_value=0.0, max_value=1.0,
                                                                                      format="%.3f")})
    tables[1].dataframe({"make": [n for n, _ in result.prediction.makes],
                         "probability": [p for _, p in result.prediction.makes]}, hide_index=True,
                        column_config={"probability": st.column_config.ProgressColumn(min_value=0.0, max_value=1.0,
                                                                                      format="%.3f")})
    column.caption(f"Make probabilities: {result.prediction.make_source}.")


if second:
    other = model_of(second, which)
    left, right = st.columns(2)
    show(left, handle, layer)
    if other is not None:
        show(right, other, other.layers[-1])
else:
    show(st.container(), handle, layer)
