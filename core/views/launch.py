"""The logic behind the Launch page's form: fields from the recipe's config, per-field validation, clone
diffs, seeds and sweeps, and the request key that makes a double click launch once."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from core import launcher
from core.launcher import sweeps
from core.recipes import ConfigError, FieldSpec, describe, from_dict, get_recipe, to_dict
from core.recipes.config import check_value, parse_text
from core.runfolder.paths import runs_dir


def fields(recipe: str) -> list[FieldSpec]:
    return describe(get_recipe(recipe).config_cls)


def defaults(recipe: str, clone: dict[str, Any] | None = None) -> dict[str, Any]:
    """The form's starting values: the recipe's defaults, or a cloned run's config (unknown keys dropped)."""
    values = {spec.name: spec.default for spec in fields(recipe)}
    if clone:
        values.update({k: v for k, v in clone.items() if k in values})
    return values


def as_text(value: Any) -> str:
    """How a value is shown in a text field (and read back by parse_text)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass
class Checked:
    """The form's values checked: overrides to launch with, or errors per field (and for the whole)."""

    overrides: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    general: str | None = None

    @property
    def ok(self) -> bool:
        return not self.errors and self.general is None


def check(recipe: str, raw: dict[str, Any]) -> Checked:
    """Check each field's raw widget value (text or typed), then the config as a whole."""
    result = Checked()
    values: dict[str, Any] = {}
    for spec in fields(recipe):
        try:
            value = raw.get(spec.name, spec.default)
            values[spec.name] = check_value(spec, parse_text(spec, value) if isinstance(value, str) else value)
        except ConfigError as exc:
            result.errors[spec.name] = str(exc)
    if result.errors:
        return result
    try:
        cfg = from_dict(get_recipe(recipe).config_cls, values)
    except ConfigError as exc:
        result.general = str(exc)
        return result
    result.overrides = [f"{k}={as_text(v)}" for k, v in to_dict(cfg).items()]
    return result


def changed(recipe: str, raw: dict[str, Any], base: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Fields whose current value differs from the clone's: key -> (clone's value, current value)."""
    out = {}
    for spec in fields(recipe):
        now = raw.get(spec.name)
        try:
            now = parse_text(spec, now) if isinstance(now, str) else now
        except ConfigError:
            pass  # an invalid value differs from any valid one
        if now != base.get(spec.name):
            out[spec.name] = (base.get(spec.name), now)
    return out


def request_key(payload: dict[str, Any], nonce: str) -> str:
    """The same form contents in the same form session give the same key: a double click or a page rerun
    launches once; 'launch again' changes the nonce."""
    text = json.dumps(payload, sort_keys=True, default=str) + nonce
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def submit(recipe: str, raw: dict[str, Any], *, name: str, group: str, changes: str, reason: str, seeds: int,
           sweep_text: str, kind: str, trials: int, objective: str, direction: str, nonce: str) -> list[str] | str:
    """Launch what the form describes. Returns the run ids (or a Bayesian sweep's id)."""
    checked = check(recipe, raw)
    if not checked.ok:
        raise ConfigError(checked.general or "; ".join(f"{k}: {v}" for k, v in checked.errors.items()))
    payload = {"recipe": recipe, "o": checked.overrides, "name": name, "group": group, "changes": changes,
               "reason": reason, "seeds": seeds, "sweep": sweep_text, "kind": kind, "trials": trials}
    key = request_key(payload, nonce)
    if kind == "bayes" and sweep_text.strip():
        root = runs_dir()
        return launcher.once(root, key, lambda: [sweeps.start_bayes(
            root, recipe, checked.overrides, sweeps.parse_space(sweep_text.splitlines()), n_trials=trials,
            objective=objective, direction=direction, group=group or None)], start=True)[0]
    sets = sweeps.expand(checked.overrides, sweeps.parse_space(sweep_text.splitlines()), kind, trials, seeds)
    group_name = group or sweeps.default_group(name, recipe, len(sets))
    return launcher.launch_many(recipe, sets, name=name or None, group=group_name, changes=changes, reason=reason,
                                request_id=key)
