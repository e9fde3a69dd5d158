"""Plotly figures the pages share: curves, bands, per-make bars, confusion heatmaps, parallel coordinates."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from core.views.compare import Axis

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf")


def curves_figure(points: pd.DataFrame, x: str, label: dict[str, str], title: str, log_y: bool = False) -> go.Figure:
    """One line per series (column ``series``) of points with columns x, value."""
    fig = go.Figure()
    for i, series in enumerate(points["series"].unique()):  # in order of appearance
        g = points[points["series"] == series]
        fig.add_trace(go.Scatter(x=g[x], y=g["value"], mode="lines+markers" if len(g) < 40 else "lines",
                                 name=label.get(series, series), line={"color": PALETTE[i % len(PALETTE)]}))
    return _layout(fig, title, x, log_y)


def bands_figure(bands: pd.DataFrame, title: str) -> go.Figure:
    """Mean line with a ±1 std band per group (columns group, step, mean, std, count)."""
    fig = go.Figure()
    for i, group in enumerate(bands["group"].unique()):  # in order of appearance
        g = bands[bands["group"] == group]
        color = PALETTE[i % len(PALETTE)]
        upper, lower = g["mean"] + g["std"], g["mean"] - g["std"]
        fig.add_trace(go.Scatter(x=pd.concat([g["step"], g["step"][::-1]]), y=pd.concat([upper, lower[::-1]]),
                                 fill="toself", fillcolor=color, opacity=0.2, line={"width": 0}, hoverinfo="skip",
                                 showlegend=False))
        n = int(g["count"].max())
        fig.add_trace(go.Scatter(x=g["step"], y=g["mean"], name=f"{group or '(no group)'} (n={n})",
                                 line={"color": color}))
    return _layout(fig, title, "step", False)


def bars_figure(frame: pd.DataFrame, x: str, y: str, title: str) -> go.Figure:
    fig = go.Figure(go.Bar(x=frame[x], y=frame[y], text=[f"{v:.0%}" for v in frame[y]], textposition="outside"))
    fig.update_layout(title=title, yaxis={"range": [0, 1.1], "tickformat": ".0%"}, height=360,
                      margin={"t": 40, "b": 10})
    return fig


def heatmap_figure(cells: pd.DataFrame, names: list[str], title: str) -> go.Figure:
    """Confusion heatmap from non-zero cells (truth, predicted, count) over ``names`` in order."""
    matrix = cells.pivot_table(index="truth", columns="predicted", values="count", aggfunc="sum", fill_value=0)
    matrix = matrix.reindex(index=names, columns=names, fill_value=0)
    fig = go.Figure(go.Heatmap(z=matrix.values, x=names, y=names, colorscale="Blues",
                               hovertemplate="truth %{y}<br>predicted %{x}<br>%{z} images<extra></extra>"))
    fig.update_layout(title=title, xaxis_title="predicted", yaxis_title="truth", height=560,
                      yaxis={"autorange": "reversed"}, margin={"t": 40})
    return fig


def parallel_figure(axes: list[Axis], reverse_colors: bool) -> go.Figure:
    """Parallel coordinates, one line per run, coloured by the last axis (the metric; brightest is best)."""
    dimensions = [{"label": a.label, "values": a.values, **({"tickvals": a.tickvals, "ticktext": a.ticktext}
                                                             if a.tickvals is not None else {})} for a in axes]
    line = {"color": axes[-1].values, "colorscale": "Viridis", "reversescale": reverse_colors, "showscale": True}
    fig = go.Figure(go.Parcoords(line=line, dimensions=dimensions))
    fig.update_layout(height=380, margin={"t": 50, "b": 20, "l": 60, "r": 60})
    return fig


def _layout(fig: go.Figure, title: str, x: str, log_y: bool) -> go.Figure:
    fig.update_layout(title=title, xaxis_title=x, height=340, margin={"t": 40, "b": 10},
                      legend={"orientation": "h", "y": -0.25})
    if log_y:
        fig.update_yaxes(type="log")
    return fig
