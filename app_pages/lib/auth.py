"""Optional password for every page (deep links included): EXPLORER_PASSWORD or Streamlit secrets."""

from __future__ import annotations

import hmac
import os

import streamlit as st


def expected_password() -> str | None:
    """The password from EXPLORER_PASSWORD, else secrets.toml's ``password``; None when none is set."""
    if os.environ.get("EXPLORER_PASSWORD"):
        return os.environ["EXPLORER_PASSWORD"]
    try:
        return str(st.secrets["password"]) if "password" in st.secrets else None
    except (FileNotFoundError, KeyError, st.errors.StreamlitSecretNotFoundError):
        return None


def require_password() -> None:
    """Stop the script with a password box until the session has given the right password."""
    expected = expected_password()
    if expected is None or st.session_state.get("authenticated"):
        return

    def check() -> None:
        given = st.session_state.pop("password_input", "")
        st.session_state["authenticated"] = hmac.compare_digest(given.encode(), expected.encode())
        st.session_state["password_failed"] = not st.session_state["authenticated"]

    st.title("Experiment Explorer")
    st.text_input("Password", type="password", key="password_input", on_change=check)
    if st.session_state.get("password_failed"):
        st.error("Wrong password. Ask whoever runs this app, or set EXPLORER_PASSWORD where it starts.")
    st.stop()
