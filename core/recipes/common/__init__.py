"""What the training recipes share, each defined once: the choice lists, the config fields both offer, devices
and precision, the optimizer and learning-rate schedule, timm backbones and their weights, the loop's helpers,
image transforms and self-describing checkpoints.

Import from the submodule that owns a name (``from core.recipes.common.optim import LrSchedule``); only
``choices`` and ``fields`` are free of torch, so configs stay cheap to describe.
"""
