"""Launch: a recipe's config form (validated field by field), clone from a run, seeds and sweeps, the queue."""

from __future__ import annotations

import json
import uuid
from typing import Any

import streamlit as st

from core import launcher
from core.launcher import slots
from core.recipes import FieldSpec, list_recipes
from core.store import queries
from core.views import launch as launchform
from pages.lib.common import page_setup, show_error, store

page_setup("Launch")
st.title("Launch")
index = store()
if index is None:
    st.stop()
st.session_state.setdefault("launch_nonce", uuid.uuid4().hex)

recipes = [r.name for r in list_recipes()]
head = st.columns([1, 2])
recipe = head[0].selectbox("Recipe", recipes, key="launch_recipe",
                           help="; ".join(f"{r.name}: {r.description}" for r in list_recipes()))
clones, _ = queries.find_runs(index, metrics=[], recipe=[recipe], limit=200)
clone_labels = {"": "— defaults —", **{r: f"{n} ({r[-6:]}, {s})" for r, n, s in
                                       zip(clones["id"], clones["name"], clones["status"])}}


def key_of(field: str) -> str:
    return f"cfg_{recipe}_{field}"


def load_clone() -> None:
    """Fill the form with the chosen run's config (or the defaults)."""
    run_id = st.session_state.get("launch_clone") or ""
    config = json.loads(queries.runs_meta(index, [run_id])["config"].iloc[0]) if run_id else None
    base = st.session_state["launch_base"] = launchform.defaults(recipe, config)
    for spec in launchform.fields(recipe):
        value = base[spec.name]
        st.session_state[key_of(spec.name)] = value if spec.kinds == (bool,) else launchform.as_text(value)


head[1].selectbox("Clone from a run", list(clone_labels), format_func=clone_labels.get, key="launch_clone",
                  on_change=load_clone)
if st.session_state.get("launch_base_recipe") != recipe:
    st.session_state["launch_base_recipe"] = recipe
    load_clone()
base: dict[str, Any] = st.session_state["launch_base"]
errors: dict[str, str] = st.session_state.get("launch_errors", {})


def field_widget(spec: FieldSpec, column: Any) -> None:
    """One config field: a choice box, a checkbox, or a text box read by the config's own parser."""
    label = spec.name + (" ●" if launchform.as_text(st.session_state.get(key_of(spec.name))) !=
                         launchform.as_text(base.get(spec.name)) else "")
    bounds = f" (range {spec.min} to {spec.max})" if spec.min is not None or spec.max is not None else ""
    help_text = f"{spec.help}{bounds}. Default: {launchform.as_text(spec.default) or 'none'}."
    if spec.choices and spec.kinds != (bool,):
        choices = [launchform.as_text(c) for c in spec.choices]
        column.selectbox(label, choices, key=key_of(spec.name), help=help_text)
    elif spec.kinds == (bool,):
        column.checkbox(label, key=key_of(spec.name), help=help_text)
    else:
        column.text_input(label, key=key_of(spec.name), help=help_text)
    if spec.name in errors:
        column.error(errors[spec.name])


st.subheader("Configuration")
st.caption("● marks a value that differs from the clone (or the defaults).")
columns = st.columns(3)
for i, spec in enumerate(launchform.fields(recipe)):
    field_widget(spec, columns[i % 3])
raw = {spec.name: st.session_state.get(key_of(spec.name)) for spec in launchform.fields(recipe)}
changes_vs_base = launchform.changed(recipe, raw, base)
if changes_vs_base:
    st.caption("Changed: " + ", ".join(f"`{k}` {launchform.as_text(a)} → {launchform.as_text(b)}"
                                      for k, (a, b) in changes_vs_base.items()))

st.subheader("Why this run")
labels = st.columns(2)
labels[0].text_input("Name", key="launch_name", placeholder="e.g. multi-head + consistency")
labels[0].text_input("Group", key="launch_group", placeholder="runs to compare together")
labels[1].text_area("Changes", key="launch_changes", placeholder="what differs from the baseline", height=68)
labels[1].text_area("Reason / hypothesis", key="launch_reason", placeholder="what you expect and why", height=68)

with st.expander("Seeds and sweeps"):
    sweep_cols = st.columns([1, 2, 1, 1])
    sweep_cols[0].number_input("Seeds", min_value=1, max_value=50, value=1, key="launch_seeds",
                               help="N runs with seeds 0..N-1, as one group (mean ± std on Compare)")
    sweep_cols[1].text_area("Sweep (one key=v1,v2 per line)", key="launch_sweep", placeholder="lr=0.001,0.0003")
    sweep_cols[2].radio("Kind", ["grid", "random", "bayes"], key="launch_kind")
    sweep_cols[3].number_input("Trials (random / bayes)", min_value=1, max_value=200, value=8, key="launch_trials")
    sweep_cols[2].text_input("Objective (bayes)", value="val/top1", key="launch_objective")
    sweep_cols[3].radio("Direction", ["maximize", "minimize"], key="launch_direction")


def on_launch() -> None:
    """The launch button's callback: check every field; queue only when all are valid."""
    ss = st.session_state
    form = {spec.name: ss.get(key_of(spec.name)) for spec in launchform.fields(recipe)}
    checked = launchform.check(recipe, form)
    ss["launch_errors"] = checked.errors
    if not checked.ok:
        ss["launch_result"] = ("error", checked.general or "Fix the fields marked in red, then launch again.")
        return
    try:
        launched = launchform.submit(
            recipe, form, name=ss["launch_name"], group=ss["launch_group"], changes=ss["launch_changes"],
            reason=ss["launch_reason"], seeds=int(ss["launch_seeds"]), sweep_text=ss["launch_sweep"],
            kind=ss["launch_kind"], trials=int(ss["launch_trials"]), objective=ss["launch_objective"],
            direction=ss["launch_direction"], nonce=ss["launch_nonce"])
    except ValueError as exc:  # config, dataset and sweep errors carry a message saying what to fix
        ss["launch_result"] = ("error", str(exc))
        return
    ids = [launched] if isinstance(launched, str) else launched
    ss["launch_result"] = ("success", f"Queued {len(ids)}: " + ", ".join(f"`{i}`" for i in ids))


def launch_again() -> None:
    st.session_state["launch_nonce"] = uuid.uuid4().hex
    on_launch()


buttons = st.columns([1, 2, 3])
buttons[0].button("Launch", type="primary", on_click=on_launch, key="launch_button")
buttons[1].button("Launch the same again", on_click=launch_again, key="launch_again",
                  help="A second, separate launch of what is on the form (a double click launches once)")
if "launch_result" in st.session_state:
    kind, message = st.session_state["launch_result"]
    (st.success if kind == "success" else st.error)(message)


@st.fragment(run_every=2)
def queue_panel() -> None:
    st.subheader("Queue")
    st.caption("Slots: " + ", ".join(slots.all_slots()))
    rows = launcher.queue_listing(index.root)
    if not rows:
        st.caption("Nothing queued or running.")
        return
    for row in rows:
        cols = st.columns([4, 2, 1, 1, 1])
        where = f"#{row['position']} (priority {row['priority']})" if row["state"] == "queued" else row["slot"]
        cols[0].text(f"{row['name']}  {row['id']}".strip())  # plain text: names are user input
        cols[1].markdown(f"**{row['state']}** · {where}")
        if row["state"] == "queued":
            cols[2].button("↑", key=f"up_{row['id']}", help="start earlier",
                           on_click=show_error, args=(launcher.move, row["id"], (row["priority"] or 0) + 1))
            cols[3].button("↓", key=f"down_{row['id']}", help="start later",
                           on_click=show_error, args=(launcher.move, row["id"], (row["priority"] or 0) - 1))
        cols[4].button("Cancel", key=f"cancel_{row['id']}", on_click=show_error, args=(launcher.cancel, row["id"]))


queue_panel()
