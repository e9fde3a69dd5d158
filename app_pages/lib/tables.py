"""How the pages' tables show shares and mark the best values."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler
from streamlit.elements.lib.column_types import ColumnConfig

BEST_STYLE = "font-weight: bold; background-color: #e6f4ea"


def share_column(label: str) -> ColumnConfig:
    """A 0..1 share drawn as a bar with three decimals (accuracies, probabilities)."""
    return st.column_config.ProgressColumn(label, min_value=0.0, max_value=1.0, format="%.3f")


def formatted(frame: pd.DataFrame, formats: dict[str, Callable[[Any], str]]) -> Styler:
    """``frame`` shown with each listed column written by its formatter (the data, and sorting, stay numbers)
    and missing values as a dash."""
    return frame.style.format(na_rep="—").format({c: f for c, f in formats.items() if c in frame}, na_rep="—")


def highlight(frame: pd.DataFrame, marked: pd.DataFrame) -> Styler:
    """``frame`` (its cells already written in their units) with the cells where ``marked`` (same shape) is
    True highlighted."""
    css = pd.DataFrame(np.where(marked.to_numpy(dtype=bool), BEST_STYLE, ""), index=frame.index, columns=frame.columns)
    return frame.style.apply(lambda _: css, axis=None)
