"""Where and how a recipe computes: the device, the autocast precision and the data-loader workers."""

from __future__ import annotations

import os

import torch

from core.recipes.config import ConfigError


def resolve_device(name: str) -> torch.device:
    """``auto`` is cuda when torch sees a GPU, else cpu; an unavailable device is a ConfigError."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and (not torch.cuda.is_available() or (device.index or 0) >= torch.cuda.device_count()):
        raise ConfigError(f"device={name} but torch sees {torch.cuda.device_count()} GPU(s); use device=auto or cpu")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ConfigError("device=mps but this torch has no MPS support; use device=auto or cpu")
    return device


def resolve_amp(amp: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype: ``auto`` is bf16 on cuda (fp16 on GPUs without bf16) and off elsewhere."""
    if amp == "off" or (amp == "auto" and device.type != "cuda"):
        return None
    if amp == "auto":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16 if amp == "bf16" else torch.float16


def resolve_workers(requested: int, device: torch.device) -> int:
    """Loader workers: as asked, or for -1 none on a CPU (two cores are busy training) and up to 8 on a GPU."""
    if requested >= 0:
        return requested
    return min(8, max(1, (os.cpu_count() or 2) - 1)) if device.type == "cuda" else 0
