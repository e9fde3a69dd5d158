"""The layering rules of STYLE.md: core never imports streamlit; pages never import torch or write SQL."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", sorted((REPO / "core").rglob("*.py")), ids=lambda p: str(p.relative_to(REPO)))
def test_core_never_imports_streamlit(path: Path) -> None:
    assert "streamlit" not in _imports(path)


def _page_files() -> list[Path]:
    return [REPO / "app.py", *sorted((REPO / "app_pages").rglob("*.py"))]


@pytest.mark.parametrize("path", _page_files(), ids=lambda p: p.name)
def test_pages_import_neither_torch_nor_duckdb(path: Path) -> None:
    assert not _imports(path) & {"torch", "torchvision", "timm", "duckdb", "pytorch_grad_cam"}


# What a page must not contain (STYLE.md: pages read widgets, call core, render): SQL or direct index queries,
# torch or scipy, and pandas grouping (computations belong in core/views).
_SQL = re.compile(r"\b(SELECT|INSERT|FROM|GROUP BY)\b|\.(rows|sql|execute|frame)\(")  # SQL words: upper case
_HEAVY_IMPORT = re.compile(r"^\s*(import|from)\s+(torch|scipy)\b", re.MULTILINE)
_GROUPING = re.compile(r"\.(groupby|transform)\(")
MAX_PAGE_LINES = 100


@pytest.mark.parametrize("path", _page_files(), ids=lambda p: p.name)
def test_pages_contain_no_sql(path: Path) -> None:
    assert not _SQL.findall(path.read_text()), "put the query in core/store/queries.py"


@pytest.mark.parametrize("path", _page_files(), ids=lambda p: p.name)
def test_pages_import_neither_torch_nor_scipy_by_text(path: Path) -> None:
    assert not _HEAVY_IMPORT.findall(path.read_text())


@pytest.mark.parametrize("path", _page_files(), ids=lambda p: p.name)
def test_pages_do_no_pandas_grouping(path: Path) -> None:
    assert not _GROUPING.findall(path.read_text()), "compute it in core/views and return the frame to draw"


@pytest.mark.parametrize("path", _page_files(), ids=lambda p: p.name)
def test_page_files_are_short(path: Path) -> None:
    assert len(path.read_text().splitlines()) < MAX_PAGE_LINES


@pytest.mark.parametrize(
    "text",
    ['rows = index.rows("SELECT status, count(*) FROM runs GROUP BY status")', "store.frame(sql)",
     "con.execute(q)", 'x = "select" if a else "FROM runs"'],
)
def test_the_sql_check_catches_queries(text: str) -> None:
    assert _SQL.search(text)


def test_the_sql_check_lets_imports_and_widgets_through() -> None:
    text = "from core.store import queries\nst.dataframe(frame)\nst.selectbox('Select a run', ids)\n"
    assert not _SQL.search(text) and not _GROUPING.search("frame.groupby_x") and _GROUPING.search("f.groupby(")


def test_the_first_page_and_its_core_imports_load_without_torch() -> None:
    code = (
        "import sys, runpy; sys.argv = ['x'];"
        "import core.store.queries, core.store, core.tracking, core.evaluation.classification;"
        "import core.views.runs, core.views.run, core.views.compare, core.views.launch, core.views.reports;"
        "import core.views.predict, core.views.predictions, core.views.verdicts;"
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
