"""Reports: the experiment log of chosen runs (markdown, or a zip with its images), the results summary sorted by
a chosen metric with chosen columns (markdown, CSV, LaTeX), imports with every line that was not read, and the
runs table or the runs' metrics as CSV or Parquet."""

import streamlit as st

from app_pages.lib.common import page_setup, show_error, store_or_stop
from core.store import queries
from core.views import reports_page as rp

page_setup("Reports")
st.title("Reports")
index = store_or_stop()
groups = queries.filter_options(index)["group"]
pick = st.columns([1, 3])
group = pick[0].selectbox("Group", ["(choose runs)", *groups], key="reports_group", help="report on a whole group")
chosen = rp.group_runs(index, group) if group in groups else st.session_state.get("compare_ids", [])
ids, labels = rp.run_choices(index, keep=[*chosen, *st.session_state.get(f"reports_runs_{group}", [])])
run_ids = pick[1].multiselect("Runs", ids, default=[r for r in chosen if r in labels], format_func=labels.get,
                              key=f"reports_runs_{group}")  # fmt: skip
log_tab, summary_tab, import_tab, export_tab = st.tabs(["Experiment log", "Results summary", "Import", "Export"])


def write_log(run_ids: list[str]) -> None:
    st.session_state["reports_log"] = rp.log_files(index, run_ids)


def run_import(upload: object, path: str) -> None:
    if upload is not None:
        st.session_state["reports_import"] = rp.import_upload(upload.name, upload.getvalue(), index.root)
    else:
        st.session_state["reports_import"] = rp.import_path(path, index.root)
    index.sync()  # the new runs show in the pickers at once


with log_tab:
    if not run_ids:
        st.info("Choose runs (or a group) above.")
    else:
        st.button("Write the experiment log", key="reports_write_log", on_click=show_error, args=(write_log, run_ids))
        log = st.session_state.get("reports_log")
        if log is not None and log.run_ids == run_ids:
            row = st.columns(2)
            row[0].download_button("Download markdown", log.markdown, file_name="experiment-log.md",
                                   mime=rp.MIME["md"], key="reports_log_md")  # fmt: skip
            row[1].download_button("Download zip (markdown and images)", log.zip, file_name="experiment-log.zip",
                                   mime=rp.MIME["zip"], key="reports_log_zip")  # fmt: skip
            with st.expander("Preview", expanded=True):
                st.markdown(log.markdown)

with summary_tab:
    offered, default = rp.column_choices(index, run_ids)
    row = st.columns([1, 3, 1])
    group_by = row[0].selectbox("Group by", rp.GROUPINGS, key="reports_group_by")
    columns = row[1].multiselect("Columns", offered, default=[c for c in default if c in offered],
                                 key=f"reports_columns_{len(run_ids)}")  # fmt: skip
    sort = row[2].selectbox(
        "Sort by", columns or ["—"], index=rp.default_sort(columns), key=f"reports_sort_{'|'.join(columns)}"
    )  # a new choice of columns starts afresh
    if run_ids and columns:
        try:
            files = rp.summary_files(index, run_ids, columns, sort, group_by)
        except ValueError as exc:
            st.error(str(exc))
        else:
            for col, fmt in zip(st.columns(len(files.texts)), files.texts):
                col.download_button(f"Download {fmt}", files.texts[fmt], file_name=f"results-summary.{rp.SUFFIX[fmt]}",
                                    mime=rp.MIME[fmt], key=f"reports_summary_{fmt}")  # fmt: skip
            st.markdown(files.texts["md"])
    else:
        st.info("Choose runs and at least one column.")

with import_tab:
    upload = st.file_uploader("A markdown log, an event file, or a zip of logs, TensorBoard or mlruns folders",
                              key="reports_upload")  # fmt: skip
    path = st.text_input("…or a file or folder on this machine", key="reports_import_path",
                         placeholder="/path/to/mlruns or a TensorBoard log folder")  # fmt: skip
    st.button("Import", key="reports_import_button", on_click=show_error, args=(run_import, upload, path))
    outcome = st.session_state.get("reports_import")
    if outcome is not None:
        (st.success if outcome.ok else st.error)(outcome.summary)
        st.markdown("\n".join(f"- {r}" for r in outcome.runs))
        if len(outcome.problems):
            st.warning(f"{len(outcome.problems)} line(s) were not read:")
            st.dataframe(outcome.problems, hide_index=True)

with export_tab:
    row = st.columns(2)
    for fmt in ("csv", "parquet"):
        # the files are written when a button is clicked, not on every visit (10,000 runs are a large table)
        row[0].download_button(f"Runs table ({fmt})", lambda fmt=fmt: rp.runs_export(index, fmt),
                               file_name=f"runs.{fmt}", mime=rp.MIME[fmt], key=f"reports_runs_{fmt}")  # fmt: skip
        if run_ids:
            row[1].download_button(f"Metrics of the chosen runs ({fmt})",
                                   lambda fmt=fmt: rp.metrics_export(index, run_ids, fmt), file_name=f"metrics.{fmt}",
                                   mime=rp.MIME[fmt], key=f"reports_metrics_{fmt}")  # fmt: skip
