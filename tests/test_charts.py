"""The ECharts options of the curves, seed-group bands and per-make bars, against what a hand drawing shows."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from app_pages.lib.charts import bands_option, bars_option, curves_option
from app_pages.lib.echarts import pairs, step_axis


def _points(**series: list[float]) -> pd.DataFrame:
    frames = [pd.DataFrame({"series": name, "step": range(1, len(v) + 1), "value": v, "raw": v})
              for name, v in series.items()]
    return pd.concat(frames, ignore_index=True)


def test_raw_line_is_drawn_faintly_under_the_smoothed_one_only_where_they_differ() -> None:
    points = _points(a=[1.0, 3.0, 2.0], b=[5.0, 5.0, 5.0])
    points.loc[points["series"] == "a", "value"] = [1.0, 2.0, 2.0]  # smoothed
    option = curves_option(points, "step", {"a": "run A"}, "loss")
    names = [s["name"] for s in option["series"]]
    assert names == ["run A (raw)", "run A", "b"]  # raw first: drawn beneath; b's raw equals its value
    raw, smoothed = option["series"][:2]
    assert raw["data"] == [[1, 1], [2, 3], [3, 2]] and smoothed["data"] == [[1, 1], [2, 2], [3, 2]]
    assert raw["lineStyle"]["opacity"] < 1 and raw["itemStyle"]["color"] == smoothed["itemStyle"]["color"]
    assert option["legend"]["data"] == ["run A", "b"]  # the raw lines are not in the legend
    assert option["title"]["text"] == "loss" and option["xAxis"]["name"] == "step"
    json.dumps(option, allow_nan=False)  # what the browser gets is plain JSON


def test_integer_steps_get_whole_ticks_and_other_axes_do_not() -> None:
    assert step_axis(pd.Series([0, 1, 2]))["minInterval"] == 1
    assert step_axis(pd.Series([0.0, 20_000.0]))["minInterval"] == 1  # floats holding whole numbers
    assert step_axis(pd.Series([0.5, 1.0])) == {}
    minutes = _points(a=[1.0, 2.0]).rename(columns={"step": "minutes"})
    minutes["minutes"] = [0.0, 0.5]
    assert "minInterval" not in curves_option(minutes, "minutes", {}, "cpu")["xAxis"]
    seconds = minutes.rename(columns={"minutes": "time"})
    assert curves_option(seconds, "time", {}, "loss")["xAxis"]["name"] == "seconds since the run's first point"


def test_missing_values_are_gaps_and_whole_numbers_are_ints() -> None:
    assert pairs(pd.Series([1.0, 2.0, 3.0]), pd.Series([0.5, np.nan, np.inf])) == [[1, 0.5], [2, None], [3, None]]


def test_log_scale_and_a_lone_series_without_legend() -> None:
    option = curves_option(_points(a=[1.0, 10.0]), "step", {}, "loss", log_y=True)
    assert option["yAxis"]["type"] == "log" and option["legend"] == {"show": False}


def test_a_seed_group_is_a_band_of_one_std_around_its_mean_and_a_lone_run_a_line() -> None:
    bands = pd.DataFrame({"group": ["g", "g", "r"], "step": [1, 2, 1], "mean": [0.5, 0.7, 0.4],
                          "std": [0.1, 0.2, 0.0], "count": [3, 3, 1]})
    option = bands_option(bands, "top1", {"r": "run r"})
    edge, width, mean, lone = option["series"]
    assert [y for _, y in edge["data"]] == pytest.approx([0.4, 0.5])  # mean - std
    assert [y for _, y in width["data"]] == pytest.approx([0.2, 0.4])  # stacked on the edge: up to mean + std
    assert edge["stack"] == width["stack"] and "areaStyle" in width and "areaStyle" not in edge
    assert edge["tooltip"] == width["tooltip"] == {"show": False}  # the tooltip shows the means
    assert mean["name"] == "g (n=3)" and mean["data"] == [[1, 0.5], [2, 0.7]]
    assert lone["name"] == "run r" and "stack" not in lone
    assert option["legend"]["data"] == ["g (n=3)", "run r"]


def test_bars_are_percentages_with_their_labels() -> None:
    frame = pd.DataFrame({"make": ["audi", "bmw"], "accuracy": [0.8333, 1.0]})
    option = bars_option(frame, "make", "accuracy", "Accuracy per make")
    assert option["xAxis"]["data"] == ["audi", "bmw"]
    assert option["series"][0]["data"] == [83.3, 100.0]
    assert option["yAxis"]["max"] == 100 and option["series"][0]["label"]["formatter"] == "{c}%"
