"""Launch: a recipe's config form in sections (model, data, optimisation, schedule, regularisation, run), validated
field by field; clone from a run (the Run page's Clone opens it here), seeds and sweeps, links to what was
launched, and the queue."""

import streamlit as st

from app_pages.lib.common import page_setup, store_or_stop
from app_pages.lib.form import config_field, launched_links, queue_entry
from core import launcher
from core.launcher import slots
from core.recipes import list_recipes
from core.views import launch as launchform

page_setup("Launch")
st.title("Launch")
index = store_or_stop()
if problem := launchform.clone_from_address(st.session_state, index, st.query_params.pop("clone", None)):
    st.warning(problem)

head = st.columns([1, 2])
recipe = head[0].selectbox("Recipe", [r.name for r in list_recipes()], key=launchform.RECIPE,
                           help=launchform.recipe_help())
form = launchform.FormState(st.session_state, recipe, index)
clone_labels = launchform.clone_choices(index, recipe, keep=st.session_state.get(launchform.CLONE))
head[1].selectbox("Clone from a run", list(clone_labels), format_func=clone_labels.get, key=launchform.CLONE,
                  on_change=form.load_clone)
form.follow_recipe()
form.fill_changes()

st.subheader("Configuration")
st.caption("● marks a value that differs from the clone (or the defaults); hover a field's ? for its help.")
for title, specs in launchform.sections(recipe):
    with st.container(border=True):
        st.markdown(f"**{title}**")
        columns = st.columns(3)
        for i, spec in enumerate(specs):
            config_field(columns[i % 3], spec, form)
if changes := form.changes_text():
    st.caption(changes)

st.subheader("Why this run")
labels = st.columns(2)
labels[0].text_input("Name", key="launch_name", placeholder="e.g. multi-head + consistency")
labels[0].text_input("Group", key="launch_group", placeholder="runs to compare together")
labels[1].text_area("Changes", key="launch_changes", height=68,
                    placeholder="what differs from the baseline (filled from the fields you change)")
labels[1].text_area("Reason / hypothesis", key="launch_reason", placeholder="what you expect and why", height=68)

with st.expander("Seeds and sweeps"):
    sweep_cols = st.columns([1, 2, 1, 1])
    sweep_cols[0].number_input("Seeds", min_value=1, max_value=50, key="launch_seeds",
                               help="N runs with seeds 0..N-1, as one group (mean ± std on Compare)")
    sweep_cols[1].text_area("Sweep (one key=v1,v2 per line)", key="launch_sweep", placeholder="lr=0.001,0.0003")
    sweep_cols[2].radio("Kind", ["grid", "random", "bayes"], key="launch_kind")
    sweep_cols[3].number_input("Trials (random / bayes)", min_value=1, max_value=200, key="launch_trials")
    sweep_cols[2].text_input("Objective (bayes)", key=launchform.OBJECTIVE, on_change=form.follow_direction,
                             help=form.objective_help())
    sweep_cols[3].radio("Direction", ["maximize", "minimize"], key=launchform.DIRECTION)

buttons = st.columns([1, 2, 3])
buttons[0].button("Launch", type="secondary" if form.already_launched else "primary", on_click=form.launch,
                  key="launch_button", help=launchform.LAUNCHED_HELP if form.already_launched else None)
buttons[1].button("Launch the same again", on_click=form.launch_again, key="launch_again",
                  help="A second, separate launch of what is on the form (a double click launches once)")
if form.result is not None:
    kind, message = form.result
    (st.success if kind == "success" else st.error)(message)
    if kind == "success":
        launched_links(form.launched_ids)
        if form.already_launched:
            st.caption(launchform.LAUNCHED_HELP)


@st.fragment(run_every=2)
def queue_panel() -> None:
    st.subheader("Queue")
    st.caption("Slots: " + ", ".join(slots.all_slots()))
    rows = launcher.reconcile_start_scheduler_then_queue_listing(index.root)
    if not rows:
        st.caption("Nothing queued or running.")
    for row in rows:
        queue_entry(st.columns([4, 2, 1, 1, 1]), row)


queue_panel()
