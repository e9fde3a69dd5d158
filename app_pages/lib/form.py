"""The Launch page's widgets for one config field and for one queue entry."""

from __future__ import annotations

from typing import Any

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from app_pages.lib.common import show_error
from core import launcher
from core.recipes import FieldSpec
from core.views import launch as launchform


def config_field(column: DeltaGenerator, spec: FieldSpec, form: launchform.FormState) -> None:
    """One config field: a choice box, a checkbox, or a text box read by the config's own parser; its error."""
    label, key, help_text = form.label(spec), form.key(spec.name), launchform.field_help(spec)
    kind = launchform.widget_of(spec)
    if kind == "choice":
        column.selectbox(label, launchform.choices_of(spec), key=key, help=help_text)
    elif kind == "check":
        column.checkbox(label, key=key, help=help_text)
    else:
        column.text_input(label, key=key, help=help_text)
    if spec.name in form.errors:
        column.error(form.errors[spec.name])


def queue_entry(columns: list[DeltaGenerator], row: dict[str, Any]) -> None:
    """A queued or running run: name and id, state and place, and buttons to reorder or cancel it."""
    columns[0].text(f"{row['name']}  {row['id']}".strip())  # plain text: names are user input; never wraps
    columns[1].markdown(f"**{row['state']}** · {launchform.queue_place(row)}")
    if row["state"] == "queued":
        priority = row["priority"] or 0
        columns[2].button("↑", key=f"up_{row['id']}", help="start earlier",
                          on_click=show_error, args=(launcher.move, row["id"], priority + 1))
        columns[3].button("↓", key=f"down_{row['id']}", help="start later",
                          on_click=show_error, args=(launcher.move, row["id"], priority - 1))
    columns[4].button("Cancel", key=f"cancel_{row['id']}", on_click=show_error, args=(launcher.cancel, row["id"]))


def launched_links(run_ids: list[str], most: int = 8) -> None:
    """Links to the runs just launched (their pages fill in as they start)."""
    columns = st.columns(min(len(run_ids), 4) or 1)
    for i, run_id in enumerate(run_ids[:most]):
        columns[i % 4].page_link("app_pages/3_Run.py", label=f"Open {run_id[-6:]}", query_params={"run": run_id},
                                 icon=":material/monitoring:")
