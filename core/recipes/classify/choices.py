"""The names a user can choose in the classify recipe, each list defined once and without torch.

The lists classify shares with other recipes live in ``core.recipes.common.choices`` and are offered here as
they are; the config's option choices, the builders that act on a name (``optim``, ``data``, ``predict``),
the CLI and the pages all read these, so adding a choice means adding it in its one place and to the builder
that handles it.
"""

from __future__ import annotations

from core.recipes.common.choices import AMP_MODES, AUGMENT_PRESETS, BALANCE_MODES, FREEZE_MODES, OPTIMIZERS, SCHEDULERS

__all__ = [
    "AMP_MODES", "AUGMENT_PRESETS", "BALANCE_MODES", "CAM_METHODS", "CHECKPOINTS", "FREEZE_MODES", "HEADS",
    "OPTIMIZERS", "SCHEDULERS",
]  # fmt: skip

HEADS = ("single", "multi")

# Grad-CAM methods: the name users type -> its class in pytorch_grad_cam (predict imports them, with torch).
CAM_METHODS = {
    "gradcam": "GradCAM",
    "gradcam++": "GradCAMPlusPlus",
    "eigencam": "EigenCAM",
    "layercam": "LayerCAM",
    "xgradcam": "XGradCAM",
    "hirescam": "HiResCAM",
}
CHECKPOINTS = ("best", "last")  # which checkpoint of a run to predict with: best.pt or last.pt
