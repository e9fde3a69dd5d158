"""Gallery (re-ID): a finished reid run's retrieval. A query (random, worst AP, by identity, or an upload), its
top-k gallery with similarity and correct / wrong marks, switches for flip TTA, query expansion and re-ranking
that recompute the ranking and the mAP, two runs side by side, Grad-CAM of a match, and the embedding map."""

import streamlit as st

from app_pages.lib import gallery_data as data
from app_pages.lib import gallery_panels as panels
from app_pages.lib.common import page_setup, store_or_stop
from core.recipes.classify import predict
from core.views import gallery as galleryview

page_setup("Gallery")
st.title("Gallery")
index = store_or_stop()
labels = galleryview.finished_runs(index, lambda r: galleryview.gallery_split(index.root / r) is not None)
if not labels:
    st.info("No finished reid run with saved embeddings yet: train one on the Launch page (recipe reid), then "
            "come back.")
    st.stop()
top = st.columns([3, 2])
run_id = top[0].selectbox("Run", list(labels), format_func=labels.get, key="gallery_run")
second = top[1].selectbox("Side by side with", ["", *labels], format_func=lambda r: labels.get(r, "— none —"),
                          key="gallery_second")
gallery = data.gallery_of(index.root, run_id)
if gallery is None:
    st.stop()

# -- refinements: each switch recomputes the ranking and the overall metrics --------------------------------
switches = st.columns(4)
on = {name: switches[i].toggle(label, key=f"gallery_{name}", disabled=not galleryview.can_switch(gallery, name),
                               help=galleryview.switch_help(gallery, name))
      for i, (name, label) in enumerate(galleryview.SWITCHES.items())}
k = switches[3].slider("Top-k", 1, galleryview.MAX_K, 10, key="gallery_k")
ranking = data.ranking_of(index.root, run_id, on)
panels.show_metrics(ranking, data.ranking_of(index.root, run_id, dict.fromkeys(on, False)))
n_queries = len(galleryview.query_indices(ranking))
st.caption(f"{len(gallery.saved.labels)} {gallery.split} images, {n_queries} queries: each image against all the "
           "others (identities with one image are no query).")
if not n_queries:
    st.info("No identity of this split has two images, so there is no query; upload an image to search instead.")

# -- the query ------------------------------------------------------------------------------------------
source = st.radio("Query", galleryview.SOURCES, horizontal=True, key="gallery_source",
                  index=0 if n_queries else galleryview.SOURCES.index("upload"))
query, upload = None, None
if source == "random":
    shuffle = st.button("Another random query", key="gallery_shuffle")
    query = galleryview.random_query(ranking, st.session_state, shuffle)
elif source == "worst AP":
    query = st.selectbox("Query (worst AP first)", galleryview.worst_queries(ranking), key="gallery_worst",
                         format_func=lambda i: galleryview.query_label(gallery, ranking, i))
elif source == "by identity":
    pick = st.columns(2)
    identity = pick[0].selectbox("Identity", galleryview.identities(gallery, ranking), key="gallery_identity")
    query = pick[1].selectbox("Image", galleryview.queries_of(gallery, ranking, identity), key="gallery_image",
                              format_func=lambda i: galleryview.query_label(gallery, ranking, i))
else:
    upload = st.file_uploader("An image", type=list(predict.UPLOAD_TYPES), key="gallery_upload")
image = data.read_query_image(gallery, query, upload)
if image is None:
    st.stop()

left, right = st.columns(2) if second else (st.container(), None)
if query is None:
    handle = data.model_of(index.root, run_id)
    if handle is not None:
        panels.show_upload(left, gallery, handle, image, on, k)
else:
    panels.show_query(left, labels[run_id], gallery, ranking, query, k, on["flip"])
if right is not None and (other := data.gallery_of(index.root, second)) is not None:
    where = galleryview.index_of(other, str(gallery.saved.paths[query])) if query is not None else None
    if where is None:
        right.info("This query is not among the other run's images (another dataset or split, or an upload).")
    else:
        panels.show_query(right, labels[second], other, data.ranking_of(index.root, second, on), where, k, on["flip"])

# -- why similar, and the map ---------------------------------------------------------------------------
with st.expander("Why similar? Grad-CAM of the query's similarity to a gallery image"):
    handle = data.model_of(index.root, run_id)
    if handle is not None and query is not None:
        cam = st.columns(3)
        match = cam[0].selectbox("Gallery image", ranking.top[query][:k].tolist(), key="gallery_cam_match",
                                 format_func=lambda g: f"{gallery.saved.names[g]} · {gallery.saved.paths[g]}")
        method = cam[1].selectbox("Method", list(predict.METHODS), key="gallery_cam_method")
        layer = cam[2].selectbox("Layer", handle.layers[::-1], key=f"gallery_cam_layer_{run_id}")
        panels.show_cam(handle, gallery, image, match, method=method, layer=layer)
    elif query is None:
        st.caption("Grad-CAM compares a query of the split with one of its matches; pick one above.")
with st.expander("Embedding map (val embeddings, first two principal components)"):
    panels.show_map(data.map_of(index.root, run_id), run_id)
