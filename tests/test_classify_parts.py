"""The parts of the classify recipe checked against oracles: losses, the lr schedule, transforms, the model.

Losses are recomputed with a plain per-image loop (or torch's own cross-entropy where it defines the same
thing); the schedule is checked at the points that define it.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torchvision.transforms import v2

from core.recipes.classify.data import inverse_frequency_weights
from core.recipes.classify.losses import ClassificationLoss, HierarchicalLoss, head_disagreement, make_marginal
from core.recipes.classify.model import Classifier, LogitsOnly, build_model
from core.recipes.classify.train import resolve_workers
from core.recipes.common.choices import AUGMENT_PRESETS
from core.recipes.common.data import build_transform
from core.recipes.common.optim import LrSchedule
from core.recipes.common.progress import Progress

torch.manual_seed(0)
LOGITS = torch.randn(7, 5) * 3
TARGET = torch.tensor([0, 1, 2, 3, 4, 0, 2])
C2M = torch.tensor([0, 0, 1, 1, 2])


def oracle(logits: torch.Tensor, target: torch.Tensor, w: torch.Tensor | None, eps: float, gamma: float) -> float:
    """The loss of one batch, image by image."""
    total, weight_sum = 0.0, 0.0
    for row, t in zip(logits.tolist(), target.tolist(), strict=True):
        logz = math.log(sum(math.exp(v) for v in row))
        logp = [v - logz for v in row]
        loss = (1 - eps) * -logp[t] + eps * -sum(logp) / len(row)
        loss *= (1 - math.exp(logp[t])) ** gamma
        wi = float(w[t]) if w is not None else 1.0
        total, weight_sum = total + wi * loss, weight_sum + wi
    return total / weight_sum


@pytest.mark.parametrize("eps", [0.0, 0.1])
@pytest.mark.parametrize("gamma", [0.0, 2.0])
@pytest.mark.parametrize("weighted", [False, True])
def test_classification_loss_matches_the_oracle(eps: float, gamma: float, weighted: bool) -> None:
    w = torch.tensor([1.0, 2.0, 0.5, 1.0, 3.0]) if weighted else None
    got = ClassificationLoss(w, eps, gamma)(LOGITS, TARGET)
    assert got.item() == pytest.approx(oracle(LOGITS, TARGET, w, eps, gamma), rel=1e-5)


def test_plain_settings_equal_torch_cross_entropy() -> None:
    w = torch.tensor([1.0, 2.0, 0.5, 1.0, 3.0])
    assert ClassificationLoss(None, 0.1)(LOGITS, TARGET) == pytest.approx(
        F.cross_entropy(LOGITS, TARGET, label_smoothing=0.1).item(), rel=1e-5
    )
    assert ClassificationLoss(w)(LOGITS, TARGET) == pytest.approx(F.cross_entropy(LOGITS, TARGET, weight=w).item())


def test_focal_loss_down_weights_easy_images() -> None:
    easy = torch.tensor([[10.0, 0.0, 0.0]])
    hard = torch.tensor([[0.0, 0.0, 0.0]])
    y = torch.tensor([0])
    ce, focal = ClassificationLoss(), ClassificationLoss(focal_gamma=2.0)
    assert focal(easy, y) / ce(easy, y) < 1e-3 < focal(hard, y) / ce(hard, y)


def test_inverse_frequency_weights_average_one_per_image() -> None:
    counts = torch.tensor([10, 30, 0, 60])
    w = inverse_frequency_weights(counts)
    assert w[2] == 0 and (w * counts).sum() / counts.sum() == pytest.approx(1.0)
    assert w[0] * 10 == pytest.approx(w[1] * 30) == pytest.approx(w[3] * 60)  # every class weighs the same


def test_make_marginal_and_disagreement() -> None:
    probs = torch.softmax(LOGITS, dim=1)
    marginal = make_marginal(probs, C2M, 3)
    assert torch.allclose(marginal[:, 0], probs[:, 0] + probs[:, 1]) and torch.allclose(marginal.sum(1), torch.ones(7))
    consistent = torch.log(marginal)  # a make head that says exactly what the model head implies
    assert head_disagreement(LOGITS, consistent, C2M).item() == pytest.approx(0.0, abs=1e-6)
    assert head_disagreement(LOGITS, torch.randn(7, 3) * 3, C2M).item() > 0.01


def test_hierarchical_loss_is_the_weighted_sum() -> None:
    ce = ClassificationLoss()
    make_logits = torch.randn(7, 3)
    loss = HierarchicalLoss(ce, C2M, ClassificationLoss(), make_weight=0.5, consistency_weight=0.25)
    out = {"logits": LOGITS, "make_logits": make_logits}
    expected = (
        ce(LOGITS, TARGET) + 0.5 * ce(make_logits, C2M[TARGET]) + 0.25 * head_disagreement(LOGITS, make_logits, C2M)
    )
    assert loss(out, TARGET).item() == pytest.approx(expected.item())
    assert loss({"logits": LOGITS}, TARGET).item() == pytest.approx(ce(LOGITS, TARGET).item())


def schedule(name: str, **kw: float) -> LrSchedule:
    return LrSchedule(name, base_lr=1.0, epochs=10, **kw)


def test_warmup_then_cosine_to_the_floor() -> None:
    s = schedule("cosine", warmup_epochs=2, min_lr_ratio=0.1)
    assert s.lr_at(0) == pytest.approx(0.01) and s.lr_at(1) == pytest.approx(0.505)
    assert s.lr_at(2) == pytest.approx(1.0) and s.lr_at(6) == pytest.approx(0.55) and s.lr_at(10) == pytest.approx(0.1)


def test_onecycle_peaks_at_30_percent() -> None:
    s = schedule("onecycle")
    assert s.lr_at(0) == pytest.approx(1 / 25) and s.lr_at(3) == pytest.approx(1.0)
    assert s.lr_at(10) == pytest.approx(1 / 25 / 1e4) and s.lr_at(2) < 1.0 and s.lr_at(5) < 1.0


def test_step_and_none() -> None:
    s = schedule("step", step_epochs=3, gamma=0.5)
    assert [s.lr_at(t) for t in (0, 2.9, 3, 6.5, 9)] == pytest.approx([1, 1, 0.5, 0.25, 0.125])
    assert schedule("none", warmup_epochs=1).lr_at(0.5) == pytest.approx(0.505)


def test_plateau_lowers_after_patience_and_round_trips() -> None:
    s = schedule("plateau", patience=1, gamma=0.1)
    for loss in (1.0, 0.9, 0.95, 0.95):  # two epochs without a lower loss: one more than the patience
        s.observe(loss)
    assert s.lr_at(5) == pytest.approx(0.1)
    again = schedule("plateau", patience=1, gamma=0.1)
    again.load_state_dict(s.state_dict())
    assert again.lr_at(5) == pytest.approx(0.1) and again.best_loss == 0.9


def test_early_stopping_bookkeeping() -> None:
    p = Progress()
    assert [p.update(e, top1) for e, top1 in enumerate([0.5, 0.6, 0.6, 0.55, 0.7], start=1)] == [
        True,
        True,
        False,
        False,
        True,
    ]
    assert (p.epoch, p.best_epoch, p.best, p.bad_epochs) == (5, 5, 0.7, 0)
    old = {"epoch": 3, "best_top1": 0.6, "best_epoch": 2, "bad_epochs": 1}  # last.pt as written before
    assert Progress.from_saved(old) == Progress(epoch=3, best=0.6, best_epoch=2, bad_epochs=1)
    assert Progress.from_saved({"epoch": 1, "best_map": 0.4}).best == 0.4  # a reid run's


@pytest.mark.parametrize("preset", AUGMENT_PRESETS)
def test_transforms_give_normalised_tensors_of_the_asked_size(preset: str) -> None:
    from PIL import Image

    image = Image.new("RGB", (50, 40), (255, 0, 0))
    cfg = {"mean": (0.5, 0.5, 0.5), "std": (0.5, 0.5, 0.5), "interpolation": "bicubic"}
    out = build_transform(preset, 32, cfg, train=True)(image)
    assert out.shape == (3, 32, 32) and out.dtype == torch.float32 and out.min() >= -1.0 - 1e-6
    evaluation = build_transform(preset, 32, cfg, train=False)
    assert not any(isinstance(t, v2.RandomHorizontalFlip) for t in evaluation.transforms)
    assert torch.allclose(evaluation(image)[0], torch.ones(32, 32))  # red channel: (1 - 0.5) / 0.5


def test_freezing_keeps_the_backbone_statistics() -> None:
    model = build_model("test_resnet", 4, n_makes=2)
    model.set_backbone_frozen(True)
    model.train()
    bn = next(m for m in model.backbone.modules() if isinstance(m, torch.nn.BatchNorm2d))
    before = bn.running_mean.clone()
    model(torch.randn(4, 3, 32, 32))
    assert torch.equal(bn.running_mean, before) and not bn.training and model.head.training
    assert all(not p.requires_grad for p in model.backbone.parameters())
    model.set_backbone_frozen(False)
    assert bn.training and all(p.requires_grad for p in model.backbone.parameters())


def test_logits_only_wrapper_for_grad_cam() -> None:
    model: Classifier = build_model("test_resnet", 4, n_makes=2).eval()
    x = torch.randn(2, 3, 32, 32)
    assert torch.equal(LogitsOnly(model)(x), model(x)["logits"])


def test_loader_workers_auto_is_none_on_cpu_and_some_on_cuda() -> None:
    assert resolve_workers(-1, torch.device("cpu")) == 0 and resolve_workers(3, torch.device("cpu")) == 3
    assert 1 <= resolve_workers(-1, torch.device("cuda")) <= 8
