"""Page state kept in the address (``?run=``, ``?runs=a,b``), so a page can be shared as it is: a widget takes its
value from the address when a link is followed, and writes it back when the user changes it."""

from __future__ import annotations

import streamlit as st


def follow_address(widget_key: str, param: str, choices: list[str], fallback: str | None = None) -> None:
    """Set a choice widget's value before it is drawn: what ``?param=`` names (a link was followed), else what
    it holds, else ``fallback`` (else the first choice). Keep the address in step with ``keep_address``."""
    wanted = st.query_params.get(param)
    if wanted in choices:
        st.session_state[widget_key] = wanted
    elif st.session_state.get(widget_key) not in choices and choices:
        st.session_state[widget_key] = fallback if fallback in choices else choices[0]


def keep_address(widget_key: str, param: str) -> None:
    """A widget's on_change: write its new value into the address, so the page can be shared as it is."""
    st.query_params[param] = st.session_state[widget_key]


def address_list(param: str) -> list[str]:
    """A list kept in the address as ``?param=a,b`` (or repeated ``?param=a&param=b``)."""
    return [v for item in st.query_params.get_all(param) for v in item.split(",") if v]


def follow_address_list(widget_key: str, param: str, choices: list[str], fallback: list[str]) -> None:
    """``follow_address`` for a multiselect: the address's list (those among ``choices``), else what the widget
    holds, else ``fallback``."""
    wanted = [v for v in address_list(param) if v in choices]
    if wanted:
        st.session_state[widget_key] = wanted
    elif widget_key not in st.session_state:
        st.session_state[widget_key] = [v for v in fallback if v in choices]


def keep_address_list(widget_key: str, param: str) -> None:
    """A multiselect's on_change: write its values into the address as ``?param=a,b``."""
    st.query_params[param] = ",".join(st.session_state[widget_key])
