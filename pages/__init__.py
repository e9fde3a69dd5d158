"""The app's pages; app.py lists them with st.navigation. Pages only draw and call core."""
