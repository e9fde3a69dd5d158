"""A sweep's parallel coordinates as a Plotly figure: one line per run across the config keys that differ, axes
that can be dragged to filter."""

from __future__ import annotations

import plotly.graph_objects as go

from core.views.compare import Axis


def parallel_figure(axes: list[Axis], reverse_colors: bool) -> go.Figure:
    """Parallel coordinates, one line per run, coloured by the last axis (the metric; brightest is best)."""
    dimensions = [{"label": a.label, "values": a.values, **({"tickvals": a.tickvals, "ticktext": a.ticktext}
                                                             if a.tickvals is not None else {})} for a in axes]
    line = {"color": axes[-1].values, "colorscale": "Viridis", "reversescale": reverse_colors, "showscale": True}
    fig = go.Figure(go.Parcoords(line=line, dimensions=dimensions))
    fig.update_layout(height=380, margin={"t": 50, "b": 20, "l": 60, "r": 60})
    return fig
