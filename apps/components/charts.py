"""Charts every app draws from the trainer's history (Altair, which Streamlit ships)."""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from models.core.history import chart_rows

CHART_HEIGHT = 300
LIVE_POINTS = 250   # per series in the live training charts: redrawn every refresh


def _show(chart: alt.Chart, title: str = "", height: int = CHART_HEIGHT) -> None:
    # the title as text above the chart: inside Vega, Streamlit's theme pads it into a tall empty band
    if title:
        st.markdown(f"**{title}**")
    st.altair_chart(chart, width="stretch", height=height)


def loss_chart(batches: list[dict]) -> None:
    if not batches:
        return
    df = pd.DataFrame([{"step": r["step"], "loss": r["loss"]} for r in chart_rows(batches, LIVE_POINTS)])
    df["smoothed"] = df["loss"].ewm(alpha=0.1).mean()
    long = df.melt("step", var_name="series", value_name="value")
    chart = alt.Chart(long).mark_line().encode(
        x=alt.X("step:Q", title="batch"), y=alt.Y("value:Q", title="training loss"),
        color=alt.Color("series:N", legend=alt.Legend(orient="bottom", title=None),
                        scale=alt.Scale(domain=["loss", "smoothed"], range=["#b9c7d8", "#1f5aa6"])),
    )
    _show(chart, "Loss per batch")


def epoch_chart(epochs: list[dict], metric: str = "accuracy") -> None:
    rows = []
    for e in epochs:
        for part in ("train", "val", "test"):
            if f"{part}_{metric}" in e:
                rows.append({"epoch": e["epoch"], "split": part, metric: e[f"{part}_{metric}"]})
    if not rows:
        return
    chart = alt.Chart(pd.DataFrame(rows)).mark_line(point=True).encode(
        x=alt.X("epoch:Q", axis=alt.Axis(tickMinStep=1)), y=alt.Y(f"{metric}:Q", scale=alt.Scale(zero=False)),
        color=alt.Color("split:N", legend=alt.Legend(orient="bottom", title=None)),
    )
    _show(chart, f"{metric.capitalize()} per epoch")


def grad_norm_chart(batches: list[dict], title: str = "Gradient norm per layer (log scale)") -> None:
    rows = [{"step": r["step"], "layer": layer, "norm": max(v, 1e-12)}
            for r in chart_rows(batches, LIVE_POINTS) for layer, v in r.get("grad_norms", {}).items()]
    if not rows:
        return
    chart = alt.Chart(pd.DataFrame(rows)).mark_line().encode(
        x=alt.X("step:Q", title="batch"), y=alt.Y("norm:Q", scale=alt.Scale(type="log"), title="‖∂loss/∂W‖"),
        color=alt.Color("layer:N", sort=None, legend=alt.Legend(orient="bottom", title=None, columns=6)),
    )
    _show(chart, title)


def probability_chart(probs: dict[str, float], highlight: str | None = None, height: int = 260) -> None:
    """One bar a class. Over ten classes (Speech's 22) the bars lie down, likeliest first, so that
    every class, the winner above all, has its label (upright, the axis skipped three in four)."""
    df = pd.DataFrame({"label": list(probs), "probability": list(probs.values())})
    color = alt.condition(alt.datum.label == highlight, alt.value("#e4572e"), alt.value("#4c78a8"))
    tooltip = ["label", alt.Tooltip("probability:Q", format=".2%")]
    value = alt.Axis(format="%", values=[0, 0.25, 0.5, 0.75, 1])
    if len(df) > 10:
        chart = alt.Chart(df).mark_bar().encode(
            y=alt.Y("label:N", sort="-x", title=None, axis=alt.Axis(labelOverlap=False, labelLimit=160)),
            x=alt.X("probability:Q", scale=alt.Scale(domain=[0, 1]), axis=value), color=color, tooltip=tooltip)
        st.altair_chart(chart, width="stretch", height=max(height, 16 * len(df) + 40))
        return
    chart = alt.Chart(df).mark_bar().encode(
        x=alt.X("label:N", sort=None, title=None, axis=alt.Axis(labelAngle=0, labelOverlap=False)),
        y=alt.Y("probability:Q", scale=alt.Scale(domain=[0, 1]), axis=value), color=color, tooltip=tooltip)
    st.altair_chart(chart, width="stretch", height=height)


def confusion_chart(matrix: list[list[int]], labels: list[str]) -> None:
    rows = [{"true": labels[i], "predicted": labels[j], "count": c}
            for i, row in enumerate(matrix) for j, c in enumerate(row)]
    df = pd.DataFrame(rows)
    base = alt.Chart(df).encode(x=alt.X("predicted:N", sort=labels), y=alt.Y("true:N", sort=labels))
    heat = base.mark_rect().encode(color=alt.Color("count:Q", scale=alt.Scale(type="symlog"), legend=None),
                                   tooltip=["true", "predicted", "count"])
    text = base.mark_text(fontSize=11).encode(
        text=alt.condition(alt.datum.count > 0, "count:Q", alt.value("")),
        color=alt.condition(alt.datum.count > max(1, df["count"].max() / 3), alt.value("white"), alt.value("black")))
    side = max(240, min(560, 40 * len(labels)))
    st.markdown("**Confusion matrix** (rows: true label, columns: predicted)")
    st.altair_chart((heat + text).properties(width=side, height=side))


def to_pixels(a: np.ndarray, size: int = 140, signed: bool = False) -> np.ndarray:
    """A small map as a uint8 image `size` pixels wide, nearest-neighbour so pixels stay visible."""
    from PIL import Image
    a = np.asarray(a, np.float32)
    if signed:
        m = max(float(np.abs(a).max()), 1e-8)
        a = (a / m + 1) / 2
    else:
        lo, hi = float(a.min()), float(a.max())
        a = (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)
    img = Image.fromarray((a * 255).astype(np.uint8))
    return np.asarray(img.resize((size, round(size * a.shape[0] / a.shape[1])), Image.NEAREST))


def tile(maps: np.ndarray, cols: int, size: int = 84, gap: int = 4) -> np.ndarray:
    """Feature maps C×H×W side by side in a grid, each scaled to its own range."""
    tiles = [to_pixels(m, size) for m in maps]
    rows = int(np.ceil(len(tiles) / cols))
    h, w = tiles[0].shape
    out = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap), 255, np.uint8)
    for i, t in enumerate(tiles):
        r, c = divmod(i, cols)
        out[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = t
    return out


def runs_chart(runs: dict[str, list[dict]], x: str = "step", y: str = "loss", title: str = "",
               log: bool = False, x_title: str | None = None) -> None:
    """Several training runs on one chart, one line each (the Lab's side-by-side comparisons)."""
    rows = [{"run": str(name), x: r[x], y: r[y]} for name, hist in runs.items() for r in chart_rows(hist)
            if r.get(y) is not None and np.isfinite(r[y])]
    if not rows:
        st.caption("Nothing to plot: no finite values.")
        return
    scale = alt.Scale(type="log") if log else alt.Scale(zero=False)
    chart = alt.Chart(pd.DataFrame(rows)).mark_line().encode(
        x=alt.X(f"{x}:Q", title=x_title or x), y=alt.Y(f"{y}:Q", scale=scale),
        color=alt.Color("run:N", sort=list(map(str, runs)), legend=alt.Legend(orient="bottom", title=None)),
    )
    _show(chart, title)


def series_chart(series: dict[str, list[float]], x_title: str, y_title: str, title: str = "",
                 log: bool = True, x_values: list | None = None) -> None:
    """Named series of numbers against their index (e.g. gradient norm per time step or per layer)."""
    rows = [{"series": name, "x": (x_values[i] if x_values else i + 1), "value": max(v, 1e-30)}
            for name, vals in series.items() for i, v in enumerate(vals) if v is not None and np.isfinite(v)]
    if not rows:
        return
    chart = alt.Chart(pd.DataFrame(rows)).mark_line(point=True).encode(
        x=alt.X("x:Q", title=x_title), y=alt.Y("value:Q", title=y_title,
                                               scale=alt.Scale(type="log") if log else alt.Scale(zero=False)),
        color=alt.Color("series:N", sort=list(series), legend=alt.Legend(orient="bottom", title=None)),
    )
    _show(chart, title)


def boundary_chart(grid: dict, x: np.ndarray, y: np.ndarray, title: str = "") -> None:
    """A classifier's decision regions (the grid's probability) under the data points."""
    xx, yy, prob = (np.asarray(grid[k]) for k in ("xx", "yy", "prob"))
    dx = float(xx[0, 1] - xx[0, 0]) if xx.shape[1] > 1 else 1.0
    dy = float(yy[1, 0] - yy[0, 0]) if yy.shape[0] > 1 else 1.0
    cells = pd.DataFrame({"x": xx.ravel(), "y": yy.ravel(), "x2": xx.ravel() + dx, "y2": yy.ravel() + dy,
                          "p": prob.ravel()})
    heat = alt.Chart(cells).mark_rect(opacity=0.55).encode(
        x=alt.X("x:Q", title="x₁", scale=alt.Scale(domain=[float(xx.min()), float(xx.max() + dx)], nice=False)),
        x2="x2", y=alt.Y("y:Q", title="x₂", scale=alt.Scale(domain=[float(yy.min()), float(yy.max() + dy)],
                                                           nice=False)), y2="y2",
        color=alt.Color("p:Q", scale=alt.Scale(scheme="redblue", domain=[0, 1]), legend=None))
    pts = pd.DataFrame({"x": x[:, 0], "y": x[:, 1], "class": [str(int(c)) for c in y]})
    dots = alt.Chart(pts).mark_circle(size=18, stroke="black", strokeWidth=0.5, opacity=1).encode(
        x="x:Q", y="y:Q", color=alt.Color("class:N", scale=alt.Scale(range=["#c0392b", "#2c6fbb", "#27ae60",
                                                                           "#8e44ad", "#f39c12"]), legend=None))
    if title:
        st.markdown(f"**{title}**")
    st.altair_chart((heat + dots).properties(width=240, height=240))
