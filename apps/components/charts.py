"""Charts every app draws from the trainer's history (Altair, which Streamlit ships)."""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

MAX_POINTS = 600
CHART_HEIGHT = 260   # keep the browser fast on long runs: thin the per-batch series


def _thin(rows: list[dict]) -> list[dict]:
    if len(rows) <= MAX_POINTS:
        return rows
    step = int(np.ceil(len(rows) / MAX_POINTS))
    return rows[::step] + [rows[-1]]


def loss_chart(batches: list[dict]) -> None:
    if not batches:
        return
    df = pd.DataFrame([{"step": r["step"], "loss": r["loss"]} for r in _thin(batches)])
    df["smoothed"] = df["loss"].ewm(alpha=0.1).mean()
    long = df.melt("step", var_name="series", value_name="value")
    chart = alt.Chart(long).mark_line().encode(
        x=alt.X("step:Q", title="batch"), y=alt.Y("value:Q", title="training loss"),
        color=alt.Color("series:N", legend=alt.Legend(orient="top", title=None),
                        scale=alt.Scale(domain=["loss", "smoothed"], range=["#b9c7d8", "#1f5aa6"])),
    ).properties(title="Loss per batch")
    st.altair_chart(chart, width="stretch", height=CHART_HEIGHT)


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
        color=alt.Color("split:N", legend=alt.Legend(orient="top", title=None)),
    ).properties(title=f"{metric.capitalize()} per epoch")
    st.altair_chart(chart, width="stretch", height=CHART_HEIGHT)


def grad_norm_chart(batches: list[dict], title: str = "Gradient norm per layer (log scale)") -> None:
    rows = [{"step": r["step"], "layer": layer, "norm": max(v, 1e-12)}
            for r in _thin(batches) for layer, v in r.get("grad_norms", {}).items()]
    if not rows:
        return
    chart = alt.Chart(pd.DataFrame(rows)).mark_line().encode(
        x=alt.X("step:Q", title="batch"), y=alt.Y("norm:Q", scale=alt.Scale(type="log"), title="‖∂loss/∂W‖"),
        color=alt.Color("layer:N", sort=None, legend=alt.Legend(orient="bottom", title=None, columns=6)),
    ).properties(title=title)
    st.altair_chart(chart, width="stretch", height=CHART_HEIGHT)


def probability_chart(probs: dict[str, float], highlight: str | None = None, height: int = 260) -> None:
    df = pd.DataFrame({"label": list(probs), "probability": list(probs.values())})
    chart = alt.Chart(df).mark_bar().encode(
        x=alt.X("label:N", sort=None, title=None, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("probability:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
        color=alt.condition(alt.datum.label == highlight, alt.value("#e4572e"), alt.value("#4c78a8")),
        tooltip=["label", alt.Tooltip("probability:Q", format=".2%")],
    )
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
    st.altair_chart((heat + text).properties(width=side, height=side, title="Confusion matrix"))


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
