"""Plotly figures the pages share: curves (smoothed over their raw line), seed-group bands, per-make bars,
parallel coordinates; integer steps ticked as integers. The confusion heatmap is in ``heatmap``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core.views.compare import Axis

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf")


def curves_figure(points: pd.DataFrame, x: str, label: dict[str, str], title: str, log_y: bool = False) -> go.Figure:
    """One line per series (column ``series``) of points with columns x, value; where a ``raw`` column differs
    from the (smoothed) value, the raw line is drawn faintly beneath, as TensorBoard does."""
    fig = go.Figure()
    for i, series in enumerate(points["series"].unique()):  # in order of appearance
        g = points[points["series"] == series]
        color, name = PALETTE[i % len(PALETTE)], label.get(series, series)
        if "raw" in g and not np.allclose(g["raw"], g["value"], equal_nan=True):
            fig.add_trace(go.Scatter(x=g[x], y=g["raw"], mode="lines", line={"color": color, "width": 1},
                                     opacity=0.3, name=f"{name} (raw)", hoverinfo="skip", showlegend=False))
        fig.add_trace(go.Scatter(x=g[x], y=g["value"], mode="lines+markers" if len(g) < 40 else "lines",
                                 name=name, line={"color": color}))
    return _layout(fig, title, x, log_y, points[x] if x == "step" else None)


def bands_figure(bands: pd.DataFrame, title: str, label: dict[str, str]) -> go.Figure:
    """Mean line with a ±1 std band per seed group (columns group, step, mean, std, count); a run outside any
    seed group (count 1) is a plain line named by ``label``."""
    fig = go.Figure()
    for i, group in enumerate(bands["group"].unique()):  # in order of appearance
        g = bands[bands["group"] == group]
        color, n = PALETTE[i % len(PALETTE)], int(g["count"].max())
        if n > 1:
            upper, lower = g["mean"] + g["std"], g["mean"] - g["std"]
            fig.add_trace(go.Scatter(x=pd.concat([g["step"], g["step"][::-1]]), y=pd.concat([upper, lower[::-1]]),
                                     fill="toself", fillcolor=color, opacity=0.2, line={"width": 0},
                                     hoverinfo="skip", showlegend=False))  # fmt: skip
        name = f"{group} (n={n})" if n > 1 else label.get(group, group)
        fig.add_trace(go.Scatter(x=g["step"], y=g["mean"], name=name, line={"color": color}))
    return _layout(fig, title, "step", False, bands["step"])


def bars_figure(frame: pd.DataFrame, x: str, y: str, title: str) -> go.Figure:
    fig = go.Figure(go.Bar(x=frame[x], y=frame[y], text=[f"{v:.0%}" for v in frame[y]], textposition="outside"))
    fig.update_layout(title=title, yaxis={"range": [0, 1.1], "tickformat": ".0%"}, height=360,
                      margin={"t": 40, "b": 10})
    return fig


def parallel_figure(axes: list[Axis], reverse_colors: bool) -> go.Figure:
    """Parallel coordinates, one line per run, coloured by the last axis (the metric; brightest is best)."""
    dimensions = [{"label": a.label, "values": a.values, **({"tickvals": a.tickvals, "ticktext": a.ticktext}
                                                             if a.tickvals is not None else {})} for a in axes]
    line = {"color": axes[-1].values, "colorscale": "Viridis", "reversescale": reverse_colors, "showscale": True}
    fig = go.Figure(go.Parcoords(line=line, dimensions=dimensions))
    fig.update_layout(height=380, margin={"t": 50, "b": 20, "l": 60, "r": 60})
    return fig


def _layout(fig: go.Figure, title: str, x: str, log_y: bool, steps: pd.Series | None) -> go.Figure:
    fig.update_layout(title=title, xaxis_title=x, height=340, margin={"t": 40, "b": 10},
                      legend={"orientation": "h", "y": -0.25})
    if steps is not None and len(steps):
        fig.update_xaxes(**step_ticks(steps))
    if log_y:
        fig.update_yaxes(type="log")
    return fig


def step_ticks(steps: pd.Series) -> dict[str, object]:
    """Axis settings for integer steps: whole numbers written in full (20,000, never "99.999k"), and one tick per
    step over a short span (never 1.5)."""
    values = pd.to_numeric(steps, errors="coerce").dropna()
    if values.empty or not np.all(np.equal(np.mod(values, 1), 0)):
        return {}
    span = float(values.max() - values.min())
    return {"tickformat": ",d", **({"dtick": 1, "tick0": 0} if span <= 10 else {})}
