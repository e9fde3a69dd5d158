"""Predictions and Grad-CAM overlays of a trained classify run, shared by the Predict page and ``explain``.

    handle = load_run_model(run_dir)                       # once per run and checkpoint (the page caches it)
    result = explain(handle, image, method="gradcam", target="pred", opacity=0.5)

The Grad-CAM object is used as a context manager on every call, so its hooks are always released: a server
that keeps models cached must not pile up hooks.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytorch_grad_cam
import torch
from PIL import Image, UnidentifiedImageError
from pytorch_grad_cam.utils.image import show_cam_on_image
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
from torch import nn

from core import runfolder
from core.datasets.image_folder import DECODE_ERRORS, IMAGE_EXTENSIONS, IMAGE_FORMATS
from core.evaluation.classification import make_probabilities, topk_indices
from core.recipes.classify.checkpoint import BEST, LAST, CheckpointError, load_checkpoint
from core.recipes.classify.choices import CAM_METHODS, CHECKPOINTS
from core.recipes.classify.model import LogitsOnly
from core.recipes.common.data import build_transform, model_data_config

METHODS: dict[str, type] = {name: getattr(pytorch_grad_cam, cls) for name, cls in CAM_METHODS.items()}
MAX_UPLOAD_BYTES = 20 << 20
MAX_UPLOAD_PIXELS = 40_000_000
UPLOAD_TYPES = tuple(ext.lstrip(".") for ext in IMAGE_EXTENSIONS)


class PredictError(ValueError):
    """An image or a run that cannot be explained; the message says what to do."""


@dataclass
class ModelHandle:
    """A loaded model with what it needs to read an image and name its outputs."""

    model: nn.Module
    meta: dict[str, Any]
    transform: Any
    device: torch.device
    run_id: str
    checkpoint: str
    layers: list[str] = field(default_factory=list)  # where a CAM can be taken; the last is the default

    @property
    def classes(self) -> list[str]:
        return list(self.meta["classes"])

    @property
    def makes(self) -> list[str]:
        return list(self.meta["makes"])

    @property
    def class_to_make(self) -> list[int]:
        return [int(m) for m in self.meta["class_to_make"]]


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def checkpoint_path(run_dir: Path, which: str = "best") -> Path:
    """The run's best (default) or last checkpoint file."""
    if which not in CHECKPOINTS:
        raise PredictError(f"checkpoint {which!r} must be one of: {', '.join(CHECKPOINTS)}")
    return run_dir / runfolder.CHECKPOINTS_DIR / (BEST if which == "best" else LAST)


def load_run_model(run_dir: Path, which: str = "best", device: torch.device | None = None) -> ModelHandle:
    """Load a run's checkpoint for prediction; a missing file or another recipe version is a PredictError."""
    path = checkpoint_path(run_dir, which)
    if not path.is_file():
        raise PredictError(
            f"run {run_dir.name} has no {which} checkpoint ({path.name}); pick a finished classify "
            "run, or the 'last' checkpoint of a run that stopped early"
        )
    model, meta, transform, device, layers = load_for_inference(path, load_checkpoint, device)
    if not layers:
        raise PredictError(f"no layer of backbone {meta['config']['backbone']} outputs a spatial map for Grad-CAM")
    return ModelHandle(model, meta, transform, device, run_dir.name, which, layers)


def load_for_inference(
    path: Path, load: Callable[..., tuple[Any, dict]], device: torch.device | None = None
) -> tuple[Any, dict, Any, torch.device, list[str]]:
    """A checkpoint read by a recipe's ``load`` for prediction (either recipe): (model, meta, the eval
    transform at the checkpoint's image size, the device, the backbone's layers Grad-CAM can use). A file this
    code cannot use is a PredictError."""
    device = device or default_device()
    try:
        model, meta = load(path, device=device)
    except CheckpointError as exc:
        raise PredictError(str(exc)) from exc
    size = int(meta["config"]["image_size"])
    transform = build_transform("none", size, model_data_config(model.backbone), train=False)
    layers = candidate_layers(model.backbone, torch.zeros(1, 3, size, size, device=device))
    return model, meta, transform, device, layers


def read_upload(data: bytes, name: str = "upload", max_bytes: int = MAX_UPLOAD_BYTES) -> Image.Image:
    """Decode an uploaded image in memory (never written to disk): checks size, type and that it decodes."""
    if len(data) > max_bytes:
        raise PredictError(
            f"{name} is {len(data) / 2**20:.1f} MiB; the limit is {max_bytes / 2**20:.0f} MiB. "
            "Resize or compress it first"
        )
    return _decode(data, name, upload=True)


def read_image(path: str | os.PathLike[str]) -> Image.Image:
    """An image file as RGB, or a PredictError naming the file and what is wrong with it."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise PredictError(
            f"cannot read image {path}: {exc.strerror or type(exc).__name__}; check the path, or pick another image"
        ) from exc
    return _decode(data, str(path), upload=False)


def _decode(data: bytes, name: str, upload: bool) -> Image.Image:
    """The image in ``data`` as RGB; an upload must also be in IMAGE_FORMATS and under MAX_UPLOAD_PIXELS."""
    if not data:
        raise PredictError(f"{name} is empty (0 bytes); " + ("upload it again" if upload else "pick another image"))
    try:
        with Image.open(io.BytesIO(data)) as img:
            if upload and img.format not in IMAGE_FORMATS:
                formats = ", ".join(IMAGE_FORMATS)
                raise PredictError(f"{name} is a {img.format} file; upload an image in one of: {formats}")
            if upload and img.width * img.height > MAX_UPLOAD_PIXELS:
                raise PredictError(f"{name} is {img.width}x{img.height} pixels; upload one under 40 megapixels")
            img.load()
            return img.convert("RGB")
    except PredictError:
        raise
    except DECODE_ERRORS as exc:
        raise PredictError(_decode_problem(exc, data, name, upload)) from exc


def _decode_problem(exc: BaseException, data: bytes, name: str, upload: bool) -> str:
    """What is wrong with an image file PIL could not decode, in plain words with what to do (never the
    exception's text when that is a Python object's repr, as PIL's "cannot identify image file <_io...>" is)."""
    again = "upload it again" if upload else "copy the file again, or pick another image"
    if isinstance(exc, Image.DecompressionBombError):
        fix = "upload one under 40 megapixels" if upload else "resize it first"
        return f"{name} has too many pixels to decode safely; {fix}"
    if isinstance(exc, UnidentifiedImageError):
        kind = _looks_like(data)
        if kind:  # the signature of an image format, but PIL cannot read the header after it
            return f"{name} starts like a {kind} file but its header is cut off or damaged; {again}"
        fix = "upload a real PNG or JPEG" if upload else "pick another image"
        if (text := _text_head(data)) is not None:  # a text file, renamed or saved with an image's name
            said = f"its content is text ({text[:40].strip()!r}...), whatever its name says"
            return f"{name} is not an image: {said}; {fix}"
        *most, last = IMAGE_FORMATS
        said = Path(name).suffix
        named = f" (the name says {said}, the bytes are not an image format)"
        named = named if said.lower() in IMAGE_EXTENSIONS else ""
        return f"{name} is not an image: its contents are not {', '.join(most)} or {last}{named}; {fix}"
    text = str(exc)
    if isinstance(exc, EOFError) or "truncated" in text.lower():
        return f"{name} is cut off (the file ends before the image does); {again}"
    detail = "" if not text or "object at 0x" in text or "<_io" in text else f" ({text})"
    return f"{name} is damaged: its image data cannot be decoded{detail}; {again}, or save it again as PNG or JPEG"


def _text_head(data: bytes) -> str | None:
    """The start of ``data`` when it reads as UTF-8 text (no image format does), else None."""
    try:
        return data[:512].decode("utf-8")
    except UnicodeDecodeError:
        return None


def _looks_like(data: bytes) -> str | None:
    """The format of IMAGE_FORMATS whose signature ``data`` starts with (PIL's own test), or None."""
    Image.init()
    for fmt in IMAGE_FORMATS:
        accept = Image.OPEN.get(fmt, (None, None))[1]
        if accept is not None and accept(data[:16]):
            return fmt
    return None


@dataclass
class Prediction:
    """Top-k models and makes with probabilities, and where the make probabilities come from."""

    models: list[tuple[str, float]]
    makes: list[tuple[str, float]]
    make_source: str  # "make head" or "summed over models"
    class_index: int  # the predicted model


@dataclass
class Explanation:
    prediction: Prediction
    overlay: Image.Image  # same size as the input image
    cam: np.ndarray = field(repr=False)  # (H, W) in [0, 1], at the input image's size
    target: int
    method: str
    layer: str


def predict(handle: ModelHandle, image: Image.Image, k: int = 5) -> Prediction:
    x = _batch(handle, image)
    with torch.inference_mode():
        out = handle.model(x)
    return _prediction(handle, out, k)


def _prediction(handle: ModelHandle, out: dict[str, torch.Tensor], k: int) -> Prediction:
    probs = torch.softmax(out["logits"].float(), dim=1).cpu().numpy()  # (1, C)
    if "make_logits" in out:
        make_probs, source = torch.softmax(out["make_logits"].float(), dim=1).cpu().numpy(), "make head"
    else:
        make_probs = make_probabilities(probs, handle.class_to_make, len(handle.makes))
        source = "summed over models"
    top = topk_indices(probs, min(k, probs.shape[1]))[0]
    top_makes = topk_indices(make_probs, min(k, make_probs.shape[1]))[0]
    return Prediction(
        [(handle.classes[i], float(probs[0, i])) for i in top],
        [(handle.makes[i], float(make_probs[0, i])) for i in top_makes],
        source,
        int(top[0]),
    )


def explain(
    handle: ModelHandle,
    image: Image.Image,
    *,
    method: str = "gradcam",
    target: str | int = "pred",
    truth: int | None = None,
    layer: str | None = None,
    opacity: float = 0.5,
    k: int = 5,
) -> Explanation:
    """Predict and overlay a class activation map on the image.

    Args:
        method: a key of METHODS.
        target: "pred" (the predicted model), "truth" (needs ``truth``), or a class index.
        layer: a module name of the backbone (see candidate_layers); default: chosen automatically.
        opacity: weight of the heat map in the overlay, 0..1.
    """
    if method not in METHODS:
        raise PredictError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    x = _batch(handle, image)
    with torch.inference_mode():
        out = handle.model(x)
    prediction = _prediction(handle, out, k)
    index = _target_index(handle, target, truth, prediction.class_index)
    name = layer or handle.layers[-1]
    module = dict(handle.model.backbone.named_modules()).get(name)
    if module is None:
        raise PredictError(f"layer {name!r} is not in backbone; pick one of the listed layers")
    cam = class_activation(LogitsOnly(handle.model), module, x, index, method)
    return Explanation(prediction, *overlay(image, cam, opacity), index, method, name)


def class_activation(
    model: nn.Module, layer: nn.Module, x: torch.Tensor, index: int, method: str = "gradcam"
) -> np.ndarray:
    """The CAM of class ``index`` at ``layer`` for a batch of one: (H, W) in [0, 1] at the input's size."""
    return activation_map(model, layer, x, ClassifierOutputTarget(index), method)


def activation_map(model: nn.Module, layer: nn.Module, x: torch.Tensor, target: Callable[[torch.Tensor], torch.Tensor],
                   method: str = "gradcam") -> np.ndarray:  # fmt: skip
    """The CAM at ``layer`` of what ``target`` (a callable on the model's output for one image) measures, for
    a batch of one: (H, W) in [0, 1] at the input's size. Classes, similarities to an embedding: any target.

    The CAM object is a context manager: its hooks are removed when the block ends, even on an error.
    """
    if method not in METHODS:
        raise PredictError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    with METHODS[method](model=model, target_layers=[layer], reshape_transform=fold_tokens) as cam:
        return cam(input_tensor=x, targets=[target])[0]


def overlay(image: Image.Image, cam: np.ndarray, opacity: float) -> tuple[Image.Image, np.ndarray]:
    """The CAM as a heat map over ``image`` (``opacity`` its weight, 0..1), and the CAM at the image's size."""
    if not 0.0 <= opacity <= 1.0:
        raise PredictError(f"opacity {opacity} must be between 0 and 1")
    full = np.asarray(Image.fromarray((cam * 255).astype(np.uint8)).resize(image.size, Image.BILINEAR)) / 255.0
    rgb = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    blended = show_cam_on_image(rgb, full.astype(np.float32), use_rgb=True, image_weight=1.0 - opacity)
    return Image.fromarray(blended), full


def _target_index(handle: ModelHandle, target: str | int, truth: int | None, predicted: int) -> int:
    if target == "pred":
        return predicted
    if target == "truth":
        if truth is None:
            raise PredictError("the truth of this image is unknown (an upload?); explain the prediction instead")
        return truth
    index = int(target)
    if not 0 <= index < len(handle.classes):
        raise PredictError(f"class index {index} is out of range 0..{len(handle.classes) - 1}")
    return index


def _batch(handle: ModelHandle, image: Image.Image) -> torch.Tensor:
    x = handle.transform(image.convert("RGB")).unsqueeze(0).to(handle.device)  # (1, 3, S, S)
    if handle.device.type == "cuda" and handle.meta["config"].get("channels_last"):
        x = x.contiguous(memory_format=torch.channels_last)
    return x


def candidate_layers(backbone: nn.Module, x: torch.Tensor) -> list[str]:
    """Modules a CAM can be taken at, in the order they finish: those whose output is a channels-first
    spatial map (B, C, h, h) with h > 1 (inputs are square), or, in a vision transformer, the token
    outputs of each block's first norm. The last of them is :func:`default_layer`."""
    shapes: list[tuple[str, tuple[int, ...]]] = []
    hooks = [
        m.register_forward_hook(lambda mod, inp, out, n=n: shapes.append((n, tuple(out.shape))))
        for n, m in backbone.named_modules()
        if n and not isinstance(m, nn.Identity) and not isinstance(m, nn.ModuleList)
    ]
    try:
        with torch.inference_mode():
            backbone(x)
    finally:
        for h in hooks:
            h.remove()
    if hasattr(backbone, "patch_embed"):  # a vision transformer: (B, N, C) tokens, folded by fold_tokens
        return list(dict.fromkeys(n for n, s in shapes if len(s) == 3 and s[1] > 1 and n.endswith("norm1")))
    return list(dict.fromkeys(n for n, s in shapes if len(s) == 4 and s[2] == s[3] > 1))


def default_layer(backbone: nn.Module, x: torch.Tensor) -> str:
    """The usual Grad-CAM choice for any timm backbone: the last module that outputs the final feature map
    (e.g. ``layer4`` of a ResNet, ``blocks`` of a MobileNet), or the last block's norm of a ViT."""
    layers = candidate_layers(backbone, x)
    if not layers:
        raise PredictError("no layer of this backbone outputs a spatial map; pick a layer by name")
    return layers[-1]


def fold_tokens(tokens: torch.Tensor) -> torch.Tensor:
    """For transformer layers: (B, N, C) tokens -> (B, C, h, w) without the class/prefix tokens."""
    if tokens.dim() != 3:
        return tokens
    side = int(np.sqrt(tokens.shape[1]))
    grid = tokens[:, tokens.shape[1] - side * side :, :]  # (B, side*side, C): the patch tokens
    return grid.reshape(tokens.shape[0], side, side, tokens.shape[2]).permute(0, 3, 1, 2)
