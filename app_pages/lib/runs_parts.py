"""The Runs page's table (names as links to the Run page, the chosen columns in their units) and what can be
done with the selected runs: compare them, open one, edit their tags."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from app_pages.lib.common import show_error
from app_pages.lib.tables import formatted
from core.store import Store
from core.views import runs as runsview


@st.cache_resource(show_spinner=False)
def findings_cache(root: str) -> dict:
    """What the runs list found about finished runs, per server process (see ``views.runs.warnings_of``)."""
    return {}


def runs_table(frame: pd.DataFrame, columns: list[str], formats: dict[str, Callable[[Any], str]]) -> list[str]:
    """The runs as a table with row selection; returns the ids of the selected runs."""
    event = st.dataframe(
        formatted(frame, formats), hide_index=True, on_select="rerun", selection_mode="multi-row", key="runs_table",
        column_order=["link", "status", "progress", "group", "recipe", *columns, "warnings", "tags", "created",
                      "duration_s", "id"],
        column_config={
            "link": st.column_config.LinkColumn("name", display_text=runsview.LINK_TEXT, help="open the run's page"),
            "progress": st.column_config.ProgressColumn("progress", min_value=0.0, max_value=1.0),
            "created": st.column_config.DatetimeColumn("started (UTC)", format="YYYY-MM-DD HH:mm"),
            "duration_s": st.column_config.NumberColumn("duration (s)", format="%.0f"),
            "tags": st.column_config.ListColumn("tags"),
            "id": st.column_config.TextColumn("id", width="medium"),
        },
    )  # fmt: skip
    return frame["id"].iloc[event.selection.rows].tolist() if event.selection.rows else []


def selection_actions(index: Store, frame: pd.DataFrame, chosen: list[str], all_tags: list[str]) -> None:
    """Compare the selected runs (a shareable link), open one, and edit the tags they share."""
    row = st.columns([2, 2, 4, 1])
    row[0].page_link("app_pages/4_Compare.py", label=f"Compare {len(chosen)} selected", disabled=len(chosen) < 2,
                     icon=":material/compare_arrows:", query_params={"runs": ",".join(chosen)} if chosen else None)
    row[1].page_link("app_pages/3_Run.py", label="Open selected run", disabled=len(chosen) != 1,
                     query_params={"run": chosen[0]} if len(chosen) == 1 else None, icon=":material/monitoring:")
    if not chosen:
        return
    key = "runs_tags_" + "_".join(sorted(chosen))[:200]
    shared = runsview.common_tags(frame, chosen)
    row[2].multiselect(f"Tags of the {len(chosen)} selected", sorted({*all_tags, *shared}), default=shared, key=key,
                       accept_new_options=True, placeholder="add a tag")  # fmt: skip
    row[3].button("Save tags", key="runs_save_tags", on_click=lambda: show_error(
        runsview.retag, index, frame, chosen, st.session_state[key]))
