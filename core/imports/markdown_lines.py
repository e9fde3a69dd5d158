"""Reading the lines of an experiment log's Metrics and Results sections into what an experiment holds:
epoch lines, end-of-run values, per-make accuracies, per-epoch lists, stated best values and evaluation
blocks. Each function reads one line and says what it found, or why it could not read it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.imports.logformat import NUMBER, PER_MAKE_PREFIX, parse_number

_EPOCH = re.compile(r"^\s*[-*]?\s*Epoch\s+(\d+)(?:\s*/\s*\d+)?\s*[:\-–]?\s*(.*)$", re.IGNORECASE)
_PAIR = re.compile(rf"([A-Za-z][\w./@-]*)\s*[=:]\s*({NUMBER})\s*(%?)", re.IGNORECASE)
_ITEM = re.compile(r"^\s*[-*]\s+(?P<key>[^:=]+?)\s*[:=]\s*(?P<value>.+?)\s*$")
_COUNTS = re.compile(rf"^({NUMBER})\s*(%?)\s*(?:\(\s*(\d+)\s*/\s*(\d+)\s*\))?$", re.IGNORECASE)
_STATEMENT = re.compile(
    rf"(?P<label>[A-Za-z][^=,;]*?)\s*=\s*(?P<num>{NUMBER})\s*(?P<pct>%?)(?P<points>\s*(?:points|pts)\b)?"
    r"(?:\s*\(epoch\s+(?P<epoch>\d+)\))?",
    re.IGNORECASE,
)
_EVALUATION = re.compile(rf"^\s*(?:[-*]\s*)?(?:\d+[.)]\s*)?(?P<label>[A-Za-z][^:=]*?)\s*:\s*(?P<num>{NUMBER})\s*"
                         r"(?P<pct>%?)(?P<rest>.*)$", re.IGNORECASE)  # fmt: skip
_PROSE = re.compile(
    r"(?P<label>(?:(?:highest|peak|best|mean|lowest|final)\s+)?(?:(?:validation|val|test|identity-balanced)\s+)?"
    r"(?:mAP|top-?1|rank-?1|accuracy))\s*(?:\(|\bof\s+)\s*(?:\$?\\approx\$?|≈|~)?\s*(?P<num>\d*\.\d+|\d+)\s*"
    r"(?P<pct>%?)\s*(?:(?:\$?\\pm\$?|±)\s*(?P<pm>\d*\.\d+|\d+))?",
    re.IGNORECASE,
)
_DECORATION = re.compile(r"^[\s\-=*_#|]*$|^\s*-{2,}.*-{2,}\s*$")
_DERIVED = re.compile(r"wilson|^\s*[-*]\s*(?:finding\b|\(?(?:error|warning|info)\b)", re.IGNORECASE)


@dataclass(frozen=True)
class Value:
    """A number read from a line: its text as written, the value, and whether it had a % sign."""

    text: str
    value: float
    percent: bool


@dataclass(frozen=True)
class Statement:
    """'Best Top-1 Accuracy = 41.74%' or '2. Make/Brand Accuracy (Easy): 52.82%', as read."""

    kind: str  # "best", "stated" (label = value) or "evaluation" (label: value)
    label: str
    value: Value
    epoch: int | None = None


def is_decoration(line: str) -> bool:
    """Blank lines, rules and banners such as '--- Starting Phase 1 Baseline Evaluation ---'."""
    return bool(_DECORATION.match(line))


def is_derived(line: str) -> bool:
    """Lines the writer computes from the data (Wilson intervals, findings): recomputed, not imported."""
    return bool(_DERIVED.search(line))


def epoch_line(line: str) -> tuple[int, list[tuple[str, Value]], str] | None:
    """'- Epoch 3: train_loss=2.49, val_top1=31.6' -> (3, [(key, value)...], text left unread); None if the
    line is not an epoch line."""
    match = _EPOCH.match(line)
    if not match:
        return None
    rest = match.group(2)
    pairs = [(m.group(1), Value(m.group(2), float(m.group(2)), bool(m.group(3)))) for m in _PAIR.finditer(rest)]
    left = _PAIR.sub(" ", rest)
    return int(match.group(1)), pairs, re.sub(r"[\s,;|\-–]+", " ", left).strip()


def item_line(line: str) -> tuple[str, str] | None:
    """'- key: value' or '- key = value' -> (key, value text); None for other lines."""
    match = _ITEM.match(line)
    return (match.group("key").strip(), match.group("value")) if match else None


def per_make_row(key: str, text: str) -> dict | None:
    """'accuracy_Land Rover', '0.64 (9/14)' -> {make, correct, total, accuracy}; None if not a per-make line."""
    if not key.startswith(PER_MAKE_PREFIX) or len(key) == len(PER_MAKE_PREFIX):
        return None
    match = _COUNTS.match(text.strip())
    if not match:
        return None
    correct, total = (int(match.group(3)), int(match.group(4))) if match.group(3) else (None, None)
    return {"make": key[len(PER_MAKE_PREFIX) :], "correct": correct, "total": total, "accuracy": float(match.group(1))}


def number_list(text: str) -> list[Value] | None:
    """'[16.9, 26.8, 31.6]' or '16.9, 26.8, 31.6' -> the values; None unless it is a list of two or more."""
    inner = text.strip()
    bracketed = inner.startswith("[") and inner.endswith("]")
    parts = [p.strip() for p in inner.strip("[]").split(",")]
    if len(parts) < 2 and not bracketed:
        return None
    values = [parse_number(p) for p in parts if p]
    if not values or any(v is None for v in values):
        return None
    return [Value(p, v[0], v[1]) for p, v in zip([p for p in parts if p], values) if v is not None]


def list_key(key: str) -> str:
    """'val_top1 per epoch' -> 'val_top1'; '(per epoch)' and 'per-epoch' are words around the key."""
    return re.sub(r"\(?\s*per[\s-]epoch\s*\)?", "", key, flags=re.IGNORECASE).strip()


def single_value(text: str) -> Value | None:
    parsed = parse_number(text)
    return Value(text.strip(), parsed[0], parsed[1]) if parsed else None


def statements(line: str) -> tuple[list[Statement], str]:
    """Every 'label = value' on a line (best values when the line starts with 'Best'), and what is left."""
    body = re.sub(r"^\s*[-*]\s*", "", line)
    kind = "best" if body.lower().startswith("best") else "stated"
    found = []
    for m in _STATEMENT.finditer(body):
        label = m.group("label").strip()
        epoch = int(m.group("epoch")) if m.group("epoch") else None
        found.append(Statement("best" if label.lower().startswith("best") else kind, label,
                               Value(m.group("num"), float(m.group("num")), _percent(m)), epoch))  # fmt: skip
    return found, _STATEMENT.sub(" ", body).strip(" ,;.")


def evaluation(line: str) -> tuple[Statement, str] | None:
    """'1. Exact Car Accuracy (Hard):  41.72%  (Target for fine-tuning)' -> the statement and the rest."""
    m = _EVALUATION.match(line)
    if not m:
        return None
    rest = m.group("rest").strip()
    percent = bool(m.group("pct")) and not re.match(r"(points|pts)\b", rest, re.IGNORECASE)
    value = Value(m.group("num"), float(m.group("num")), percent)
    return Statement("evaluation", m.group("label").strip(), value), rest


def prose_values(text: str) -> list[dict]:
    """Values stated in sentences ('the peak mAP (0.8860)', 'mean mAP of 0.9379'), as stated-table rows."""
    rows = []
    for m in _PROSE.finditer(text):
        rows.append({"kind": "prose", "label": m.group("label"), "value": float(m.group("num")),
                     "percent": bool(m.group("pct")), "plus_minus": float(m.group("pm")) if m.group("pm") else None,
                     "text": m.group(0).strip()})  # fmt: skip
    return rows


def _percent(match: re.Match[str]) -> bool:
    """'41.7%' is a percent; '11.09% points' is a difference in points, not a share."""
    return bool(match.group("pct")) and not match.group("points")


def has_digits(text: str) -> bool:
    return bool(re.search(r"\d", text))
