"""Arrays in, arrays out for the retrieval functions: numpy or torch accepted, the caller's kind returned."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

ROW_BLOCK = 512  # query rows handled at once: memory is O(ROW_BLOCK x gallery), whatever the gallery size


def as_tensor(x: Any, dtype: torch.dtype | None = None) -> torch.Tensor:
    """x as a torch tensor (a numpy array is shared, not copied), optionally of ``dtype``."""
    t = x if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x))
    return t.to(dtype) if dtype is not None else t


def like(result: torch.Tensor, original: Any) -> Any:
    """``result`` as the kind of ``original``: torch stays torch, anything else becomes numpy."""
    return result if isinstance(original, torch.Tensor) else result.cpu().numpy()
