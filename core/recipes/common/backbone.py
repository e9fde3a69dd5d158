"""timm backbones for every recipe: creation by name, pretrained weights (timm's, or a local file), freezing.

Pretrained weights come from timm (``pretrained=true``, which needs the network) or from a local file
(timm / torchvision state dicts, ``.safetensors``, or a checkpoint of an earlier run of any recipe, whose
backbone is reused). A download that fails becomes a :class:`PretrainedWeightsError` saying what to do.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import timm
import torch
from torch import nn

from core.recipes.common.checkpoint import FORMAT


class ModelError(ValueError):
    """A backbone name or weights file that cannot be used; the message says what to give instead."""


class PretrainedWeightsError(ModelError):
    """Pretrained weights could not be fetched or read."""


def create_backbone(name: str, pretrained: bool | str = False, image_size: int | None = None) -> nn.Module:
    """The timm model ``name`` without its classifier (``num_classes=0``).

    Args:
        pretrained: False, True (timm's weights, downloaded or from the local cache) or a weights file.
        image_size: the input side, passed to models with a fixed input size (ViTs).

    Raises:
        ModelError: unknown backbone. PretrainedWeightsError: weights not available or not fitting.
    """
    if not timm.is_model(name):
        close = timm.list_models(f"*{name.split('.')[0][:6]}*")[:5]
        hint = f"; similar names: {', '.join(close)}" if close else ""
        raise ModelError(f"unknown timm backbone {name!r}{hint} (`timm.list_models('*resnet*')` lists them)")
    body = _create(name, pretrained is True, image_size)
    if isinstance(pretrained, str):
        load_backbone_weights(body, pretrained, name)
    return body


def _create(name: str, download: bool, image_size: int | None) -> nn.Module:
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
    """A flat state dict from a timm/torchvision file or from a checkpoint of an earlier run (its backbone part)."""
    checkpoint = torch.load(file, map_location="cpu", weights_only=True) if file.suffix != ".safetensors" else None
    if isinstance(checkpoint, dict) and checkpoint.get("format") == FORMAT and "model" in checkpoint:
        prefix = "backbone."
        return {k[len(prefix) :]: v for k, v in checkpoint["model"].items() if k.startswith(prefix)}
    return timm.models.load_state_dict(str(file), use_ema=True, weights_only=True)


def count_parameters(model: nn.Module) -> tuple[int, int]:
    """(all parameters, trainable parameters)."""
    total = sum(p.numel() for p in model.parameters())
    return total, sum(p.numel() for p in model.parameters() if p.requires_grad)


class FreezableBackbone(nn.Module):
    """A model whose ``self.backbone`` can be frozen: no gradients, and its norm layers keep their statistics."""

    backbone: nn.Module
    backbone_frozen: bool = False

    def set_backbone_frozen(self, frozen: bool) -> None:
        """Freeze (or release) the backbone."""
        self.backbone_frozen = frozen
        for p in self.backbone.parameters():
            p.requires_grad_(not frozen)
        self.train(self.training)

    def train(self, mode: bool = True) -> FreezableBackbone:
        super().train(mode)
        if self.backbone_frozen:
            self.backbone.eval()  # a frozen backbone must not update its batch-norm running statistics
        return self


def set_frozen_for_epoch(model: FreezableBackbone, freeze: str, unfreeze_epoch: int, epoch: int,
                         echo: Callable[[str], None]) -> None:  # fmt: skip
    """freeze=backbone: frozen for the first ``unfreeze_epoch`` epochs (all of them when it is 0)."""
    frozen = freeze == "backbone" and (unfreeze_epoch == 0 or epoch <= unfreeze_epoch)
    if frozen != model.backbone_frozen:
        model.set_backbone_frozen(frozen)
        if not frozen:
            echo(f"epoch {epoch}: unfreezing the backbone")
