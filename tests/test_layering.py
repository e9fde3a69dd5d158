"""The layering rules of STYLE.md: core never imports streamlit; pages never import torch or write SQL."""

from __future__ import annotations

import ast
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
    return [REPO / "app.py", *sorted((REPO / "pages").rglob("*.py"))]


@pytest.mark.parametrize("path", _page_files(), ids=lambda p: p.name)
def test_pages_import_neither_torch_nor_duckdb(path: Path) -> None:
    assert not _imports(path) & {"torch", "torchvision", "timm", "duckdb", "pytorch_grad_cam"}


def test_the_first_page_and_its_core_imports_load_without_torch() -> None:
    code = (
        "import sys, runpy; sys.argv = ['x'];"
        "import core.store.queries, core.store, core.tracking, core.evaluation.classification;"
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
