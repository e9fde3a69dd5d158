"""The building blocks of our ECharts charts (``st.echarts_chart``): the frame of a line chart (title, axis
tooltip, legend of the named lines, box zoom), line series, an x axis whose integer steps are ticked as whole
numbers, and points written as plain JSON. What each chart draws is in ``charts``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf")
HEIGHT = 340  # pixels, every chart of these pages
AXIS_NAMES = {"time": "seconds since the run's first point"}  # an x column's name on its axis, where not plain
RENDERER = "svg"  # real DOM nodes: the titles and ticks can be read (and tested); fast at our <= 1,000 points


def show(where: Any, option: dict[str, Any], key: str, height: int = HEIGHT) -> None:
    """Draw ``option`` in ``where`` (``st`` or a column)."""
    where.echarts_chart(option, key=key, height=height, renderer=RENDERER)


def step_axis(steps: pd.Series) -> dict[str, Any]:
    """Axis settings for integer steps: ticks only on whole numbers (never 1.5), at least one step apart, and the
    tooltip's step written as one (21, not 21.00)."""
    values = pd.to_numeric(steps, errors="coerce").dropna()
    if values.empty or not np.all(np.equal(np.mod(values, 1), 0)):
        return {}
    return {"minInterval": 1, "axisPointer": {"label": {"precision": 0}}}


def pairs(xs: pd.Series, ys: pd.Series) -> list[list[Any]]:
    """[x, y] points as JSON: whole numbers as ints, a missing value as null (a gap in the line)."""
    return [[_number(a), _number(b)] for a, b in zip(xs.tolist(), ys.tolist())]


def _number(v: Any) -> Any:
    if missing(v):
        return None
    v = float(v)
    return int(v) if v.is_integer() and abs(v) < 2**53 else v


def missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and not math.isfinite(v))


def line(data: list[list[Any]], name: str, color: str, *, width: float = 2, opacity: float = 1.0,
         symbols: bool = False) -> dict[str, Any]:
    """A line series of [x, y] points; ``symbols`` marks each point (for short lines)."""
    return {"type": "line", "name": name, "data": data, "showSymbol": symbols, "symbolSize": 5,
            "itemStyle": {"color": color}, "lineStyle": {"width": width, "opacity": opacity}}


def x_axis(x: str, values: pd.Series) -> dict[str, Any]:
    """A value axis named ``x``, from the first value to the last; integer steps ticked as whole numbers."""
    axis = {"type": "value", "name": AXIS_NAMES.get(x, x), "nameLocation": "middle", "nameGap": 28, "scale": True}
    return {**axis, **(step_axis(values) if x == "step" else {})}


def frame(title: str, series: list[dict], legend: list[str], x: dict, y: dict) -> dict[str, Any]:
    """A line chart's option: the title, a tooltip of every line at the hovered x, the legend of the named
    lines (when there are several), box zoom and its undo, and the axes ``x`` and ``y``."""
    many = len(legend) > 1
    return {
        "title": {"text": title, "left": "center"}, "animation": False,
        "tooltip": {"trigger": "axis"},
        "legend": {"data": legend, "bottom": 0, "type": "scroll"} if many else {"show": False},
        "toolbox": {"feature": {"dataZoom": {"yAxisIndex": "none"}, "restore": {}}, "right": 10},
        "grid": {"left": 10, "right": 20, "top": 45, "bottom": 55 if many else 30, "containLabel": True},
        "xAxis": x, "yAxis": y, "series": series,
    }  # fmt: skip
