"""The markdown experiment log's vocabulary, shared by its writer (``core.reports``) and its reader (the
importer): section headings, how a metric name becomes a key on an epoch line and back, how numbers are
written and read, and the words people use for our metrics (``Exact Car Accuracy`` is ``top1``)."""

from __future__ import annotations

import math
import re

EXPERIMENT_PREFIX = "Experiment:"
# Sections of an experiment: key -> the heading the writer uses; ALIASES lets the reader accept other words.
SECTIONS = {"changes": "Changes", "reason": "Reason", "config": "Config", "metrics": "Metrics",
            "results": "Results", "notes": "Notes", "images": "Images / Plots"}  # fmt: skip
ALIASES = {"hypothesis": "reason", "configuration": "config", "plots": "images", "figures": "images",
           "image": "images"}  # fmt: skip
# ``**Field:** value`` lines: the field's words -> what it fills (links go to the run's links).
FIELDS = {"date": "date", "run": "run", "group": "group", "tags": "tags", "reason": "reason", "hypothesis": "reason",
          "research question": "reason", "changes": "changes", "defined intervention": "changes",
          "intervention": "changes", "interpretation": "notes", "notes": "notes", "conclusion": "notes"}  # fmt: skip
PER_MAKE_PREFIX = "accuracy_"  # ``- accuracy_<make>: value`` lines are rows of the test/per_make table
PER_MAKE_TABLE = "test/per_make"
NOTHING_RECORDED = "None recorded"  # what the writer puts in an empty Changes or Reason section
NO_EPOCHS = "No per-epoch metrics logged."

SPLIT_WORDS = {"train": "train", "training": "train", "val": "val", "valid": "val", "validation": "val",
               "test": "test"}  # fmt: skip
# Words people write for our metrics (normalised: lower case, letters and digits only) -> our short name.
SYNONYMS = {
    "top1": "top1", "top1accuracy": "top1", "exactaccuracy": "top1", "exactcaraccuracy": "top1",
    "top5": "top5", "top5accuracy": "top5", "makeaccuracy": "make_acc", "makebrandaccuracy": "make_acc",
    "brandaccuracy": "make_acc", "makeacc": "make_acc", "gap": "gap", "thegap": "gap", "makemodelgap": "gap",
    "headagreement": "head_agreement", "internalconsistency": "head_agreement", "makeheadaccuracy": "make_head_acc",
    "testsetsize": "images", "images": "images", "map": "mAP", "identitybalancedmap": "mAP_identity",
    "mapidentity": "mAP_identity", "rank1": "rank1", "rank5": "rank5", "loss": "loss",
}  # fmt: skip
NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?inf(?:inity)?|nan"
_NUMBER_RE = re.compile(rf"^\s*({NUMBER})\s*(%?)\s*$", re.IGNORECASE)


def section_key(heading: str) -> str | None:
    """'Images / Plots' -> 'images'; 'Reason / hypothesis' -> 'reason'; an unknown heading -> None."""
    words = re.findall(r"[a-z]+", heading.lower())
    first = words[0] if words else ""
    return first if first in SECTIONS else ALIASES.get(first)


def field_key(label: str) -> str | None:
    """'Research question' -> 'reason'; 'WANDB Link' -> 'links'; an unknown field -> None."""
    text = " ".join(re.findall(r"[a-z]+", label.lower()))
    if "link" in text or text in ("source", "url", "notebook"):
        return "links"
    return FIELDS.get(text)


def metric_name(key: str) -> str:
    """An epoch line's key as our metric name: 'val_top1' -> 'val/top1', 'valid_loss' -> 'val/loss'; a key
    with a '/' is a name already; a key without a known split stays as written."""
    if "/" in key:
        return key
    head, sep, rest = key.partition("_")
    return f"{SPLIT_WORDS[head.lower()]}/{rest}" if sep and rest and head.lower() in SPLIT_WORDS else key


def end_of_run_name(key: str) -> str:
    """An end-of-run key as our metric name: with a split as ``metric_name``, without one under test/."""
    name = metric_name(key)
    return name if name != key or "/" in key else f"test/{key}"


def export_key(name: str, *, end_of_run: bool = False) -> str:
    """The key the writer puts on a line for ``name``: 'val/top1' -> 'val_top1' when the reader maps it back
    to the same name, else the name itself, so every name survives the round trip."""
    read_back = end_of_run_name if end_of_run else metric_name
    candidate = name.replace("/", "_", 1)
    return candidate if read_back(candidate) == name else name


def format_number(value: float) -> str:
    """A logged value written so that reading it back gives the same float: '0.4172...', '8041', 'nan'."""
    if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def parse_number(text: str) -> tuple[float, bool] | None:
    """'41.74%' -> (41.74, True); '0.53' -> (0.53, False); not a number -> None."""
    match = _NUMBER_RE.match(text)
    if not match:
        return None
    return float(match.group(1)), bool(match.group(2))


def rounding(text: str) -> float:
    """Half a unit of the last digit of a number as written: '41.74%' -> 0.005, '1.235e+04' -> 5.0, '8041' ->
    0.5; a value read back from it is right when it is within this of the true one."""
    match = re.match(r"\s*[-+]?\d*(?:\.(\d*))?(?:[eE]([-+]?\d+))?", text)
    digits = len(match.group(1) or "") if match else 0
    exponent = int(match.group(2)) if match and match.group(2) else 0
    return 0.5 * 10.0 ** (exponent - digits)


def normalise(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def label_metric(label: str, names: list[str], prefer: tuple[str, ...], *, create: bool = True) -> str | None:
    """The metric a label written by hand names, among the run's ``names``: 'Best Top-1 Accuracy' (with prefer
    ('val', ...)) -> 'val/top1', 'Hierarchical Consistency' -> 'test/hierarchical_consistency' when logged.
    A label naming a known metric that the run did not log gives it under the first preferred split (with
    ``create``; else None); a label that names nothing known gives None."""
    label = re.sub(r"\([^)]*\)", " ", label).strip()
    if "/" in label and " " not in label:
        return label
    words = re.findall(r"[A-Za-z0-9]+", label)
    if words and words[0].lower() == "best":
        words = words[1:]
    split = SPLIT_WORDS.get(words[0].lower()) if words else None
    key = normalise("".join(words[1:] if split else words))
    whole = normalise("".join(words))  # 'Test Set Size' names a measure whose first word is a split's
    splits = (split,) if split and whole not in SYNONYMS else prefer
    shorts = [s for s in (key, SYNONYMS.get(whole), SYNONYMS.get(key), SYNONYMS.get(key.removesuffix("accuracy"))) if s]
    for short in shorts:
        for s in splits:
            found = [n for n in names if n.startswith(f"{s}/") and normalise(n.split("/", 1)[1]) == normalise(short)]
            if found:
                return found[0]
    known = SYNONYMS.get(whole) or SYNONYMS.get(key) or SYNONYMS.get(key.removesuffix("accuracy"))
    return f"{splits[0]}/{known}" if known and splits and create else None
