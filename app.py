"""Experiment Explorer: launch, compare and demo computer-vision experiments. Start: `bash dev.sh app`."""

import streamlit as st

st.set_page_config(page_title="Experiment Explorer", layout="wide")
page = st.navigation([st.Page("pages/runs.py", title="Runs", default=True)])
page.run()
