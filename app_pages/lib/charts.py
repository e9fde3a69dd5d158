"""The charts every visit to Run and Compare draws, as Apache ECharts options (drawn by ``echarts.show``):
curves (smoothed over their raw line, as TensorBoard), seed-group bands (mean ± std), per-make bars. ECharts'
code is a quarter of Plotly's: a page with charts is idle about 0.4 s sooner in the browser (bench/RESULTS.md).
The charts a person clicks or drags stay Plotly: the confusion heatmap (``heatmap``), parallel coordinates
(``parallel``) and the Gallery's map."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from app_pages.lib.echarts import PALETTE, frame, line, missing, pairs, x_axis


def curves_option(points: pd.DataFrame, x: str, label: dict[str, str], title: str,
                  log_y: bool = False) -> dict[str, Any]:
    """One line per series (column ``series``) of points with columns x, value; where a ``raw`` column differs
    from the (smoothed) value, the raw line is drawn faintly beneath, as TensorBoard does."""
    series, legend = [], []
    for i, key in enumerate(points["series"].unique()):  # in order of appearance
        g = points[points["series"] == key]
        color, name = PALETTE[i % len(PALETTE)], label.get(key, key)
        if "raw" in g and not np.allclose(g["raw"], g["value"], equal_nan=True):
            series.append(line(pairs(g[x], g["raw"]), f"{name} (raw)", color, width=1, opacity=0.3))
        series.append(line(pairs(g[x], g["value"]), name, color, symbols=len(g) < 40))
        legend.append(name)
    y_axis = {"type": "log"} if log_y else {"type": "value", "scale": True}
    return frame(title, series, legend, x_axis(x, points[x]), y_axis)


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
            series.append({**line(pairs(g["step"], g["mean"] - g["std"]), f"{name} −std", color), **edge})
            series.append({**line(pairs(g["step"], 2 * g["std"]), f"{name} ±std", color), **edge,
                           "areaStyle": {"color": color, "opacity": 0.2}})
        series.append(line(pairs(g["step"], g["mean"]), name, color, symbols=len(g) < 40))
        legend.append(name)
    return frame(title, series, legend, x_axis("step", bands["step"]), {"type": "value", "scale": True})


def bars_option(table: pd.DataFrame, x: str, y: str, title: str) -> dict[str, Any]:
    """Bars of shares (0-1) written as percentages on a 0-100% axis, each bar labelled with its value."""
    values = [None if missing(v) else round(float(v) * 100, 1) for v in table[y]]
    return {
        "title": {"text": title, "left": "center"}, "animation": False,
        "tooltip": {"trigger": "item", "formatter": "{b}: {c}%"},
        "grid": {"left": 10, "right": 10, "top": 55, "bottom": 10, "containLabel": True},
        "xAxis": {"type": "category", "data": [str(v) for v in table[x]], "axisLabel": {"interval": 0, "rotate": 30}},
        "yAxis": {"type": "value", "min": 0, "max": 100, "interval": 20, "axisLabel": {"formatter": "{value}%"}},
        "series": [{"type": "bar", "name": y, "data": values, "label": {"show": True, "position": "top",
                                                                       "formatter": "{c}%"}}],
    }  # fmt: skip
