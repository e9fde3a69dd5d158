"""W&B's logging calls on top of core.tracking: a script written for wandb runs after changing only its import,

    from core import wandb_compat as wandb

``init`` starts a run in EXPLORER_RUNS_DIR (or ``dir``); ``project`` becomes the tag ``project:<name>`` (W&B's
project is a namespace; the explorer has one list of runs, filtered by tags), ``group``, ``name``, ``tags``,
``notes`` and ``config`` keep their meaning, ``job_type`` becomes the tag ``job:<type>``. ``log`` follows W&B's
step rules (an internal step that ``commit`` advances, or an explicit ``step``); numbers become metrics,
``Table`` a table, ``Image`` a file under artifacts/media/ listed in the table ``media/<key>``.
``define_metric(name, goal="minimize")`` feeds the explorer's metric semantics (wildcards such as ``"val/*"``
too). Whatever is not supported raises an error that names it. Standard library only, like core.tracking.
"""

from __future__ import annotations

import fnmatch
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from core import runfolder, tracking

SUPPORTED = ("init", "log", "config", "summary", "define_metric", "Table", "Image", "finish", "run")
_PLAIN = frozenset({float, int})  # values that need no inspection before core.tracking checks them
_GOALS = {"minimize": "min", "maximize": "max", "min": "min", "max": "max"}
_INIT_KEYS = {"project", "group", "name", "config", "tags", "notes", "job_type", "dir", "mode", "reinit"}


class UnsupportedError(NotImplementedError):
    """A W&B feature this module does not provide; the message names it and what is supported."""


def _unsupported(what: str) -> UnsupportedError:
    return UnsupportedError(f"{what} is not supported by core.wandb_compat; supported: {', '.join(SUPPORTED)}")


class Config(Mapping[str, Any]):
    """``wandb.config``: attribute and dict access; every change is written to the run's config.json."""

    def __init__(self, run: tracking.Run | None = None, values: Mapping[str, Any] | None = None) -> None:
        object.__setattr__(self, "_run", run)
        object.__setattr__(self, "_values", dict(values or {}))

    def update(self, values: Mapping[str, Any] | None = None, allow_val_change: bool = True, **more: Any) -> None:
        self._values.update({**(values or {}), **more})
        self._write()

    def __getattr__(self, key: str) -> Any:
        try:
            return self._values[key]
        except KeyError:
            raise AttributeError(f"config has no key {key!r}; it has {sorted(self._values)}") from None

    def __setattr__(self, key: str, value: Any) -> None:
        self.update({key: value})

    def __setitem__(self, key: str, value: Any) -> None:
        self.update({key: value})

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def as_dict(self) -> dict[str, Any]:
        return dict(self._values)

    def _write(self) -> None:
        if self._run is not None:
            self._run.update_config(self._values)


class Table:
    """``wandb.Table(columns=[...], data=[[...], ...])``, stored as a table of row objects."""

    def __init__(self, columns: list[str] | None = None, data: list[list[Any]] | None = None,
                 dataframe: Any = None) -> None:  # fmt: skip
        if dataframe is not None:
            columns, data = [str(c) for c in dataframe.columns], dataframe.values.tolist()
        self.columns = list(columns or [])
        self.data = [list(row) for row in (data or [])]

    def add_data(self, *row: Any) -> None:
        if len(row) != len(self.columns):
            raise ValueError(f"a row of {len(row)} values for {len(self.columns)} columns {self.columns}")
        self.data.append(list(row))

    def rows(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row)) for row in self.data]


class Image:
    """``wandb.Image(path_or_image, caption=...)``: a file path, a PIL image, or an (H, W[, C]) uint8 array."""

    def __init__(self, data_or_path: Any, caption: str | None = None) -> None:
        self.data, self.caption = data_or_path, caption

    def save(self, dest: Path) -> Path:
        """Write the image under ``dest`` (its suffix added) and return the file."""
        if isinstance(self.data, str | Path):
            source = Path(self.data)
            if not source.is_file():
                raise FileNotFoundError(f"wandb.Image: no image file {source}")
            target = dest.with_suffix(source.suffix or ".png")
            shutil.copyfile(source, target)
            return target
        image = self.data
        if not hasattr(image, "save"):  # an array: PIL draws it (the app installs Pillow)
            try:
                from PIL import Image as PILImage
            except ImportError as exc:
                raise _unsupported("wandb.Image of an array without Pillow installed (pip install pillow)") from exc
            image = PILImage.fromarray(image)
        target = dest.with_suffix(".png")
        image.save(target)
        return target


class Run:
    """What ``wandb.init`` returns: id, name, dir, config, summary, log, define_metric, finish."""

    def __init__(self, run: tracking.Run | None, config: Config, project: str | None) -> None:
        self._run, self.config, self.project = run, config, project
        self.summary: dict[str, Any] = {}
        self._set_summary: dict[str, Any] = {}
        self._step = 0
        self._pending: dict[str, Any] = {}
        self._globs: dict[str, str] = {}
        self._defined: set[str] = set()

    @property
    def id(self) -> str:
        return self._run.id if self._run else "disabled"

    @property
    def name(self) -> str:
        meta = runfolder.read_json(self._run.dir / runfolder.META_FILE, {}) if self._run else {}
        return str((meta or {}).get("name") or self.id)

    @property
    def dir(self) -> str:
        return str(self._run.dir) if self._run else ""

    @property
    def step(self) -> int:
        return self._step

    def log(self, data: Mapping[str, Any], step: int | None = None, commit: bool | None = None) -> None:
        """W&B's rules: without ``step`` the values go to the current step, which ``commit`` (default True)
        then advances; with ``step`` they go to that step (and later steps follow it)."""
        if step is not None and step != self._step:
            if self._pending:
                self._flush()
            self._step = int(step)
        plain = _PLAIN.issuperset(map(type, data.values()))  # numbers only (checked at C speed)
        if plain and commit is not False and not self._pending:  # the usual call: logged as it is, at once
            self._log_numbers(data)
            self._step += 1
            return
        self._pending.update(data if plain else _flatten(data))
        if commit is not False:
            self._flush()
            self._step += 1

    def define_metric(self, name: str, step_metric: str | None = None, goal: str | None = None,
                      summary: str | None = None, hidden: bool | None = None, **rest: Any) -> None:  # fmt: skip
        """``goal="minimize"|"maximize"`` says which way is better (wildcards such as ``"val/*"`` allowed)."""
        for key, value in (("step_metric", step_metric), ("summary", summary), ("hidden", hidden), *rest.items()):
            if value is not None:
                raise _unsupported(f"define_metric({key}=...)")
        if goal is None:
            return
        if goal not in _GOALS:
            raise ValueError(f"goal must be 'minimize' or 'maximize', got {goal!r}")
        if "*" in name or "?" in name:
            self._globs[name] = _GOALS[goal]
        elif self._run:
            self._run.define_metric(name, goal=_GOALS[goal])
            self._defined.add(name)

    def finish(self, exit_code: int | None = None, quiet: bool | None = None) -> None:
        """Log what ``summary`` was given by hand at the last step, then end the run (failed for a nonzero exit)."""
        self._flush()
        numbers = {k: v for k, v in self._set_summary.items() if _is_number(v)}
        if self._run:
            if numbers:
                self._run.log(numbers, step=max(self._step - 1, 0))
            self._run.finish("succeeded" if not exit_code else "failed",
                             error=None if not exit_code else f"exit code {exit_code}")  # fmt: skip

    def __enter__(self) -> Run:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        self.finish(exit_code=1 if exc is not None else None)

    def _log_numbers(self, data: Mapping[str, Any]) -> None:
        if self._run is None:
            return
        if self._globs:
            self._define_from_globs(data)
        self._run.log(data, step=self._step)
        self.summary.update(data)

    def _flush(self) -> None:
        data, self._pending = self._pending, {}
        if not data or self._run is None:
            return
        if _PLAIN.issuperset(map(type, data.values())):  # numbers only, logged as they are
            self._log_numbers(data)
            return
        numbers: dict[str, Any] = {}
        for key, value in data.items():
            if isinstance(value, Table):
                self._run.log_table(key, value.rows())
            elif isinstance(value, Image | list) and _images(value):
                self._save_images(key, _images(value))
            elif _is_number(value):
                numbers[key] = value
            else:
                raise _unsupported(f"logging {type(value).__name__} values (key {key!r})")
        if self._globs:
            self._define_from_globs(numbers)
        if numbers:
            self._run.log(numbers, step=self._step)
            self.summary.update(numbers)

    def _define_from_globs(self, numbers: Mapping[str, Any]) -> None:
        for key in numbers:
            if key in self._defined:
                continue
            goal = next((g for pattern, g in self._globs.items() if fnmatch.fnmatchcase(key, pattern)), None)
            if goal and self._run:
                self._run.define_metric(key, goal=goal)
            self._defined.add(key)

    def _save_images(self, key: str, images: list[Image]) -> None:
        assert self._run is not None
        table = f"media/{key}"
        existing = runfolder.read_json(runfolder.table_file(self._run.dir, table), {}) or {}
        rows = list(existing.get("rows", []))
        for i, image in enumerate(images):
            dest = self._run.artifact_path(f"media/{key}/{self._step}_{i}")
            saved = image.save(dest)
            rows.append({"step": self._step, "file": str(saved.relative_to(self._run.dir)), "caption": image.caption})
        self._run.log_table(table, rows)


class _Summary(dict):
    """``run.summary``: the last logged values; keys set by hand are logged at the end."""

    def __init__(self, owner: Run) -> None:
        super().__init__()
        self._owner = owner

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        self._owner._set_summary[key] = value


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts become "a/b" keys, as W&B shows them."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if type(value) is not float and isinstance(value, Mapping):
            out.update(_flatten(value, f"{name}/"))
        else:
            out[name] = value
    return out


def _images(value: Any) -> list[Image]:
    items = value if isinstance(value, list) else [value]
    return items if items and all(isinstance(v, Image) for v in items) else []


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return True
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return not isinstance(value, str | bytes)


# -- the module-level API ---------------------------------------------------------------------------------
run: Run | None = None
config: Config = Config()
summary: dict[str, Any] = {}


def init(**kwargs: Any) -> Run:
    """Start a run as ``wandb.init`` does (project, group, name, config, tags, notes, job_type, dir, mode)."""
    global run, config, summary
    unknown = sorted(set(kwargs) - _INIT_KEYS)
    if unknown:
        raise _unsupported("wandb.init(" + ", ".join(f"{k}=..." for k in unknown) + ")")
    if run is not None:
        run.finish()
    project, job = kwargs.get("project"), kwargs.get("job_type")
    tags = [*(kwargs.get("tags") or ()), *([f"project:{project}"] if project else []), *([f"job:{job}"] if job else [])]
    values = dict(kwargs.get("config") or {})
    if kwargs.get("mode") == "disabled":
        opened = None
    else:
        opened = tracking.start(name=kwargs.get("name"), group=kwargs.get("group"), config=values, tags=tags,
                                notes=kwargs.get("notes") or "", runs_dir=kwargs.get("dir"))  # fmt: skip
    config = Config(opened, values)
    run = Run(opened, config, project)
    run.summary = summary = _Summary(run)
    return run


def log(data: Mapping[str, Any], step: int | None = None, commit: bool | None = None) -> None:
    _current().log(data, step=step, commit=commit)


def define_metric(name: str, **kwargs: Any) -> None:
    _current().define_metric(name, **kwargs)


def finish(exit_code: int | None = None, quiet: bool | None = None) -> None:
    global run
    if run is not None:
        run.finish(exit_code)
        run = None


def _current() -> Run:
    if run is None:
        raise RuntimeError("call wandb.init() before wandb.log(); (core.wandb_compat)")
    return run


def __getattr__(name: str) -> Any:
    raise AttributeError(f"wandb.{name} is not supported by core.wandb_compat; supported: {', '.join(SUPPORTED)}")
