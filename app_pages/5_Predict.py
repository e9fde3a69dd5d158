"""Predict: a finished run's model on one image (test image, random, misclassified or upload): top-5
models and makes, the truth, and a Grad-CAM overlay; optionally two runs side by side."""

from functools import partial

import streamlit as st

from app_pages.lib.address import follow_address
from app_pages.lib.common import page_setup, store_or_stop
from app_pages.lib.prediction import has_checkpoint, model_of, read_upload, show_explanation
from core.recipes.classify import predict
from core.views import predict as predictview
from core.views import predictions as predtables

page_setup("Predict")
st.title("Predict")
index = store_or_stop()
labels = predictview.finished_runs(index, has_checkpoint(index.root))
if not labels:
    st.info("No classify run with a checkpoint yet: train one on the Launch page, then come back.")
    st.stop()
top = st.columns([3, 1, 2])
follow_address("predict_run", "run", list(labels), predictview.best_run(index, list(labels)))
run_id = top[0].selectbox("Run", list(labels), format_func=labels.get, key="predict_run",
                          help="opens with the finished run of best test top-1")
which = top[1].radio("Checkpoint", ["best", "last"], key="predict_ckpt", horizontal=True)
second = top[2].selectbox("Side by side with", ["", *labels], format_func=lambda r: labels.get(r, "— none —"),
                          key="predict_second")
handle = model_of(index.root, run_id, which)
if handle is None:
    st.stop()

# -- the image ---------------------------------------------------------------------------------------------
preds = predtables.predictions(index, run_id)
source = st.radio("Image", predictview.SOURCES, horizontal=True, key="predict_source")
image, truth_name, image_label, row = None, None, "", None
if source == "upload":
    image, image_label = read_upload()
elif preds.empty:
    st.info("This run has no test predictions table to browse; upload an image instead.")
elif source == "test images":
    pick = st.columns(3)
    make = pick[0].selectbox("Make", predictview.makes(preds), key="predict_make")
    model = pick[1].selectbox("Model", predictview.models_of(preds, make), key="predict_model")
    row = predictview.row_of(preds, pick[2].selectbox("File", predictview.images_of(preds, model), key="predict_file",
                                                      format_func=predictview.file_name))
elif source == "random":
    shuffle = st.button("Another random image", key="predict_shuffle")
    row = predictview.random_row(preds, st.session_state, shuffle)
else:
    wrong = predictview.misclassified(preds)
    if wrong.empty:
        st.success("This run misclassified no test image.")
        st.stop()
    chosen = st.selectbox("Misclassified image", range(len(wrong)), key="predict_wrong",
                          format_func=lambda i: predictview.mistake_label(wrong.iloc[i]))
    row = wrong.iloc[chosen]
if row is not None:
    try:
        image, truth_name, image_label = predict.read_image(row["image"]), row["truth"], row["image"]
    except predict.PredictError as exc:
        st.error(str(exc))
if image is None:
    st.stop()

# -- Grad-CAM settings -------------------------------------------------------------------------------------
controls = st.columns([2, 2, 3, 2])
method = controls[0].selectbox("Method", list(predict.METHODS), key="predict_method")
targets = predictview.targets(truth_name is not None)
follow_address("predict_target", "explain", targets)
target_kind = controls[1].selectbox("Explain", targets, key="predict_target")
target: str | int = predictview.TARGETS.get(target_kind, "pred")
if target_kind == predictview.A_CLASS:
    target = controls[1].selectbox("Class", range(len(handle.classes)), format_func=lambda i: handle.classes[i],
                                   key="predict_class")
layer = controls[2].selectbox("Layer", handle.layers[::-1], key=f"predict_layer_{run_id}",
                              help="default: the last layer that outputs the final feature map")
opacity = controls[3].slider("Opacity", 0.0, 1.0, 0.5, 0.05, key="predict_opacity")
show = partial(show_explanation, image=image, image_label=image_label, truth_name=truth_name, method=method,
               target=target, opacity=opacity)
if second:
    other = model_of(index.root, second, which)
    left, right = st.columns(2)
    show(left, labels.get(run_id, run_id), handle, layer=layer)
    if other is not None:
        show(right, labels.get(second, second), other, layer=other.layers[-1])
else:
    show(st.container(), labels.get(run_id, run_id), handle, layer=layer)
