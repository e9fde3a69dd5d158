"""The Gallery's back end on a tiny real reid run: the runs it offers, loading, ranking with each switch,
choosing queries, the matches of a query and of an upload, the embedding map, and clear errors."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from core.recipes.reid.embeddings import load_embeddings
from core.store import Store
from core.views import gallery as galleryview
from tests.fixtures_reid import copy_run, train_tiny_reid


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_tiny_reid(tmp_path_factory.mktemp("reid"))


@pytest.fixture
def gallery(trained: Path) -> galleryview.Gallery:
    return galleryview.load_gallery(trained)


def test_finished_reid_runs_with_embeddings_are_offered(trained: Path, runs_root: Path) -> None:
    run_id = copy_run(trained, runs_root, "copied")
    with Store(runs_root) as store:
        store.sync()
        offered = galleryview.finished_runs(store, lambda r: galleryview.gallery_split(runs_root / r) is not None)
        assert list(offered) == [run_id] and offered[run_id].startswith("copied (") and "mAP 0." in offered[run_id]
        assert galleryview.finished_runs(store, lambda r: False) == {}


def test_load_gallery_reads_the_test_split_and_the_runs_settings(gallery: galleryview.Gallery) -> None:
    assert gallery.split == "test" and gallery.saved.flipped is not None
    assert (gallery.settings.qe_top_k, gallery.settings.k1, gallery.settings.flip) == (3, 20, False)


def test_each_switch_recomputes_the_ranking_and_the_metrics(gallery: galleryview.Gallery) -> None:
    plain = galleryview.rank(gallery, galleryview.refinements(gallery, {}))
    n = len(gallery.saved.labels)
    assert plain.top.shape == (n, min(galleryview.MAX_K, n - 1)) and len(plain.aps) == n
    assert set(plain.metrics) == set(galleryview.METRICS)
    for switch in galleryview.SWITCHES:
        changed = galleryview.rank(gallery, galleryview.refinements(gallery, {switch: True}))
        assert not np.allclose(changed.distance, plain.distance), switch
        labels = [label for label, _, _ in galleryview.deltas(changed, plain)]
        assert labels == list(galleryview.METRICS.values())
    assert all(delta == 0 for _, _, delta in galleryview.deltas(plain, plain))


def test_choosing_queries(gallery: galleryview.Gallery) -> None:
    ranking = galleryview.rank(gallery, galleryview.refinements(gallery, {}))
    found = galleryview.query_indices(ranking)
    assert len(found) == len(gallery.saved.labels)  # every tiny identity has two or more test images
    worst = galleryview.worst_queries(ranking, n=5)
    assert [ranking.aps[i] for i in worst] == sorted(ranking.aps[i] for i in worst)
    assert ranking.aps[worst[0]] == ranking.aps[found].min()
    names = galleryview.identities(gallery, ranking)
    mine = galleryview.queries_of(gallery, ranking, names[0])
    assert mine and all(gallery.saved.names[i] == names[0] for i in mine)
    state: dict = {}
    first = galleryview.random_query(ranking, state, shuffle=False, rng=random.Random(1))
    assert galleryview.random_query(ranking, state, shuffle=False) == first  # stable across reruns
    assert galleryview.query_label(gallery, ranking, first).startswith(f"AP {ranking.aps[first]:.2f} · ")
    assert galleryview.index_of(gallery, str(gallery.saved.paths[first])) == first
    assert galleryview.index_of(gallery, "/nowhere.png") is None


def test_matches_have_marks_similarities_and_never_the_query(gallery: galleryview.Gallery) -> None:
    for flip in (False, True):
        ranking = galleryview.rank(gallery, galleryview.refinements(gallery, {"flip": flip}))
        frame = galleryview.matches(gallery, ranking.top[0], ranking.distance[0], 5, flip=flip, query=0)
        assert list(frame["rank"]) == [1, 2, 3, 4, 5] and str(gallery.saved.paths[0]) not in set(frame["image"])
        assert list(frame["correct"]) == list(frame["identity"] == gallery.saved.names[0])
        assert frame["similarity"].between(-1.0, 1.0 + 1e-5).all()
        first = galleryview.first_match(frame)
        assert first is None or frame.loc[first - 1, "correct"]


def test_an_upload_is_one_more_query_without_marks(gallery: galleryview.Gallery) -> None:
    saved = gallery.saved
    for flip in (False, True):
        refine = galleryview.refinements(gallery, {"flip": flip, "rerank": True})
        top, distance, vector = galleryview.rank_upload(gallery, saved.embeddings[3], saved.flipped[3], refine)
        assert len(top) == min(galleryview.MAX_K, len(saved.labels)) and np.isclose(np.linalg.norm(vector), 1.0)
        frame = galleryview.matches(gallery, top, distance, 4, flip=flip, query_embedding=vector)
        assert "correct" not in frame and frame["image"].iloc[0] == str(saved.paths[3])  # itself, now in the gallery


def test_the_embedding_map_projects_the_val_embeddings(trained: Path) -> None:
    frame = galleryview.load_map(trained)
    val = load_embeddings(trained / "artifacts" / "embeddings" / "val.npz")
    assert len(frame) == len(val.labels) and list(frame.columns) == ["x", "y", "identity", "image"]
    assert frame["x"].var() >= frame["y"].var() > 0  # first principal component first


def test_a_run_without_or_with_broken_embeddings_is_a_clear_error(trained: Path, tmp_path: Path) -> None:
    with pytest.raises(galleryview.GalleryError, match="saved no embeddings"):
        galleryview.load_gallery(tmp_path)
    broken = tmp_path / "run"
    (broken / "artifacts" / "embeddings").mkdir(parents=True)
    (broken / "artifacts" / "embeddings" / "test.npz").write_bytes(b"not an npz")
    with pytest.raises(galleryview.GalleryError, match="cannot read embeddings"):
        galleryview.load_gallery(broken)
