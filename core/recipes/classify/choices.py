"""The names a user can choose in the classify recipe, each list defined once and without torch.

The config's option choices, the builders that act on a name (``optim``, ``data``, ``predict``), the CLI and
the pages all read these, so adding a choice means adding it here and to the builder that handles it.
"""

from __future__ import annotations

OPTIMIZERS = ("adamw", "adam", "sgd")
SCHEDULERS = ("cosine", "onecycle", "step", "plateau", "none")
AUGMENT_PRESETS = ("none", "light", "strong")
BALANCE_MODES = ("none", "loss", "sampler")
HEADS = ("single", "multi")
FREEZE_MODES = ("none", "backbone")
AMP_MODES = ("auto", "bf16", "fp16", "off")

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
