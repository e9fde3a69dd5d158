"""Typed recipe configs: dataclass fields with help text, choices and ranges, parsed and checked in one place.

A recipe's config is a frozen dataclass deriving from :class:`RecipeConfig` whose fields are made with
:func:`option`, each in one of the launch form's :data:`SECTIONS`. The launch form is generated from
:func:`describe`; ``config.json`` round-trips through :func:`to_dict` / :func:`from_dict`; the CLI's
``key=value`` overrides go through :func:`parse_overrides`. Field types are JSON primitives: ``int``, ``float``,
``bool``, ``str``, a union of them (``bool | str`` for "false / true / a path"), or one of them ``| None``.
Torch is never imported here (pages use this module).
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

_META_KEY = "explorer"
_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")
_NONE = ("", "none", "null")
_SUPPORTED = (bool, int, float, str, type(None))

C = TypeVar("C", bound="RecipeConfig")
# The launch form's sections, in the form's order; every config field belongs to one (``option(section=...)``).
SECTIONS = ("model", "data", "optimisation", "schedule", "regularisation", "run")
Choices = Sequence[Any] | Callable[[], Sequence[Any]]


class ConfigError(ValueError):
    """A config key or value that is not allowed; the message names it and says what is allowed."""


def option(
    default: Any,
    *,
    help: str,
    section: str,
    choices: Choices | None = None,
    min: float | None = None,
    max: float | None = None,
) -> Any:
    """A config field with its default, help text and allowed values.

    Args:
        default: the default value (a JSON primitive; lists and dicts are not supported).
        help: one sentence for the launch form and ``python -m core recipes``.
        section: where the launch form shows the field: one of :data:`SECTIONS` (``run``: settings that do
            not change what is learned, such as the device, threads, seed and smoke-test limits).
        choices: the allowed values, or a function returning them (resolved when checked, so a registry
            filled later, such as the datasets, is seen).
        min, max: inclusive bounds for numbers.
    """
    if isinstance(default, (list, dict, set)):
        raise TypeError(f"option default {default!r} must be a JSON primitive (int, float, bool, str or None)")
    if section not in SECTIONS:
        raise TypeError(f"option section {section!r} is not a launch form section; use one of: {', '.join(SECTIONS)}")
    meta = {"help": help, "section": section, "choices": choices, "min": min, "max": max}
    return dataclasses.field(default=default, metadata={_META_KEY: meta})


@dataclasses.dataclass(frozen=True)
class FieldSpec:
    """What the launch form needs to know about one config field."""

    name: str
    type: str  # "int", "float", "bool", "str", or a union such as "bool | str", "str | None"
    default: Any
    help: str
    section: str  # one of SECTIONS
    choices: tuple[Any, ...] | None = None
    min: float | None = None
    max: float | None = None
    kinds: tuple[type, ...] = ()  # the Python types allowed, in the order text is tried against them


class RecipeConfig:
    """Base of recipe configs: every value is checked when the dataclass is built.

    Subclasses are ``@dataclass(frozen=True)`` with :func:`option` fields and may override :meth:`check`
    for rules between fields (raise ConfigError there).
    """

    def __post_init__(self) -> None:
        for spec in describe(type(self)):
            object.__setattr__(self, spec.name, check_value(spec, getattr(self, spec.name)))
        self.check()

    def check(self) -> None:
        """Rules that involve several fields; raise ConfigError naming the keys and the fix."""


def describe(cls: type) -> list[FieldSpec]:
    """The fields of a config class, in declaration order, with types, defaults, help and bounds."""
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass; recipe configs are @dataclass(frozen=True) classes")
    hints = typing.get_type_hints(cls)
    specs = []
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        meta = f.metadata.get(_META_KEY, {})
        kinds = _kinds(hints[f.name], f"{cls.__name__}.{f.name}")
        choices = meta.get("choices")
        if callable(choices):
            choices = choices()
        specs.append(
            FieldSpec(
                name=f.name,
                type=" | ".join("None" if k is type(None) else k.__name__ for k in kinds),
                default=None if f.default is dataclasses.MISSING else f.default,
                help=meta.get("help", ""),
                section=_section(meta, f"{cls.__name__}.{f.name}"),
                choices=tuple(choices) if choices is not None else None,
                min=meta.get("min"),
                max=meta.get("max"),
                kinds=kinds,
            )
        )
    return specs


def _section(meta: Mapping[str, Any], where: str) -> str:
    if meta.get("section") not in SECTIONS:
        raise TypeError(f"{where} has no launch form section; make it with option(..., section=...), one of: "
                        f"{', '.join(SECTIONS)}")
    return meta["section"]


def _kinds(annotation: Any, where: str) -> tuple[type, ...]:
    """The primitive types an annotation allows, bool before int (a bool is an int to Python)."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        members = typing.get_args(annotation)
    else:
        members = (annotation,)
    if not members or any(m not in _SUPPORTED for m in members):
        raise TypeError(f"{where}: type {annotation!r} is not supported; use int, float, bool, str or a union")
    return tuple(sorted(members, key=_SUPPORTED.index))


def check_value(spec: FieldSpec, value: Any) -> Any:
    """``value`` normalised for ``spec`` (an int for a float field becomes a float), or ConfigError."""
    value = _check_type(spec, value)
    if spec.choices is not None and value is not None and value not in spec.choices:
        allowed = ", ".join(map(str, spec.choices))
        raise ConfigError(f"{spec.name}={value!r} is not allowed; choose one of: {allowed}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if spec.min is not None and value < spec.min:
            raise ConfigError(f"{spec.name}={value} is below the minimum {spec.min}; {spec.help}")
        if spec.max is not None and value > spec.max:
            raise ConfigError(f"{spec.name}={value} is above the maximum {spec.max}; {spec.help}")
    return value


def _check_type(spec: FieldSpec, value: Any) -> Any:
    kinds = spec.kinds
    if value is None and type(None) in kinds:
        return None
    if isinstance(value, bool):
        if bool in kinds:
            return value
    elif isinstance(value, int):
        if int in kinds:
            return value
        if float in kinds:
            return float(value)
    elif isinstance(value, float):
        if not math.isfinite(value) and (int in kinds or float in kinds):
            raise ConfigError(f"{spec.name}={value} must be a finite number")
        if float in kinds:
            return value
        if int in kinds and value.is_integer():  # 3.0 from a JSON writer or a number widget
            return int(value)
    elif isinstance(value, str) and str in kinds:
        return value
    raise ConfigError(f"{spec.name}={value!r} has the wrong type: expected {_expected(spec)}")


def _expected(spec: FieldSpec) -> str:
    words = {bool: "true or false", int: "a whole number", float: "a number", str: "text", type(None): "none"}
    text = " or ".join(words[k] for k in spec.kinds)
    return f"{text} (one of: {', '.join(map(str, spec.choices))})" if spec.choices else text


def parse_text(spec: FieldSpec, text: str) -> Any:
    """Parse the text of a ``key=value`` override by the field's type, then check it like any value."""
    word = text.strip()
    low = word.lower()
    kinds = spec.kinds
    if type(None) in kinds and low in _NONE:
        return None
    if bool in kinds and (low in _TRUE or low in _FALSE):
        return check_value(spec, low in _TRUE)
    if int in kinds and (number := _number(int, word)) is not None:
        return check_value(spec, number)
    if float in kinds and (number := _number(float, word)) is not None:
        return check_value(spec, number)
    if str in kinds:
        return check_value(spec, word)
    raise ConfigError(f"{spec.name}={text!r}: expected {_expected(spec)}")


def _number(kind: type, word: str) -> Any:
    """``kind(word)`` or None when the text is not such a number."""
    try:
        return kind(word)
    except ValueError:
        return None


def to_dict(cfg: Any) -> dict[str, Any]:
    """The config as a JSON-ready dict, keys in declaration order."""
    return {f.name: getattr(cfg, f.name) for f in dataclasses.fields(cfg) if f.init}


def from_dict(cls: type[C], data: Mapping[str, Any]) -> C:
    """Build and check a config from a dict (e.g. config.json); missing keys take their defaults.

    Raises:
        ConfigError: an unknown key (the valid ones are listed), or a value of the wrong type, out of range
            or not among the choices.
    """
    if not isinstance(data, Mapping):
        raise ConfigError(f"a config must be a JSON object (key -> value), not {type(data).__name__}")
    specs = {s.name: s for s in describe(cls)}
    for key in data:
        if key not in specs:
            raise ConfigError(_unknown_key(str(key), specs))
    return cls(**dict(data))


def _unknown_key(key: str, specs: Iterable[str]) -> str:
    names = sorted(specs)
    close = difflib.get_close_matches(key, names, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown config key {key!r}; {hint}valid keys: {', '.join(names)}"


def parse_overrides(cls: type[C], overrides: Iterable[str], base: Mapping[str, Any] | None = None) -> C:
    """A config from ``base`` (default: the defaults) with ``key=value`` overrides applied.

    Raises:
        ConfigError: an item without ``=``, an unknown or repeated key, or a value its field does not allow.
    """
    if isinstance(overrides, str):
        overrides = [overrides]
    specs = {s.name: s for s in describe(cls)}
    values = dict(base or {})
    seen: set[str] = set()
    for item in overrides:
        key, sep, text = str(item).partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"override {item!r} must look like key=value, e.g. lr=0.001")
        if key not in specs:
            raise ConfigError(_unknown_key(key, specs))
        if key in seen:
            raise ConfigError(f"key {key!r} is given twice; give each key once")
        seen.add(key)
        values[key] = parse_text(specs[key], text)
    return from_dict(cls, values)


def diff(a: Any, b: Any) -> dict[str, tuple[Any, Any]]:
    """Keys whose values differ between two configs (or config dicts): key -> (value in a, value in b).

    A key present on one side only is reported with None on the other.
    """
    left = a if isinstance(a, Mapping) else to_dict(a)
    right = b if isinstance(b, Mapping) else to_dict(b)
    keys = list(left) + [k for k in right if k not in left]
    return {k: (left.get(k), right.get(k)) for k in keys if left.get(k) != right.get(k) or (k in left) != (k in right)}
