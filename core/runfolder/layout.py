"""The run folder, source of truth of a run: its layout, ids, and the small JSON records inside it.

``<runs dir>/<run id>/`` holds ``meta.json`` (name, group, recipe, tags, created, notes), ``config.json``,
``status.json``, the append-only ``metrics.log``, ``tables/<name>.json``, ``artifacts/``, ``checkpoints/``
and ``console.log``. JSON records are replaced atomically (write a temporary file, then rename), so a reader
sees the old or the new record, never half of one.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

META_FILE = "meta.json"
CONFIG_FILE = "config.json"
STATUS_FILE = "status.json"
TABLES_DIR = "tables"
ARTIFACTS_DIR = "artifacts"
CHECKPOINTS_DIR = "checkpoints"
CONSOLE_FILE = "console.log"

STATUSES = ("queued", "starting", "running", "succeeded", "failed", "cancelled", "crashed")
FINAL_STATUSES = frozenset({"succeeded", "failed", "cancelled", "crashed"})
ACTIVE_STATUSES = frozenset({"starting", "running"})  # a process was started for the run and may still run
_RUN_ID = re.compile(r"^\d{8}-\d{6}-\d{3}-[0-9a-f]{6}$")


class RunNotFoundError(LookupError):
    """No run folder with that id (or unique id prefix)."""


def new_run_id(now: float | None = None) -> str:
    """A run id sortable by creation time and safe as a folder name: ``YYYYMMDD-HHMMSS-mmm-xxxxxx``."""
    now = time.time() if now is None else now
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(now))
    return f"{stamp}-{int(now * 1000) % 1000:03d}-{secrets.token_hex(3)}"


def is_run_id(text: str) -> bool:
    """True when ``text`` has the exact shape of a run id (so it is safe to join to a path)."""
    return bool(_RUN_ID.match(text))


def utc_now() -> str:
    """The current time as ISO 8601 in UTC, to the millisecond."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def iter_run_dirs(root: Path) -> Iterator[Path]:
    """Every run folder under ``root`` (folders named like run ids that hold a meta.json), oldest first."""
    names = sorted(e.name for e in os.scandir(root) if e.is_dir() and is_run_id(e.name))
    for name in names:
        path = root / name
        if (path / META_FILE).exists():
            yield path


def resolve_run_dir(root: Path, run: str) -> Path:
    """Find a run folder by id or unique id prefix (as `git` resolves short hashes)."""
    if is_run_id(run) and (root / run / META_FILE).exists():
        return root / run
    matches = [p for p in iter_run_dirs(root) if p.name.startswith(run) or p.name.endswith(run)] if run else []
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise RunNotFoundError(f"no run {run!r} in {root}; `python -m core ls` lists the run ids")
    raise RunNotFoundError(f"{run!r} matches {len(matches)} runs; give more characters of the id")


def write_json_atomic(path: Path, record: Any) -> None:
    """Replace ``path`` with ``record`` as JSON so that readers never see a partial file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(3)}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(record, f, default=_json_default, allow_nan=False, separators=(",", ":"))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_json(path: Path, default: Any = None) -> Any:
    """Read a JSON record; ``default`` when it is missing or unreadable (a reader must never crash)."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy and torch scalars
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot store a {type(value).__name__} as JSON; convert it to a number or text")


def sanitize_json(value: Any) -> Any:
    """Make a value strict JSON: non-finite floats become None (NaN is not JSON)."""
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, dict):
        return {k: sanitize_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [sanitize_json(v) for v in value]
    return value


def table_file(run_dir: Path, name: str) -> Path:
    """Where table ``name`` (e.g. ``test/per_make``) is stored: its name percent-encoded, so never a path."""
    if not name or len(name) > 200:
        raise ValueError(f"table name {name!r} must be 1 to 200 characters, e.g. 'test/per_make'")
    return run_dir / TABLES_DIR / f"{quote(name, safe='')}.json"


def table_name(path: Path) -> str:
    """The table name a file under ``tables/`` stores."""
    return unquote(path.name[: -len(".json")])


def safe_relative(name: str) -> Path:
    """Check that a user-given file name stays inside its folder (no absolute path, no '..')."""
    rel = Path(name)
    if not name or rel.is_absolute() or ".." in rel.parts:
        raise ValueError(f"file name {name!r} must be a relative path inside the run folder, without '..'")
    return rel


def list_artifacts(run_dir: Path) -> list[str]:
    """Names (relative paths) of the files a run saved under artifacts/ and checkpoints/."""
    names = []
    for sub in (ARTIFACTS_DIR, CHECKPOINTS_DIR):
        base = run_dir / sub
        if base.is_dir():
            names += [p.relative_to(run_dir).as_posix() for p in base.rglob("*") if p.is_file()]
    return sorted(names)


def update_meta(run_dir: Path, **fields: Any) -> dict[str, Any]:
    """Change user-editable labels of a run (notes, name, tags, changes, reason); returns the new meta."""
    editable = {"notes", "name", "tags", "changes", "reason", "group"}
    unknown = set(fields) - editable
    if unknown:
        raise ValueError(f"cannot edit {sorted(unknown)} of a run; editable: {sorted(editable)}")
    meta = read_json(run_dir / META_FILE, {}) or {}
    meta.update(fields)
    write_json_atomic(run_dir / META_FILE, meta)
    return meta


def tail_text(path: Path, lines: int = 60, max_bytes: int = 64 << 10) -> str:
    """The last ``lines`` lines of a text file (reads at most ``max_bytes`` from its end); '' if missing."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - max_bytes))
            data = f.read()
    except OSError:
        return ""
    return "\n".join(data.decode("utf-8", errors="replace").splitlines()[-lines:])
