"""Page back-ends: what each page shows, computed from the index and the run folders and returned as frames
and plain data, so that the pages in ``app_pages/`` only draw. Nothing here imports Streamlit or torch."""
