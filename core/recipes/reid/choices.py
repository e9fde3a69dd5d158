"""The names a user can choose in the reid recipe, each list defined once and without torch.

The lists reid shares with classify (optimizers, schedulers, augmentation, balance, freezing, precision) live
in ``core.recipes.common.choices``; the config, the builders (``model``, ``losses``, ``refine``) and the
Gallery page read these.
"""

from __future__ import annotations

POOLINGS = ("gem", "avg")
LOSSES = ("arcface", "cosface", "subcenter-arcface", "triplet")
MINERS = ("batch-hard", "semihard", "hard", "all")  # triplet only: which triplets of a batch count
# Each loss's margin and scale when the config leaves them at none (margins: ArcFace in degrees, CosFace in
# cosine units, triplet in embedding distance; triplet has no scale).
LOSS_DEFAULTS = {
    "arcface": {"margin": 28.6, "scale": 30.0},
    "cosface": {"margin": 0.35, "scale": 30.0},
    "subcenter-arcface": {"margin": 28.6, "scale": 30.0},
    "triplet": {"margin": 0.2, "scale": None},
}
REFINEMENTS = ("flip", "qe", "rerank")  # inference refinements, each reported on its own and all together
ALL_REFINEMENTS = "all"  # the metric suffix of all refinements combined: test/mAP@all
