"""The confusion matrix as a Plotly heatmap whose cells can be clicked (the Run page then shows their images)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from core.views.predictions import Matrix


def heatmap_figure(m: Matrix, title: str, per_row: bool) -> go.Figure:
    """The confusion matrix with each cell's count written in it; the colour is the count or, ``per_row``, the
    cell's share of its true class. A marker on every cell (nearly transparent) makes it clickable: a click
    selects (truth, predicted), whose images the page then shows."""
    names, counts = m.names, m.counts
    text = np.where(counts > 0, counts.astype(str), "")
    fig = go.Figure(go.Heatmap(z=m.shade, x=names, y=names, colorscale="Blues", text=text, texttemplate="%{text}",
                               hoverinfo="skip", zmin=0, zmax=1 if per_row else None,
                               colorbar={"tickformat": ".0%"} if per_row else None))  # fmt: skip
    rows, cols = np.indices(counts.shape)
    share = m.shade if per_row else counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    fig.add_trace(go.Scatter(
        x=[names[c] for c in cols.ravel()], y=[names[r] for r in rows.ravel()], mode="markers",
        marker={"symbol": "square", "size": 28, "color": "rgba(0,0,0,0.01)"}, showlegend=False,
        customdata=np.stack([counts.ravel(), share.ravel()], axis=1),
        hovertemplate="truth %{y}<br>predicted %{x}<br>%{customdata[0]} images (%{customdata[1]:.0%} of the class)"
                      "<br>click to see them<extra></extra>",
    ))  # fmt: skip
    side = min(900, 160 + 34 * len(names))
    fig.update_layout(title=title, xaxis_title="predicted", yaxis_title="truth", height=side, clickmode="event+select",
                      yaxis={"autorange": "reversed"}, margin={"t": 40}, dragmode=False)  # fmt: skip
    return fig
