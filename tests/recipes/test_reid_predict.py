"""A trained reid run's embedder on single images (what the Gallery's upload and Grad-CAM use): the same
embedding as the run saved, a similarity map that explains a match, hooks released, clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.recipes.classify.predict import PredictError, read_image
from core.recipes.reid import predict
from core.recipes.reid.embeddings import load_embeddings
from tests.fixtures_reid import train_tiny_reid


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_tiny_reid(tmp_path_factory.mktemp("reid"))


@pytest.fixture(scope="module")
def handle(trained: Path) -> predict.EmbedderHandle:
    import torch

    return predict.load_run_model(trained, device=torch.device("cpu"))


def test_an_image_embeds_as_the_run_saved_it(trained: Path, handle: predict.EmbedderHandle) -> None:
    saved = load_embeddings(trained / "artifacts" / "embeddings" / "test.npz")
    embedding, flipped = predict.embed_image(handle, read_image(saved.paths[0]))
    assert np.allclose(embedding, saved.embeddings[0], atol=1e-4) and np.allclose(flipped, saved.flipped[0], atol=1e-4)
    assert np.isclose(np.linalg.norm(embedding), 1.0, atol=1e-5)


def test_grad_cam_of_a_similarity_and_its_hooks_are_released(trained: Path, handle: predict.EmbedderHandle) -> None:
    saved = load_embeddings(trained / "artifacts" / "embeddings" / "test.npz")
    query = read_image(saved.paths[0])
    hooks_before = sum(len(m._forward_hooks) + len(m._backward_hooks) for m in handle.model.modules())
    for _ in range(20):
        result = predict.explain_similarity(handle, query, saved.embeddings[1], opacity=0.4)
    hooks_after = sum(len(m._forward_hooks) + len(m._backward_hooks) for m in handle.model.modules())
    assert hooks_after == hooks_before
    assert result.overlay.size == query.size and result.cam.shape == (query.height, query.width)
    assert 0.0 <= result.cam.min() and result.cam.max() <= 1.0 and result.layer == handle.layers[-1]
    expected = float(np.dot(predict.embed_image(handle, query)[0], saved.embeddings[1]))
    assert result.similarity == pytest.approx(expected, abs=1e-4)


def test_errors_say_what_to_do(trained: Path, handle: predict.EmbedderHandle, tmp_path: Path) -> None:
    image = Image.new("RGB", (32, 32))
    with pytest.raises(PredictError, match="not in the backbone"):
        predict.explain_similarity(handle, image, np.zeros(16, dtype=np.float32), layer="nope")
    with pytest.raises(PredictError, match="unknown method"):
        predict.explain_similarity(handle, image, np.zeros(16, dtype=np.float32), method="magic")
    with pytest.raises(PredictError, match=r"has no best\.pt"):
        predict.load_run_model(tmp_path)
