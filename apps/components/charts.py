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


def _columns(names, width: int) -> int:
    longest = max((len(str(n)) for n in names), default=1)
    return max(1, min(len(names), width // (7 * longest + 30)))


def _legend(names, width: int = 200) -> alt.Legend:
    """A legend under the chart with every label in full: as many columns as fit in `width` pixels
    (the plot of a chart in a third of the page is about 200 wide; Vega clips what overflows)."""
    return alt.Legend(orient="bottom", title=None, labelLimit=0, columns=_columns(names, width))


def _height(names, width: int = 200) -> int:
    """The chart's height with room for its legend's extra rows, so the plot keeps its size."""
    rows = -(-len(names) // _columns(names, width))
    return CHART_HEIGHT + 40 * (rows - 1)


def _whole(title: str | None = None) -> dict:
    """An axis of whole numbers (epochs, steps, layers): no 1.5 between 1 and 2, and no
    "1.000000" when there is a single value."""
    return dict(title=title, axis=alt.Axis(format="d", tickMinStep=1))


def _all_whole(values) -> bool:
    return all(isinstance(v, (int, float, np.integer, np.floating)) and float(v).is_integer() for v in values)


def _log_axis(title: str | None = None) -> alt.Axis:
    """Log-scale ticks in one style: 0.001 … 1000 as numbers, beyond that 1e-5, 1e+8 (Vega's
    default mixes 1e-8, 0.000001 and 10,000,000,000 on one axis)."""
    return alt.Axis(title=title, labelExpr="datum.label == '' ? '' : abs(datum.value) >= 1e4 || "
                    "abs(datum.value) < 1e-3 ? format(datum.value, '.0e') : format(datum.value, '~g')")


def loss_chart(batches: list[dict]) -> None:
    if not batches:
        return
    df = pd.DataFrame([{"step": r["step"], "loss": r["loss"]} for r in chart_rows(batches, LIVE_POINTS)])
    df["smoothed"] = df["loss"].ewm(alpha=0.1).mean()
    long = df.melt("step", var_name="series", value_name="value")
    chart = alt.Chart(long).mark_line().encode(
        x=alt.X("step:Q", **_whole("batch")), y=alt.Y("value:Q", title="training loss"),
        color=alt.Color("series:N", legend=_legend(["loss", "smoothed"]),
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
        x=alt.X("epoch:Q", **_whole("epoch")),
        y=alt.Y(f"{metric}:Q", scale=alt.Scale(zero=False),
                axis=alt.Axis(format=".1~%") if metric == "accuracy" else alt.Undefined),
        color=alt.Color("split:N", legend=_legend(["train", "val", "test"])),
    )
    _show(chart, f"{metric.capitalize()} per epoch")


def grad_norm_chart(batches: list[dict], title: str = "Gradient norm per layer (log scale)",
                    legend_width: int = 200) -> None:
    rows = [{"step": r["step"], "layer": layer, "norm": max(v, 1e-12)}
            for r in chart_rows(batches, LIVE_POINTS) for layer, v in r.get("grad_norms", {}).items()]
    if not rows:
        return
    layers = list(dict.fromkeys(r["layer"] for r in rows))
    chart = alt.Chart(pd.DataFrame(rows)).mark_line().encode(
        x=alt.X("step:Q", **_whole("batch")),
        y=alt.Y("norm:Q", scale=alt.Scale(type="log"), axis=_log_axis("‖∂loss/∂W‖")),
        # ten colours repeat past ten layers (KeywordNet has 12: two of them looked the same)
        color=alt.Color("layer:N", sort=None, legend=_legend(layers, legend_width),
                        scale=alt.Scale(scheme="category20") if len(layers) > 10 else alt.Undefined),
    )
    _show(chart, title, _height(layers, legend_width))


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
    whole = _all_whole(r[x] for r in rows)   # steps and epochs, not seconds
    chart = alt.Chart(pd.DataFrame(rows)).mark_line().encode(
        x=alt.X(f"{x}:Q", **_whole(x_title or x)) if whole else alt.X(f"{x}:Q", title=x_title or x),
        y=alt.Y(f"{y}:Q", scale=scale, axis=_log_axis(y) if log else alt.Undefined),
        color=alt.Color("run:N", sort=list(map(str, runs)), legend=_legend(list(map(str, runs)))),
    )
    _show(chart, title, _height(list(runs)))


def series_chart(series: dict[str, list[float]], x_title: str, y_title: str, title: str = "",
                 log: bool = True, x_values: list | None = None) -> None:
    """Named series of numbers against their index (e.g. gradient norm per time step or per layer)."""
    rows = [{"series": name, "x": (x_values[i] if x_values else i + 1), "value": max(v, 1e-30)}
            for name, vals in series.items() for i, v in enumerate(vals) if v is not None and np.isfinite(v)]
    if not rows:
        return
    whole = _all_whole(r["x"] for r in rows)   # time steps, layers
    chart = alt.Chart(pd.DataFrame(rows)).mark_line(point=True).encode(
        x=alt.X("x:Q", **_whole(x_title)) if whole else alt.X("x:Q", title=x_title),
        y=alt.Y("value:Q", axis=_log_axis(y_title) if log else alt.Axis(title=y_title),
                scale=alt.Scale(type="log") if log else alt.Scale(zero=False)),
        color=alt.Color("series:N", sort=list(series), legend=_legend(list(series))),
    )
    _show(chart, title, _height(list(series)))


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


# ---- the Lab's claims: masks, per-unit bars, 2-D codes, learning curves ----

def heatmap_chart(matrix, x_title: str, y_title: str, title: str = "", color: str = "#1f5aa6",
                  value: str = "value", height: int = 240) -> None:
    """A small matrix, one cell per entry, rows top to bottom (e.g. examples × hidden units):
    white is exactly 0, `color` the largest entry (mixed here: the theme restyles Vega's ramps)."""
    m = np.asarray(matrix, dtype=float)
    top = np.array([int(color[i:i + 2], 16) for i in (1, 3, 5)], dtype=float)
    # a square root and a floor, so that small but non-zero entries stay visibly coloured
    share = np.where(m > 0, 0.12 + 0.88 * np.sqrt(np.clip(m, 0, None) / max(float(m.max()), 1e-12)), 0.0)
    fill = lambda t: "#%02x%02x%02x" % tuple(int(round(c)) for c in 255 + (top - 255) * t)   # noqa: E731
    df = pd.DataFrame([{"row": i + 1, "col": j + 1, value: m[i, j], "fill": fill(share[i, j])}
                       for i in range(m.shape[0]) for j in range(m.shape[1])])
    chart = alt.Chart(df).mark_rect(stroke="#cccccc", strokeWidth=1).encode(
        x=alt.X("col:O", title=x_title, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("row:O", title=y_title, axis=alt.Axis(labelOverlap=False)),
        color=alt.Color("fill:N", scale=None),
        tooltip=["row", "col", alt.Tooltip(f"{value}:Q", format=".4g")])
    _show(chart, title, height)


def bar_chart(values: list[float], groups: list[str], x_title: str, y_title: str, title: str = "",
              height: int = 220) -> None:
    """One bar per item (1, 2, …), coloured by its group (e.g. kept / dropped); an exact 0 is
    written on the axis, where its bar cannot be seen."""
    df = pd.DataFrame({"item": range(1, len(values) + 1), "value": values, "group": groups})
    x = alt.X("item:O", title=x_title, axis=alt.Axis(labelAngle=0))
    bars = alt.Chart(df).mark_bar().encode(
        x=x, y=alt.Y("value:Q", title=y_title),
        color=alt.Color("group:N", sort=sorted(set(groups)), legend=alt.Legend(orient="bottom", title=None)),
        tooltip=["item", "group", alt.Tooltip("value:Q", format=".4g")])
    zeros = alt.Chart(df[df["value"] == 0]).mark_text(dy=-8, fontSize=12, color="#555555").encode(
        x=x, y="value:Q", text=alt.value("0"))
    _show(bars + zeros, title, height)


def scatter_chart(xy: np.ndarray, labels, title: str = "", x_title: str = "code 1", y_title: str = "code 2",
                  height: int = 420) -> None:
    """Points in the plane coloured by a label (category10, so ten digits stay apart)."""
    df = pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "label": [str(v) for v in labels]})
    chart = alt.Chart(df).mark_circle(size=14, opacity=0.75).encode(
        x=alt.X("x:Q", title=x_title), y=alt.Y("y:Q", title=y_title),
        color=alt.Color("label:N", scale=alt.Scale(scheme="category10"), sort=sorted(set(df["label"])),
                        legend=alt.Legend(orient="right", title="digit")),
        tooltip=["label"])
    _show(chart, title, height)


def log_x_chart(rows: list[dict], x: str, y: str, series: str, x_title: str, y_title: str, title: str = "",
                marked: list[dict] | None = None, y_format: str = "%") -> None:
    """Lines with points against a log x axis (a learning curve), one per `series`; `marked`
    rows (e.g. points trained live) are drawn on top as large diamonds in their series' colour."""
    df = pd.DataFrame(rows + (marked or []))
    names = list(dict.fromkeys(df[series]))
    color = alt.Color(f"{series}:N", sort=names, legend=alt.Legend(orient="bottom", title=None) if len(names) > 1
                      else None)
    enc = dict(x=alt.X(f"{x}:Q", title=x_title, scale=alt.Scale(type="log"),
                       axis=alt.Axis(values=sorted(df[x].unique().tolist()), format="~s")),
               y=alt.Y(f"{y}:Q", title=y_title, scale=alt.Scale(zero=False), axis=alt.Axis(format=y_format)),
               color=color, tooltip=[x, series, alt.Tooltip(f"{y}:Q", format=".3f")])
    chart = alt.Chart(pd.DataFrame(rows)).mark_line(point=True).encode(**enc)
    if marked:
        chart += alt.Chart(pd.DataFrame(marked)).mark_point(shape="diamond", size=160, filled=True, opacity=1,
                                                            stroke="black", strokeWidth=1).encode(**enc)
    _show(chart, title)


# ---- the Lab's claims about the gradient: its cost, the loss landscape ----

def _seconds_label() -> str:
    return ("datum.value >= 3600 ? format(datum.value / 3600, '.2~g') + ' h' : datum.value >= 1 ? "
            "format(datum.value, '~g') + ' s' : datum.value >= 0.001 ? format(datum.value * 1000, '~g') + ' ms' "
            ": format(datum.value * 1e6, '~g') + ' µs'")


def scaling_chart(rows: list[dict], title: str = "", height: int = 340) -> None:
    """Seconds against the number of weights, both on log axes, one line per method.
    rows: {"weights", "seconds", "method", "how": "measured" | "scaled"}; scaled points are
    hollow and joined by a dashed line (continuing from the method's last measured point)."""
    methods = list(dict.fromkeys(r["method"] for r in rows))
    segs = []
    for method in methods:
        mine = sorted((r for r in rows if r["method"] == method), key=lambda r: r["weights"])
        measured = [r for r in mine if r["how"] == "measured"]
        scaled = [r for r in mine if r["how"] == "scaled"]
        segs += [dict(r, seg=f"{method} measured") for r in measured]
        segs += [dict(r, seg=f"{method} scaled") for r in (measured[-1:] + scaled if scaled else [])]
    df = pd.DataFrame(segs)
    decades = [10.0 ** e for e in range(-6, 6) if df["seconds"].min() / 10 < 10.0 ** e < df["seconds"].max() * 10]
    x = alt.X("weights:Q", title="number of weights (log scale)", scale=alt.Scale(type="log"),
              axis=alt.Axis(format="~s"))
    y = alt.Y("seconds:Q", title="time for the whole gradient (log scale)", scale=alt.Scale(type="log"),
              axis=alt.Axis(values=decades, labelExpr=_seconds_label()))
    color = alt.Color("method:N", sort=methods, scale=alt.Scale(scheme="category10"), legend=_legend(methods, 600))
    lines = alt.Chart(df).mark_line().encode(
        x=x, y=y, color=color, detail="seg:N",
        strokeDash=alt.StrokeDash("how:N", sort=["measured", "scaled"], title=None,
                                  legend=alt.Legend(orient="bottom", labelLimit=0, labelExpr="datum.label == "
                                                    "'scaled' ? 'scaled from a sample' : 'measured in full'")))
    dots = alt.Chart(pd.DataFrame(rows)).mark_point(size=45, filled=False, strokeWidth=2).encode(
        x=x, y=y, color=color,
        fill=alt.condition(alt.datum.how == "measured", alt.Fill("method:N", legend=None), alt.value("white")),
        tooltip=["method", alt.Tooltip("weights:Q", format=","), alt.Tooltip("seconds:Q", format=".3g"), "how"])
    _show(lines + dots, title, height)


def landscape_chart(alphas: list[float], betas: list[float], loss: np.ndarray, path: list[list[float]],
                    title: str = "", x_title: str = "α (direction 1)", y_title: str = "β (direction 2)",
                    height: int = 420) -> None:
    """A loss surface over a grid (rows: β, columns: α) on a log colour scale, and a path
    across it from its start (○) to its end (×)."""
    a, b, z = np.asarray(alphas), np.asarray(betas), np.asarray(loss, dtype=float)
    da, db = (a[1] - a[0]) if len(a) > 1 else 1.0, (b[1] - b[0]) if len(b) > 1 else 1.0
    aa, bb = np.meshgrid(a, b)
    cells = pd.DataFrame({"a": (aa - da / 2).ravel(), "a2": (aa + da / 2).ravel(), "b": (bb - db / 2).ravel(),
                          "b2": (bb + db / 2).ravel(), "loss": np.maximum(z.ravel(), 1e-6)})
    xs = alt.Scale(domain=[float(a[0] - da / 2), float(a[-1] + da / 2)], nice=False)
    ys = alt.Scale(domain=[float(b[0] - db / 2), float(b[-1] + db / 2)], nice=False)
    heat = alt.Chart(cells).mark_rect().encode(
        x=alt.X("a:Q", title=x_title, scale=xs), x2="a2", y=alt.Y("b:Q", title=y_title, scale=ys), y2="b2",
        color=alt.Color("loss:Q", scale=alt.Scale(type="log", scheme="viridis"),
                        legend=alt.Legend(title="loss", orient="right", gradientLength=240, format=".2~g")),
        tooltip=[alt.Tooltip("loss:Q", format=".4g")])
    p = np.asarray(path, dtype=float).reshape(-1, 2)
    track = pd.DataFrame({"a": p[:, 0], "b": p[:, 1], "step": np.arange(len(p))})
    line = alt.Chart(track).mark_line(color="#ff5a36", strokeWidth=2.5, clip=True).encode(
        x="a:Q", y="b:Q", order="step:Q")
    ends = pd.DataFrame({"a": p[[0, -1], 0], "b": p[[0, -1], 1], "what": ["start", "end"]})
    marks = alt.Chart(ends).mark_point(size=120, strokeWidth=2, filled=True, fill="white", stroke="black",
                                       clip=True).encode(
        x="a:Q", y="b:Q", shape=alt.Shape("what:N", scale=alt.Scale(domain=["start", "end"],
                                                                     range=["circle", "cross"]),
                                          legend=alt.Legend(title="training path", orient="right")))
    _show(alt.layer(heat, line, marks).resolve_scale(color="independent"), title, height)
