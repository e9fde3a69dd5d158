"""The names a user can choose in more than one recipe, each list defined once and without torch.

A recipe's own ``choices`` module offers these alongside its own lists; the builders that act on a name
(``optim``, ``transforms``, ``device``) read them from here.
"""

from __future__ import annotations

OPTIMIZERS = ("adamw", "adam", "sgd")
SCHEDULERS = ("cosine", "onecycle", "step", "plateau", "none")
AUGMENT_PRESETS = ("none", "light", "strong")
BALANCE_MODES = ("none", "loss", "sampler")
FREEZE_MODES = ("none", "backbone")
AMP_MODES = ("auto", "bf16", "fp16", "off")
