"""The parts of the reid recipe on tiny tensors: GeM, the projection head, each loss and its variants, the
refinements (names, order, what each changes), the per-query table and the config's rules."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from core.recipes import ConfigError, describe, from_dict, parse_overrides, to_dict
from core.recipes.common.losses import ClassificationLoss
from core.recipes.reid import ReidConfig, choices
from core.recipes.reid.embeddings import SavedEmbeddings, load_embeddings, save_embeddings
from core.recipes.reid.evaluate import identity_rows, query_rows, refinement_metrics
from core.recipes.reid.losses import MetricLoss, PerImageCrossEntropy, build_criterion
from core.recipes.reid.model import Embedder, GeM, projection_head
from core.recipes.reid.refine import (
    Refinements,
    query_aps,
    refined_distances,
    retrieval_metrics,
    summarize,
    top_matches,
)

torch.manual_seed(0)


def cfg(**overrides: object) -> ReidConfig:
    return from_dict(ReidConfig, overrides)


def clusters(n_ids: int = 5, per_id: int = 4, dim: int = 16, noise: float = 0.6, seed: int = 0) -> SavedEmbeddings:
    """Noisy embeddings around one centre per identity, with mirror-image embeddings as a second noisy view."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_ids, dim))
    labels = np.repeat(np.arange(n_ids), per_id)
    emb = centres[labels] + noise * rng.normal(size=(len(labels), dim))
    flipped = centres[labels] + noise * rng.normal(size=(len(labels), dim))
    unit = lambda x: (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)  # noqa: E731
    paths = np.array([f"/img/{i}.png" for i in range(len(labels))])
    return SavedEmbeddings(unit(emb), unit(flipped), labels, paths, np.array([f"id{k}" for k in range(n_ids)]))


def test_config_round_trips_and_offers_the_choice_lists() -> None:
    default = ReidConfig()
    assert from_dict(ReidConfig, to_dict(default)) == default
    specs = {s.name: s for s in describe(ReidConfig)}
    assert specs["loss"].choices == choices.LOSSES and specs["pooling"].choices == choices.POOLINGS
    assert specs["miner"].choices == choices.MINERS and specs["dataset"].default == "synthetic-spots"
    changed = parse_overrides(ReidConfig, ["loss=triplet", "margin=0.3", "balance=sampler", "pretrained=false"])
    assert (changed.loss, changed.margin, changed.uses_sampler, changed.pretrained) == ("triplet", 0.3, True, False)
    assert set(choices.LOSS_DEFAULTS) == set(choices.LOSSES)


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"loss": "triplet", "focal_gamma": 2.0}, "focal_gamma"),
        ({"loss": "triplet", "balance": "loss"}, "balance=loss"),
        ({"loss": "triplet", "scale": 30.0}, "scale"),
        ({"balance": "sampler", "batch_size": 30, "images_per_identity": 4}, "multiple of images_per_identity"),
        ({"unfreeze_epoch": 2}, "needs freeze=backbone"),
        ({"device": "tpu"}, "device"),
        ({"pooling": "max"}, "pooling='max'"),
    ],
)
def test_config_rules_name_the_keys(overrides: dict, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        cfg(**overrides)


def test_gem_is_a_generalised_mean_with_a_learned_p() -> None:
    x = torch.rand(2, 3, 4, 4) + 0.1
    assert torch.allclose(GeM(1.0)(x), x.mean(dim=(-2, -1)), atol=1e-6)
    assert torch.allclose(GeM(50.0)(x), x.amax(dim=(-2, -1)), rtol=0.1)
    gem = GeM(3.0)
    gem(x).sum().backward()
    assert gem.p.grad is not None and gem.p.grad.abs() > 0


@pytest.mark.parametrize(("layers", "dropout"), [(0, 0.0), (1, 0.0), (1, 0.3), (2, 0.1), (3, 0.0)])
def test_projection_head_shapes(layers: int, dropout: float) -> None:
    head = projection_head(32, layers, 24, 8, dropout).eval()
    assert head(torch.randn(5, 32)).shape == (5, 8 if layers else 32)
    assert sum(isinstance(m, nn.Linear) for m in head.modules()) == layers


def test_embedder_gives_one_embedding_per_image_and_freezes() -> None:
    import timm

    model = Embedder(timm.create_model("test_resnet", num_classes=0), pooling="avg", head_layers=2,
                     head_width=16, embedding_size=8).eval()  # fmt: skip
    assert model(torch.randn(3, 3, 32, 32)).shape == (3, 8) and model.gem_p is None
    model.set_backbone_frozen(True)
    model.train()
    assert not model.backbone.training and all(not p.requires_grad for p in model.backbone.parameters())


@pytest.mark.parametrize("loss", choices.LOSSES)
def test_every_loss_gives_a_finite_loss_with_gradients(loss: str) -> None:
    criterion = build_criterion(cfg(loss=loss), 4, 8, torch.tensor([5, 5, 5, 5]))
    emb = torch.randn(8, 8, requires_grad=True)
    value = criterion(emb, torch.tensor([0, 0, 1, 1, 2, 2, 3, 3]))
    value.backward()
    assert math.isfinite(value.item()) and emb.grad.abs().sum() > 0
    assert (loss == "triplet") == (criterion.miner is not None)


def test_focal_and_class_balanced_variants_swap_the_cross_entropy() -> None:
    plain = build_criterion(cfg(), 3, 8, torch.tensor([10, 2, 1]))
    assert isinstance(plain.loss.cross_entropy, nn.CrossEntropyLoss)
    variant = build_criterion(
        cfg(focal_gamma=2.0, balance="loss", class_balance_beta=0.9), 3, 8, torch.tensor([10, 2, 1])
    )
    swapped = variant.loss.cross_entropy
    assert isinstance(swapped, PerImageCrossEntropy) and swapped.base.focal_gamma == 2.0
    weights = swapped.base.class_weights
    assert weights[2] > weights[1] > weights[0]  # rarer identities weigh more
    logits, labels = torch.randn(6, 3), torch.tensor([0, 1, 2, 0, 1, 2])
    expected = ClassificationLoss(None, 0.0, 2.0).per_sample(logits, labels) * weights[labels]
    assert torch.allclose(swapped(logits, labels), expected)


def test_refinement_suffixes_are_metric_names() -> None:
    base = Refinements()
    assert [base.only(*names).suffix for names in [(), ("flip",), ("qe",), ("rerank",), choices.REFINEMENTS]] == [
        "", "@flip", "@qe", "@rerank", "@all"]  # fmt: skip
    assert base.only("flip", "qe").suffix == "@flip+qe"
    settings = Refinements.from_config({"qe_top_k": 5, "rerank_k1": 7, "rerank_lambda": 0.5}, rerank=True)
    assert (settings.qe_top_k, settings.k1, settings.lambda_value, settings.rerank) == (5, 7, 0.5, True)


def test_refinements_change_the_distances_and_the_metrics_stay_shares() -> None:
    saved = clusters()
    plain = refined_distances(saved.embeddings, saved.flipped, Refinements())
    assert plain.shape == (20, 20) and torch.allclose(plain.diagonal(), torch.zeros(20), atol=1e-3)
    for name in choices.REFINEMENTS:
        changed = refined_distances(saved.embeddings, saved.flipped, Refinements().only(name))
        assert not torch.allclose(changed, plain), name
    metrics = refinement_metrics(saved, "test", Refinements())
    assert set(metrics) == {f"test/{m}{s}" for m in ("mAP", "mAP_identity", "rank1", "rank5")
                            for s in ("", "@flip", "@qe", "@rerank", "@all")}  # fmt: skip
    assert all(0.0 <= v <= 1.0 for v in metrics.values())
    with pytest.raises(ValueError, match="mirrored"):
        refined_distances(saved.embeddings, None, Refinements(flip=True))


def test_perfect_embeddings_give_perfect_metrics_and_a_single_image_identity_is_no_query() -> None:
    saved = clusters(noise=0.0)
    labels = np.append(saved.labels, 9)  # an identity with one image: a gallery distractor, never a query
    emb = np.vstack([saved.embeddings, np.eye(16, dtype=np.float32)[:1]])
    metrics = retrieval_metrics(refined_distances(emb, None, Refinements()), labels)
    assert metrics == {"mAP": 1.0, "mAP_identity": 1.0, "rank1": 1.0, "rank5": 1.0}


def test_query_rows_list_the_top_k_with_marks_and_the_ap() -> None:
    saved = clusters(noise=0.9)
    rows = query_rows(saved, Refinements(), top_k=5)
    assert len(rows) == 20
    row = rows[0]
    assert set(row) == {"image", "identity", "ap", "first_match_rank", "top"} and len(row["top"]) == 5
    assert all(m["image"] != row["image"] for m in row["top"])  # never itself
    assert [m["distance"] for m in row["top"]] == sorted(m["distance"] for m in row["top"])
    assert all(m["correct"] == (m["identity"] == row["identity"]) for m in row["top"])
    assert all(-1.0 <= m["similarity"] <= 1.0 + 1e-6 for m in row["top"])
    per_identity = identity_rows(rows, saved)
    assert [r["queries"] for r in per_identity] == [4] * 5 and sum(r["images"] for r in per_identity) == 20
    top, _ = top_matches(refined_distances(saved.embeddings, None, Refinements()), 3, [2])
    assert top.shape == (1, 3) and 2 not in top.tolist()[0]


def test_embeddings_round_trip_through_the_npz(tmp_path) -> None:
    saved = clusters()
    save_embeddings(tmp_path / "e" / "test.npz", saved)
    back = load_embeddings(tmp_path / "e" / "test.npz")
    assert np.array_equal(back.embeddings, saved.embeddings) and np.array_equal(back.flipped, saved.flipped)
    assert back.paths.tolist() == saved.paths.tolist() and back.names.tolist() == saved.names.tolist()


def test_metric_loss_runs_in_float32_under_bf16() -> None:
    criterion = MetricLoss(build_criterion(cfg(), 2, 4, torch.tensor([2, 2])).loss)
    value = criterion(torch.randn(4, 4, dtype=torch.bfloat16), torch.tensor([0, 0, 1, 1]))
    assert value.dtype == torch.float32 and criterion.loss.W.dtype == torch.float32


@pytest.mark.parametrize("seed", range(4))
def test_the_galleries_one_pass_summary_equals_the_evaluation_functions(seed: int) -> None:
    saved = clusters(n_ids=6, per_id=3, noise=1.0, seed=seed)
    labels = np.append(saved.labels, 7)  # one single-image identity
    emb = np.vstack([saved.embeddings, saved.embeddings[:1] * -1])
    for refine in (Refinements(), Refinements(rerank=True)):
        dist = refined_distances(emb, None, refine)
        top, _ = top_matches(dist, 5)
        fast = summarize(query_aps(dist, labels), labels, top.numpy())
        assert fast == pytest.approx(retrieval_metrics(dist, labels), abs=1e-9)
