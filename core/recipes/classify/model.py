"""The classify model: a timm backbone (no classifier) with a model head and, for ``heads=multi``, a make head.

Pretrained weights come from timm (``pretrained=true``, which needs the network) or from a local file
(timm / torchvision state dicts, ``.safetensors``, or a checkpoint of an earlier classify run, whose
backbone is reused). A download that fails becomes a :class:`PretrainedWeightsError` saying what to do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import timm
import torch
from torch import nn


class ModelError(ValueError):
    """A backbone name or weights file that cannot be used; the message says what to give instead."""


class PretrainedWeightsError(ModelError):
    """Pretrained weights could not be fetched or read."""


class Classifier(nn.Module):
    """Backbone features -> dropout -> model head (and make head).

    ``forward`` returns ``{"logits": (B, C)}`` plus ``"make_logits": (B, M)`` with a make head.
    """

    def __init__(self, backbone: nn.Module, n_classes: int, n_makes: int = 0, dropout: float = 0.0) -> None:
        super().__init__()
        self.backbone = backbone
        width = getattr(backbone, "head_hidden_size", None) or backbone.num_features
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(width, n_classes)
        self.make_head = nn.Linear(width, n_makes) if n_makes else None
        self.backbone_frozen = False

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        features = self.drop(self.backbone(x))  # (B, 3, H, W) -> (B, F): pooled, pre-logits
        out = {"logits": self.head(features)}  # (B, C)
        if self.make_head is not None:
            out["make_logits"] = self.make_head(features)  # (B, M)
        return out

    def set_backbone_frozen(self, frozen: bool) -> None:
        """Freeze (or release) the backbone: no gradients, and its norm layers keep their statistics."""
        self.backbone_frozen = frozen
        for p in self.backbone.parameters():
            p.requires_grad_(not frozen)
        self.train(self.training)

    def train(self, mode: bool = True) -> Classifier:
        super().train(mode)
        if self.backbone_frozen:
            self.backbone.eval()  # a frozen backbone must not update its batch-norm running statistics
        return self


class LogitsOnly(nn.Module):
    """Wraps a Classifier so that it returns the model logits as a plain tensor (what Grad-CAM expects)."""

    def __init__(self, model: Classifier) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)["logits"]


def build_model(
    backbone: str,
    n_classes: int,
    *,
    n_makes: int = 0,
    pretrained: bool | str = False,
    dropout: float = 0.0,
    image_size: int | None = None,
) -> Classifier:
    """A Classifier over the timm model ``backbone``.

    Args:
        n_makes: size of the make head; 0 for a single (model) head.
        pretrained: False, True (timm's weights, downloaded or from the local cache) or a weights file.
        image_size: the input side, passed to models with a fixed input size (ViTs).

    Raises:
        ModelError: unknown backbone. PretrainedWeightsError: weights not available or not fitting.
    """
    if not timm.is_model(backbone):
        close = timm.list_models(f"*{backbone.split('.')[0][:6]}*")[:5]
        hint = f"; similar names: {', '.join(close)}" if close else ""
        raise ModelError(f"unknown timm backbone {backbone!r}{hint} (`timm.list_models('*resnet*')` lists them)")
    body = _create_backbone(backbone, pretrained is True, image_size)
    if isinstance(pretrained, str):
        load_backbone_weights(body, pretrained, backbone)
    return Classifier(body, n_classes, n_makes, dropout)


def _create_backbone(name: str, download: bool, image_size: int | None) -> nn.Module:
    cfg = timm.models.get_pretrained_cfg(name)
    # models with a fixed input size (ViTs) are built for ours; timm resamples pretrained position embeddings
    extra = {"img_size": image_size} if image_size and cfg is not None and cfg.fixed_input_size else {}
    try:
        return timm.create_model(name, pretrained=download, num_classes=0, **extra)
    except (OSError, RuntimeError, ValueError) as exc:  # hub / HTTP / cache errors are OSErrors
        if not download:
            raise
        raise PretrainedWeightsError(
            f"could not get pretrained weights for {name!r} ({type(exc).__name__}: {str(exc)[:200]}). "
            "On a machine without network use pretrained=false, or download the weights elsewhere and pass "
            "pretrained=/path/to/weights.pth (or .safetensors)"
        ) from exc


def load_backbone_weights(body: nn.Module, path: str, name: str) -> None:
    """Load a local weights file into ``body``, skipping classifier tensors that do not fit.

    Raises:
        PretrainedWeightsError: the file is missing or unreadable, or too few of its tensors fit ``name``.
    """
    file = Path(path).expanduser()
    if not file.is_file():
        raise PretrainedWeightsError(f"pretrained={path!r}: no such file; give a weights file or pretrained=false")
    try:
        state = _read_state_dict(file)
    except (OSError, RuntimeError, ValueError, KeyError) as exc:
        raise PretrainedWeightsError(f"cannot read weights file {file}: {type(exc).__name__}: {exc}") from exc
    own = body.state_dict()
    fitting = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    if len(fitting) < 0.5 * len(own):
        raise PretrainedWeightsError(
            f"weights file {file} does not fit backbone {name!r}: only {len(fitting)} of its {len(own)} tensors "
            "match by name and shape; use weights made for this backbone"
        )
    body.load_state_dict(fitting, strict=False)


def _read_state_dict(file: Path) -> dict[str, Any]:
    """A flat state dict from a timm/torchvision file or from a classify checkpoint (its backbone part)."""
    checkpoint = torch.load(file, map_location="cpu", weights_only=True) if file.suffix != ".safetensors" else None
    if isinstance(checkpoint, dict) and checkpoint.get("recipe") == "classify" and "model" in checkpoint:
        prefix = "backbone."
        return {k[len(prefix) :]: v for k, v in checkpoint["model"].items() if k.startswith(prefix)}
    return timm.models.load_state_dict(str(file), use_ema=True, weights_only=True)


def count_parameters(model: nn.Module) -> tuple[int, int]:
    """(all parameters, trainable parameters)."""
    total = sum(p.numel() for p in model.parameters())
    return total, sum(p.numel() for p in model.parameters() if p.requires_grad)
