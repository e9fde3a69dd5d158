"""The charts every visit to Run and Compare draws, as Apache ECharts options for ``st.echarts_chart``: curves
(smoothed over their raw line, as TensorBoard), seed-group bands (mean ± std), per-make bars; integer steps ticked
as whole numbers. ECharts' code is a quarter of Plotly's, and a page with charts is idle about 0.4 s sooner in the
browser (bench/RESULTS.md). The charts a person clicks or drags stay Plotly: the confusion heatmap (``heatmap``),
parallel coordinates (``parallel``) and the Gallery's map."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf")
HEIGHT = 340  # pixels, every chart of these pages
RENDERER = "svg"  # real DOM nodes: the titles and ticks can be read (and tested); fast at our <= 1,000 points


def curves_option(points: pd.DataFrame, x: str, label: dict[str, str], title: str,
                  log_y: bool = False) -> dict[str, Any]:
    """One line per series (column ``series``) of points with columns x, value; where a ``raw`` column differs
    from the (smoothed) value, the raw line is drawn faintly beneath, as TensorBoard does."""
    series, legend = [], []
    for i, key in enumerate(points["series"].unique()):  # in order of appearance
        g = points[points["series"] == key]
        color, name = PALETTE[i % len(PALETTE)], label.get(key, key)
        if "raw" in g and not np.allclose(g["raw"], g["value"], equal_nan=True):
            series.append(_line(pairs(g[x], g["raw"]), f"{name} (raw)", color, width=1, opacity=0.3))
        series.append(_line(pairs(g[x], g["value"]), name, color, symbols=len(g) < 40))
        legend.append(name)
    y_axis = {"type": "log"} if log_y else {"type": "value", "scale": True}
    return _option(title, series, legend, _x_axis(x, points[x]), y_axis)


def bands_option(bands: pd.DataFrame, title: str, label: dict[str, str]) -> dict[str, Any]:
    """Mean line with a ±1 std band per seed group (columns group, step, mean, std, count); a run outside any
    seed group (count 1) is a plain line named by ``label``. A band is a filled series stacked on an invisible
    lower edge, left out of the tooltip, which shows the means."""
    series, legend = [], []
    for i, group in enumerate(bands["group"].unique()):  # in order of appearance
        g = bands[bands["group"] == group]
        color, n = PALETTE[i % len(PALETTE)], int(g["count"].max())
        name = f"{group} (n={n})" if n > 1 else label.get(group, group)
        if n > 1:
            edge = {"stack": f"band{i}", "silent": True, "tooltip": {"show": False}, "showSymbol": False,
                    "lineStyle": {"opacity": 0}}
            series.append({**_line(pairs(g["step"], g["mean"] - g["std"]), f"{name} −std", color), **edge})
            series.append({**_line(pairs(g["step"], 2 * g["std"]), f"{name} ±std", color), **edge,
                           "areaStyle": {"color": color, "opacity": 0.2}})
        series.append(_line(pairs(g["step"], g["mean"]), name, color, symbols=len(g) < 40))
        legend.append(name)
    return _option(title, series, legend, _x_axis("step", bands["step"]), {"type": "value", "scale": True})


def bars_option(frame: pd.DataFrame, x: str, y: str, title: str) -> dict[str, Any]:
    """Bars of shares (0-1) written as percentages on a 0-100% axis, each bar labelled with its value."""
    values = [None if _missing(v) else round(float(v) * 100, 1) for v in frame[y]]
    return {
        "title": {"text": title, "left": "center"}, "animation": False,
        "tooltip": {"trigger": "item", "formatter": "{b}: {c}%"},
        "grid": {"left": 10, "right": 10, "top": 55, "bottom": 10, "containLabel": True},
        "xAxis": {"type": "category", "data": [str(v) for v in frame[x]], "axisLabel": {"interval": 0, "rotate": 30}},
        "yAxis": {"type": "value", "min": 0, "max": 100, "interval": 20, "axisLabel": {"formatter": "{value}%"}},
        "series": [{"type": "bar", "name": y, "data": values, "label": {"show": True, "position": "top",
                                                                       "formatter": "{c}%"}}],
    }  # fmt: skip


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
    if _missing(v):
        return None
    v = float(v)
    return int(v) if v.is_integer() and abs(v) < 2**53 else v


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and not math.isfinite(v))


def _line(data: list[list[Any]], name: str, color: str, *, width: float = 2, opacity: float = 1.0,
          symbols: bool = False) -> dict[str, Any]:
    return {"type": "line", "name": name, "data": data, "showSymbol": symbols, "symbolSize": 5,
            "itemStyle": {"color": color}, "lineStyle": {"width": width, "opacity": opacity}}


def _x_axis(x: str, values: pd.Series) -> dict[str, Any]:
    axis = {"type": "value", "name": x, "nameLocation": "middle", "nameGap": 28, "scale": True}
    return {**axis, **(step_axis(values) if x == "step" else {})}


def _option(title: str, series: list[dict], legend: list[str], x_axis: dict, y_axis: dict) -> dict[str, Any]:
    many = len(legend) > 1
    return {
        "title": {"text": title, "left": "center"}, "animation": False,
        "tooltip": {"trigger": "axis"},
        "legend": {"data": legend, "bottom": 0, "type": "scroll"} if many else {"show": False},
        "toolbox": {"feature": {"dataZoom": {"yAxisIndex": "none"}, "restore": {}}, "right": 10},
        "grid": {"left": 10, "right": 20, "top": 45, "bottom": 55 if many else 30, "containLabel": True},
        "xAxis": x_axis, "yAxis": y_axis, "series": series,
    }  # fmt: skip
