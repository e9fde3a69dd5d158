"""The Gallery's rankings ahead of the switches: every choice computed once, in a likely order, the same as a
direct ranking, and a switch asked for before the background thread reaches it computed at once."""

from __future__ import annotations

import time
from collections import Counter

import numpy as np
import pytest

from core.recipes.reid.embeddings import SavedEmbeddings
from core.views import gallery as galleryview
from core.views.gallery import Gallery
from core.views.gallery_rankings import Rankings, warm_order


def _gallery(n: int = 60, ids: int = 6, flipped: bool = True) -> Gallery:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, ids, n)
    emb = (rng.normal(size=(ids, 8))[labels] + 0.5 * rng.normal(size=(n, 8))).astype(np.float32)
    flips = (emb + 0.1 * rng.normal(size=emb.shape)).astype(np.float32) if flipped else None
    paths = np.array([f"img{i}.png" for i in range(n)])
    saved = SavedEmbeddings(emb, flips, labels, paths, np.array([f"id{k}" for k in range(ids)]))
    return Gallery("run", "test", saved, galleryview.Refinements(k1=5, k2=2))


def test_the_warm_order_starts_plain_then_each_switch_and_covers_every_choice() -> None:
    order = warm_order()
    assert order[:5] == [(False, False, False), (True, False, False), (False, True, False), (False, False, True),
                         (True, True, True)]  # fmt: skip
    assert len(order) == len(set(order)) == 8


def test_background_rankings_equal_direct_ones_and_each_is_computed_once() -> None:
    gallery, calls = _gallery(), Counter()

    def ranker(g: Gallery, on: dict) -> galleryview.Ranking:
        calls[tuple(sorted(name for name, v in on.items() if v))] += 1
        time.sleep(0.01)
        return galleryview.rank(g, galleryview.refinements(g, on))

    rankings = Rankings(gallery, ranker).start()
    asked = [rankings.get({"rerank": True}) for _ in range(3)]  # possibly before the thread gets there
    rankings.wait(timeout=60)
    assert rankings.ready() == 8 and set(calls.values()) == {1}
    direct = galleryview.rank(gallery, galleryview.refinements(gallery, {"rerank": True}))
    assert all(a is asked[0] for a in asked)
    np.testing.assert_array_equal(asked[0].top, direct.top)
    assert asked[0].metrics == direct.metrics


def test_a_choice_that_cannot_be_made_is_skipped_ahead_and_raises_when_asked() -> None:
    rankings = Rankings(_gallery(flipped=False)).start()
    rankings.wait(timeout=60)
    assert rankings.ready() == 4  # the four choices without flip TTA
    assert not galleryview.can_switch(rankings.gallery, "flip") and galleryview.switch_help(rankings.gallery, "flip")
    with pytest.raises(ValueError, match="mirrored"):
        rankings.get({"flip": True})
