"""Tables of the DuckDB index, shaped for the pages' queries: runs, curves, per-class tables, latest values.

Runs get a small integer ``key``; metric rows carry it, and they are inserted run after run, so DuckDB's
zone maps skip most row groups when a page asks for the curves of a few runs.
"""

from __future__ import annotations

import duckdb

SCHEMA_VERSION = "6"

DDL = """
CREATE TABLE IF NOT EXISTS index_meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS runs (
    key INTEGER PRIMARY KEY,
    id VARCHAR NOT NULL,
    name VARCHAR, grp VARCHAR, recipe VARCHAR, status VARCHAR,
    created TIMESTAMP, updated TIMESTAMP, ended TIMESTAMP,
    tags VARCHAR[], notes VARCHAR, changes VARCHAR, reason VARCHAR,
    progress_done INTEGER, progress_total INTEGER, exit_code INTEGER, error VARCHAR,
    config JSON, status_record JSON
);
CREATE TABLE IF NOT EXISTS metrics (
    run_key INTEGER NOT NULL, name VARCHAR NOT NULL, step BIGINT NOT NULL, value DOUBLE, time DOUBLE
);
CREATE TABLE IF NOT EXISTS metric_summary (
    run_key INTEGER, name VARCHAR,
    last_step BIGINT, last_value DOUBLE, min_value DOUBLE, max_value DOUBLE, n BIGINT, last_time DOUBLE,
    PRIMARY KEY (run_key, name)
);
CREATE TABLE IF NOT EXISTS table_rows (run_key INTEGER, name VARCHAR, idx INTEGER, row JSON);
CREATE TABLE IF NOT EXISTS ingest_state (
    run_key INTEGER PRIMARY KEY,
    metrics_offset BIGINT DEFAULT 0,
    records BIGINT DEFAULT 0,
    skipped BIGINT DEFAULT 0,
    record_sig VARCHAR DEFAULT '',
    tables_sig VARCHAR DEFAULT '',
    dir_mtime BIGINT DEFAULT 0,
    settled BOOLEAN DEFAULT false,
    tail_sig VARCHAR DEFAULT ''
);
"""

DATA_TABLES = ("runs", "metrics", "metric_summary", "table_rows", "ingest_state")


def create(con: duckdb.DuckDBPyConnection) -> bool:
    """Create the tables; return True when the index was empty or of another version (so must be filled)."""
    con.execute("CREATE TABLE IF NOT EXISTS index_meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    row = con.execute("SELECT value FROM index_meta WHERE key = 'schema_version'").fetchone()
    if row and row[0] == SCHEMA_VERSION:
        con.execute(DDL)
        return False
    for table in DATA_TABLES:  # another layout: drop it, the run folders rebuild it
        con.execute(f"DROP TABLE IF EXISTS {table}")
    con.execute(DDL)
    con.execute("INSERT OR REPLACE INTO index_meta VALUES ('schema_version', ?)", [SCHEMA_VERSION])
    return True


def clear(con: duckdb.DuckDBPyConnection) -> None:
    """Empty every data table (the run folders stay; the index is rebuilt from them)."""
    for table in DATA_TABLES:
        con.execute(f"DELETE FROM {table}")
