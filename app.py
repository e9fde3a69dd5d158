"""Experiment Explorer: launch, compare and demo computer-vision experiments. Start: `bash dev.sh app`."""

import streamlit as st

from pages.auth import require_password

st.set_page_config(page_title="Experiment Explorer", layout="wide")
require_password()
page = st.navigation([
    st.Page("pages/runs.py", title="Runs", icon=":material/list:", default=True),
    st.Page("pages/launch.py", title="Launch", icon=":material/rocket_launch:"),
    st.Page("pages/run.py", title="Run", icon=":material/monitoring:"),
    st.Page("pages/compare.py", title="Compare", icon=":material/compare_arrows:"),
])
page.run()
