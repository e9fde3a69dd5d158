"""The run folder, source of truth of a run: its layout and records (``layout``), where run folders live
(``paths``), the status record (``status``) and the append-only metrics log with its one reader (``metricslog``).

The layout's names are re-exported here, so ``runfolder.read_json(...)`` reads as what it is.
"""

from core.runfolder.layout import (
    ACTIVE_STATUSES,
    ARTIFACTS_DIR,
    CHECKPOINTS_DIR,
    CONFIG_FILE,
    CONSOLE_FILE,
    FINAL_STATUSES,
    META_FILE,
    STATUS_FILE,
    STATUSES,
    TABLES_DIR,
    RunNotFoundError,
    is_run_id,
    iter_run_dirs,
    list_artifacts,
    new_run_id,
    read_json,
    resolve_run_dir,
    safe_relative,
    sanitize_json,
    table_file,
    table_name,
    tail_text,
    update_meta,
    utc_now,
    write_json_atomic,
)

__all__ = ["ACTIVE_STATUSES", "ARTIFACTS_DIR", "CHECKPOINTS_DIR", "CONFIG_FILE", "CONSOLE_FILE", "FINAL_STATUSES", "META_FILE", "STATUSES", "STATUS_FILE", "TABLES_DIR", "RunNotFoundError", "is_run_id", "iter_run_dirs", "list_artifacts", "new_run_id", "read_json", "resolve_run_dir", "safe_relative", "sanitize_json", "table_file", "table_name", "tail_text", "update_meta", "utc_now", "write_json_atomic"]
