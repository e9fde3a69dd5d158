"""The logic behind the Launch page's form: fields from the recipe's config, per-field validation, clone
diffs, seeds and sweeps, and the request key that makes a double click launch once."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from core import launcher
from core.launcher import sweeps
from core.recipes import ConfigError, FieldSpec, describe, from_dict, get_recipe, list_recipes, to_dict
from core.recipes.config import SECTIONS, check_value, parse_text
from core.recipes.registry import objective_direction
from core.runfolder.paths import runs_dir
from core.store import Store, queries


def fields(recipe: str) -> list[FieldSpec]:
    return describe(get_recipe(recipe).config_cls)


def sections(recipe: str) -> list[tuple[str, list[FieldSpec]]]:
    """The form's sections (model, data, optimisation, schedule, regularisation, run: ``SECTIONS``) in that order,
    each with its fields in the order the config declares them; a section the recipe has no field in is left out."""
    specs = fields(recipe)
    titled = [(name[:1].upper() + name[1:], [s for s in specs if s.section == name]) for name in SECTIONS]
    return [(title, members) for title, members in titled if members]


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
            objective=objective.strip() or get_recipe(recipe).objective, direction=direction, group=group or None)],
            start=True)[0]
    sets = sweeps.expand(checked.overrides, sweeps.parse_space(sweep_text.splitlines()), kind, trials, seeds)
    group_name = group or sweeps.default_group(name, recipe, len(sets))
    labels = launcher.RunLabels(name=name or None, group=group_name, changes=changes, reason=reason)
    return launcher.launch_many(recipe, sets, labels=labels, request_id=key)


# -- the page's form state -------------------------------------------------------------------------------
# The form's session-state keys besides the config fields (FormState.key) and the widgets of OPTIONS.
NONCE, BASE, BASE_RECIPE, CLONE, ERRORS, RESULT, RECIPE = (
    "launch_nonce", "launch_base", "launch_base_recipe", "launch_clone", "launch_errors", "launch_result",
    "launch_recipe")  # fmt: skip
AUTO_CHANGES, LAUNCHED, LAUNCHED_IDS = "launch_auto_changes", "launch_launched", "launch_launched_ids"
OBJECTIVE, DIRECTION, AUTO_OBJECTIVE = "launch_objective", "launch_direction", "launch_auto_objective"
LAUNCHED_HELP = ("This form was just launched: pressing Launch again does nothing (a double click launches once). "
                 "Change a field to launch something else, or use 'Launch the same again'.")
# The widgets beside the config fields (labels, seeds and sweep) by session-state key, with their defaults.
OPTIONS = {"launch_name": "", "launch_group": "", "launch_changes": "", "launch_reason": "", "launch_seeds": 1,
           "launch_sweep": "", "launch_kind": "grid", "launch_trials": 8, "launch_objective": "",
           "launch_direction": "maximize"}  # the objective and direction follow the recipe: FormState.follow_objective


def clone_from_address(state: MutableMapping[str, Any], store: Store, run_id: str | None) -> str | None:
    """Point the form at a run named in the address (``?clone=ID``, the Run page's Clone): its recipe and config.

    Returns:
        None when done (or nothing asked), else why the run cannot be cloned.
    """
    if not run_id:
        return None
    meta = queries.runs_meta(store, [run_id])
    recipes = {r.name for r in list_recipes()}
    if meta.empty or meta["recipe"].iloc[0] not in recipes:
        return f"cannot clone {run_id!r}: no recipe run with that id; pick one under 'Clone from a run'"
    state[RECIPE], state[CLONE] = meta["recipe"].iloc[0], run_id
    state.pop(BASE_RECIPE, None)  # the form loads the clone on its next follow_recipe
    state["launch_group"] = state.get("launch_group") or str(meta["group"].iloc[0] or "")
    return None


def recipe_help() -> str:
    return "; ".join(f"{r.name}: {r.description}" for r in list_recipes())


def clone_choices(store: Store, recipe: str, keep: str | None = None, limit: int = 200) -> dict[str, str]:
    """The runs of ``recipe`` the form can start from, newest first, and ``keep`` (the run being cloned, however
    old): id -> label; "" stands for the defaults."""
    clones = queries.newest_runs(store, [keep] if keep else [], limit, recipe=[recipe])
    return {"": "— defaults —", **{r: f"{n} ({r[-6:]}, {s})" for r, n, s in
                                  zip(clones["id"], clones["name"], clones["status"])}}


def widget_of(spec: FieldSpec) -> str:
    """How a field is entered: "check" (a flag), "choice" (a fixed set of values) or "text" (parsed)."""
    if spec.kinds == (bool,):
        return "check"
    return "choice" if spec.choices else "text"


def choices_of(spec: FieldSpec) -> list[str]:
    return [as_text(c) for c in spec.choices or ()]


def field_help(spec: FieldSpec) -> str:
    """The field's help with its range and default."""
    bounds = f" (range {spec.min} to {spec.max})" if spec.min is not None or spec.max is not None else ""
    return f"{spec.help}{bounds}. Default: {as_text(spec.default) or 'none'}."


def queue_place(row: Mapping[str, Any]) -> str:
    """Where a queue entry stands: its position and priority while queued, else its slot."""
    return f"#{row['position']} (priority {row['priority']})" if row["state"] == "queued" else str(row["slot"])


class FormState:
    """The Launch form kept in a dict-like session state (Streamlit's, or a plain dict in tests): the values it
    starts from (defaults or a cloned run's config), the field texts, what changed, and the launch result.

    Config fields live under ``key(field)``; booleans as booleans, every other value as the text the field
    shows (read back by the config's own parser).
    """

    def __init__(self, state: MutableMapping[str, Any], recipe: str, store: Store) -> None:
        self.state, self.recipe, self.store = state, recipe, store
        state.setdefault(NONCE, uuid.uuid4().hex)
        for key, value in OPTIONS.items():
            state.setdefault(key, value)

    def key(self, name: str) -> str:
        return f"cfg_{self.recipe}_{name}"

    def follow_recipe(self) -> None:
        """Start from the defaults (or the chosen clone) when the recipe is new to the form."""
        if self.state.get(BASE_RECIPE) != self.recipe:
            self.state[BASE_RECIPE] = self.recipe
            self.follow_objective()
            self.load_clone()

    def follow_objective(self) -> None:
        """The Bayesian objective becomes the recipe's (``val/mAP_identity`` for reid...), with the direction
        its goal asks for, unless the user wrote an objective of their own."""
        objective = get_recipe(self.recipe).objective
        if self.state.get(OBJECTIVE, "") in ("", self.state.get(AUTO_OBJECTIVE)):
            self.state[OBJECTIVE] = self.state[AUTO_OBJECTIVE] = objective
            self.follow_direction()

    def follow_direction(self) -> None:
        """The direction the objective's goal asks for (a loss is minimised): call when the objective changes."""
        self.state[DIRECTION] = objective_direction(self.state.get(OBJECTIVE) or get_recipe(self.recipe).objective)

    def objective_help(self) -> str:
        return (f"Metric a Bayesian sweep optimises; default: {self.recipe}'s {get_recipe(self.recipe).objective}. "
                "The direction follows from the name (a loss or error is minimised); change it after.")

    def load_clone(self) -> None:
        """Fill the fields with the chosen run's config (or the recipe's defaults)."""
        run_id = self.state.get(CLONE) or ""
        config = json.loads(queries.runs_meta(self.store, [run_id])["config"].iloc[0]) if run_id else None
        base = self.state[BASE] = defaults(self.recipe, config)
        for spec in fields(self.recipe):
            value = base[spec.name]
            self.state[self.key(spec.name)] = value if widget_of(spec) == "check" else as_text(value)

    @property
    def base(self) -> dict[str, Any]:
        return self.state[BASE]

    @property
    def errors(self) -> dict[str, str]:
        """The last launch's error per field."""
        return self.state.get(ERRORS, {})

    @property
    def result(self) -> tuple[str, str] | None:
        """The last launch's outcome: ("success" or "error", message); None before any."""
        return self.state.get(RESULT)

    def values(self) -> dict[str, Any]:
        """What the fields hold now, by field name."""
        return {spec.name: self.state.get(self.key(spec.name)) for spec in fields(self.recipe)}

    def label(self, spec: FieldSpec) -> str:
        """The field's label, marked ● when its value differs from the clone's (or the default)."""
        differs = as_text(self.state.get(self.key(spec.name))) != as_text(self.base.get(spec.name))
        return spec.name + (" ●" if differs else "")

    def changes_text(self) -> str:
        """'Changed: `key` old → new, ...' against the clone (or the defaults); "" when nothing changed."""
        changes = changed(self.recipe, self.values(), self.base)
        if not changes:
            return ""
        return "Changed: " + ", ".join(f"`{k}` {as_text(a)} → {as_text(b)}" for k, (a, b) in changes.items())

    def fill_changes(self) -> None:
        """Pre-fill "Changes" with the diff against the clone (or the defaults), as long as the user has not
        written their own: call before the Changes box is drawn."""
        changes = changed(self.recipe, self.values(), self.base)
        auto = ", ".join(f"{k} {as_text(a)} → {as_text(b)}" for k, (a, b) in changes.items())
        if self.state.get("launch_changes", "") in ("", self.state.get(AUTO_CHANGES)):
            self.state["launch_changes"] = auto
        self.state[AUTO_CHANGES] = auto

    def fingerprint(self) -> str:
        """What the form holds (recipe, fields, labels, seeds and sweep), as one text."""
        options = {k: self.state.get(k) for k in OPTIONS}
        return json.dumps({"recipe": self.recipe, **self.values(), **options}, sort_keys=True, default=str)

    @property
    def already_launched(self) -> bool:
        """The form holds exactly what was just launched: Launch would only repeat it."""
        return self.state.get(LAUNCHED) == self.fingerprint()

    @property
    def launched_ids(self) -> list[str]:
        """The runs the last successful launch queued (for links to them)."""
        return list(self.state.get(LAUNCHED_IDS, []))

    def launch(self) -> None:
        """The launch button: check every field, and queue only when all are valid; the result is kept."""
        form = self.values()
        checked = check(self.recipe, form)
        self.state[ERRORS] = checked.errors
        if not checked.ok:
            self.state[RESULT] = ("error", checked.general or "Fix the fields marked in red, then launch again.")
            return
        ss = self.state
        try:
            launched = submit(
                self.recipe, form, name=ss["launch_name"], group=ss["launch_group"], changes=ss["launch_changes"],
                reason=ss["launch_reason"], seeds=int(ss["launch_seeds"]), sweep_text=ss["launch_sweep"],
                kind=ss["launch_kind"], trials=int(ss["launch_trials"]), objective=ss[OBJECTIVE],
                direction=ss[DIRECTION], nonce=ss[NONCE])
        except ValueError as exc:  # config, dataset and sweep errors carry a message saying what to fix
            self.state[RESULT] = ("error", str(exc))
            return
        ids = [launched] if isinstance(launched, str) else launched
        self.state[RESULT] = ("success", f"Queued {len(ids)}: " + ", ".join(f"`{i}`" for i in ids))
        self.state[LAUNCHED], self.state[LAUNCHED_IDS] = self.fingerprint(), ids

    def launch_again(self) -> None:
        """A second, separate launch of the same form (a double click of Launch launches once)."""
        self.state[NONCE] = uuid.uuid4().hex
        self.launch()
