"""What the pages share (not pages themselves: Streamlit lists only the .py files directly in app_pages/)."""
