"""The Launch form's state without Streamlit: defaults and clones fill the fields, edits are marked and
listed, a bad value is kept next to its field and launches nothing, a good form launches with the labels and
sweep settings, and 'launch again' is a new request."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core import tracking
from core.recipes import list_recipes, to_dict
from core.recipes.classify import ClassifyConfig
from core.store import Store
from core.views import launch as launchform


@pytest.fixture
def store(runs_root: Path) -> Iterator[Store]:
    with Store(runs_root, in_memory=True) as index:
        yield index


def _form(store: Store, state: dict[str, Any] | None = None) -> launchform.FormState:
    form = launchform.FormState({} if state is None else state, "classify", store)
    form.follow_recipe()
    return form


def _spec(name: str) -> Any:
    return next(s for s in launchform.fields("classify") if s.name == name)


def test_a_new_form_holds_the_defaults_as_field_text(store: Store) -> None:
    form = _form(store)
    assert form.state[form.key("lr")] == "0.002" and form.state[form.key("epochs")] == "30"
    assert form.state[form.key("channels_last")] is True  # a flag stays a boolean (a checkbox)
    assert form.state[form.key("data_root")] == ""  # None shows as an empty field
    assert form.state["launch_seeds"] == 1 and form.state["launch_kind"] == "grid"
    assert len(form.state[launchform.NONCE]) == 32
    assert form.label(_spec("lr")) == "lr" and form.changes_text() == ""


def test_an_edit_is_marked_and_listed_and_kept_across_reruns(store: Store) -> None:
    form = _form(store)
    form.state[form.key("lr")] = "0.01"
    assert form.label(_spec("lr")) == "lr ●" and form.label(_spec("epochs")) == "epochs"
    assert form.changes_text() == "Changed: `lr` 0.002 → 0.01"
    again = _form(store, form.state)  # the page's next run: same recipe, the edit stays
    assert again.state[again.key("lr")] == "0.01"


def test_a_clone_fills_the_fields_with_its_config_and_is_the_base(store: Store, runs_root: Path) -> None:
    with tracking.start(name="earlier", recipe="classify", runs_dir=runs_root,
                        config={"lr": 0.123, "epochs": 3, "heads": "multi", "from_an_old_version": 1}) as run:
        pass
    store.sync()
    assert launchform.clone_choices(store, "classify") == {"": "— defaults —",
                                                           run.id: f"earlier ({run.id[-6:]}, succeeded)"}
    with tracking.start(name="newer", recipe="classify", runs_dir=runs_root) as newer:
        pass
    with tracking.start(name="other recipe", recipe="reid", runs_dir=runs_root) as other:
        pass
    store.sync()
    assert list(launchform.clone_choices(store, "classify", limit=1)) == ["", newer.id]
    kept = launchform.clone_choices(store, "classify", keep=run.id, limit=1)  # the Run page's Clone of an old run
    assert list(kept) == ["", run.id, newer.id]
    assert other.id not in launchform.clone_choices(store, "classify", keep=other.id, limit=1)
    form = _form(store)
    form.state[launchform.CLONE] = run.id
    form.load_clone()
    assert [form.state[form.key(k)] for k in ("lr", "epochs", "heads", "batch_size")] == ["0.123", "3", "multi", "32"]
    assert "from_an_old_version" not in form.base
    assert form.changes_text() == "" and form.label(_spec("lr")) == "lr"
    form.state[form.key("lr")] = "0.002"  # back to the default: a change against the clone
    assert form.changes_text() == "Changed: `lr` 0.123 → 0.002"


def test_a_bad_value_is_kept_next_to_its_field_and_nothing_is_submitted(store: Store,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(launchform, "submit", lambda *a, **k: pytest.fail("submitted an invalid form"))
    form = _form(store)
    form.state[form.key("lr")] = "fast"
    form.launch()
    assert set(form.errors) == {"lr"}
    assert form.result == ("error", "Fix the fields marked in red, then launch again.")


def test_a_valid_form_launches_with_its_labels_and_sweep(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, dict[str, Any], dict[str, Any]]] = []

    def submit(recipe: str, raw: dict[str, Any], **options: Any) -> list[str]:
        calls.append((recipe, raw, options))
        return ["run-a", "run-b"]

    monkeypatch.setattr(launchform, "submit", submit)
    form = _form(store)
    form.state.update({form.key("epochs"): "2", "launch_name": "wide", "launch_seeds": 2.0,
                       "launch_sweep": "lr=0.1,0.2"})
    form.launch()
    recipe, raw, options = calls[0]
    assert recipe == "classify" and raw["epochs"] == "2" and raw["lr"] == "0.002"
    assert options["name"] == "wide" and options["seeds"] == 2 and isinstance(options["seeds"], int)
    assert options["sweep_text"] == "lr=0.1,0.2" and options["kind"] == "grid" and options["trials"] == 8
    assert options["nonce"] == form.state[launchform.NONCE]
    assert form.result == ("success", "Queued 2: `run-a`, `run-b`") and form.errors == {}
    form.launch_again()
    assert calls[1][2]["nonce"] != options["nonce"] == calls[0][2]["nonce"]


def test_a_refused_launch_shows_why(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    def submit(*args: Any, **kwargs: Any) -> str:
        raise ValueError("sweep line 'lr' needs key=v1,v2")

    monkeypatch.setattr(launchform, "submit", submit)
    form = _form(store)
    form.launch()
    assert form.result == ("error", "sweep line 'lr' needs key=v1,v2")


def test_a_bayesian_sweep_id_is_reported_as_one_launch(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(launchform, "submit", lambda *a, **k: "sweep-1")
    form = _form(store)
    form.launch()
    assert form.result == ("success", "Queued 1: `sweep-1`")


def test_how_each_field_is_entered_and_explained() -> None:
    assert launchform.widget_of(_spec("channels_last")) == "check"
    assert launchform.widget_of(_spec("optimizer")) == "choice"
    assert launchform.choices_of(_spec("optimizer")) == ["adamw", "adam", "sgd"]
    assert launchform.widget_of(_spec("lr")) == "text" and launchform.widget_of(_spec("pretrained")) == "text"
    assert launchform.field_help(_spec("lr")).endswith("(range 1e-08 to 10.0). Default: 0.002.")
    assert launchform.field_help(_spec("data_root")).endswith(". Default: none.")


def test_queue_place() -> None:
    assert launchform.queue_place({"state": "queued", "position": 2, "priority": 1, "slot": None}) == \
        "#2 (priority 1)"
    assert launchform.queue_place({"state": "running", "position": None, "priority": 0, "slot": "cpu0"}) == "cpu0"


@pytest.mark.parametrize("recipe", [r.name for r in list_recipes()])
def test_the_form_is_in_the_six_sections_with_every_field_once_and_its_help(recipe: str) -> None:
    sections = launchform.sections(recipe)
    assert [title for title, _ in sections] == ["Model", "Data", "Optimisation", "Schedule", "Regularisation", "Run"]
    names = [spec.name for _, specs in sections for spec in specs]
    assert sorted(names) == sorted(spec.name for spec in launchform.fields(recipe)) and len(set(names)) == len(names)
    for title, specs in sections:
        for spec in specs:
            assert spec.section == title.lower() and spec.help and launchform.field_help(spec).startswith(spec.help)
    placed = {spec.name: title for title, specs in sections for spec in specs}
    assert [placed[k] for k in ("backbone", "dataset", "lr", "epochs", "weight_decay", "seed")] == \
        ["Model", "Data", "Optimisation", "Schedule", "Regularisation", "Run"]


def test_the_form_submits_every_key_of_the_config(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(launchform, "submit", lambda recipe, raw, **options: calls.append(raw) or ["run-a"])
    form = _form(store)
    form.launch()
    defaults = to_dict(ClassifyConfig())
    assert list(calls[0]) == list(defaults)  # every key, each once
    assert launchform.check("classify", calls[0]).overrides == [f"{k}={launchform.as_text(v)}"
                                                                for k, v in defaults.items()]


def test_the_bayesian_objective_follows_the_recipe_unless_written_by_hand(store: Store) -> None:
    state: dict[str, Any] = {}
    form = _form(store, state)
    assert (state[launchform.OBJECTIVE], state[launchform.DIRECTION]) == ("val/top1", "maximize")
    reid = launchform.FormState(state, "reid", store)
    reid.follow_recipe()
    assert (state[launchform.OBJECTIVE], state[launchform.DIRECTION]) == ("val/mAP_identity", "maximize")
    assert "val/mAP_identity" in reid.objective_help()
    state[launchform.OBJECTIVE] = "val/loss"  # written by the user: the direction follows its goal...
    reid.follow_direction()
    assert state[launchform.DIRECTION] == "minimize"
    form.follow_recipe()  # ...and it stays when the recipe changes back
    assert (state[launchform.OBJECTIVE], state[launchform.DIRECTION]) == ("val/loss", "minimize")


def test_a_bayesian_sweep_without_an_objective_optimises_the_recipes(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[dict[str, Any]] = []
    monkeypatch.setattr(launchform.sweeps, "start_bayes", lambda *a, **k: started.append(k) or "bayes-1")
    monkeypatch.setattr(launchform.launcher, "once", lambda root, key, make, start: make())
    sweep = launchform.submit("reid", {}, name="", group="", changes="", reason="", seeds=1, sweep_text="lr=0.1,0.01",
                              kind="bayes", trials=2, objective=" ", direction="maximize", nonce="n")
    assert sweep == "bayes-1" and started[0]["objective"] == "val/mAP_identity"


def test_clone_from_an_address_and_changes_filled_from_the_diff(store: Store, runs_root: Path) -> None:
    with tracking.start(name="earlier", recipe="classify", group="heads", runs_dir=runs_root,
                        config={"lr": 0.123, "epochs": 3}) as run:  # fmt: skip
        pass
    store.sync()
    state: dict[str, Any] = {}
    assert launchform.clone_from_address(state, store, run.id) is None
    assert launchform.clone_from_address({}, store, "nope").startswith("cannot clone 'nope'")
    form = _form(store, state)
    assert state[launchform.CLONE] == run.id and form.state[form.key("lr")] == "0.123"
    assert state["launch_group"] == "heads"
    form.state[form.key("lr")] = "0.01"
    form.fill_changes()
    assert form.state["launch_changes"] == "lr 0.123 → 0.01"
    form.state["launch_changes"] = "my own words"  # written by the user: kept
    form.state[form.key("epochs")] = "5"
    form.fill_changes()
    assert form.state["launch_changes"] == "my own words"


def test_after_a_launch_the_form_says_so_until_it_changes(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(launchform, "submit", lambda *a, **k: ["run-a"])
    form = _form(store)
    assert not form.already_launched and form.launched_ids == []
    form.launch()
    assert form.already_launched and form.launched_ids == ["run-a"]
    form.state[form.key("lr")] = "0.01"
    assert not form.already_launched
