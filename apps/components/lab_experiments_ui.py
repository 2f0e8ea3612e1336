"""The Backprop Lab's experiments: each a question, real training through the
common trainer, and a plot that answers it. Controls are bound to the URL's
query parameters so that a set-up can be shared as a link."""
from __future__ import annotations

import numpy as np
import streamlit as st

from apps.components import charts
from apps.components.common import md_text
from data.lab import toy
from data.core.errors import DataError
from models.lab import experiments as lab
from models.lab import rnn as lab_rnn

Q = "query-params"
# Bound widgets keep their option's text in the URL, so options are plain words (no format_func).
LR, INIT, DEPTH, FLAVOURS, NORM, RNN = ("Learning rate", "Initialisation", "Vanishing and exploding",
                                       "Gradient descent flavours", "Input normalisation",
                                       "Recurrent (BPTT)")
DATA = {"XOR": "xor", "Moons": "moons", "Circles": "circles", "Spirals": "spirals", "Your CSV": "csv"}


def choose_points() -> toy.Points | None:
    c1, c2, c3 = st.columns([2, 1, 1])
    name = DATA[c1.segmented_control("Data set", list(DATA), default="XOR", key="data", bind=Q, required=True)]
    mine = name == "csv"          # your CSV's points are your own: the toy sets' noise and size do not apply
    why = "For the toy data sets; your CSV is used as it is." if mine else None
    noise = c2.slider("Noise", 0.0, 0.5, 0.1, 0.05, key="noise", bind=Q, disabled=mine, help=why)
    n = c3.select_slider("Points", [100, 200, 400, 800], value=400, key="points", bind=Q, disabled=mine, help=why)
    if name != "csv":
        return toy.make(name, n=n, noise=noise, seed=0)
    up = st.file_uploader("A CSV with two numeric feature columns and a label column", type=["csv", "txt"],
                          max_upload_size=20,
                          key="lab_csv")
    if up is None:
        st.info("Upload a CSV: `x1,x2,label` per row (a header row is optional; labels may be words).")
        return None
    try:
        points = toy.read_csv(up.getvalue())
    except DataError as e:
        st.error(f"Cannot use this CSV: {md_text(e)}")
        return None
    st.caption(md_text(f"{points.name}: {len(points.y):,} points in {len(points.classes)} classes."))
    return points


RESULTS_KEPT = 16      # set-ups a session keeps the results of (each up to about half a MB)


def _cached(key: str, fn, *args, spinner: str = "Training…", **kwargs):
    """Experiments are rerun only when their set-up changes, not on every widget touch. The latest
    RESULTS_KEPT set-ups are kept: every slider position had stayed for as long as the page was open."""
    store = st.session_state.setdefault("lab_results", {})
    if key not in store:
        with st.spinner(spinner):
            store[key] = fn(*args, **kwargs)
        while len(store) > RESULTS_KEPT:
            store.pop(next(iter(store)))
    else:
        store[key] = store.pop(key)      # the latest used goes last, the first to go is the oldest
    return store[key]


def _status(name: str, run: dict) -> None:
    # a setting that diverges is what these experiments show, not a failure of the page
    if run.get("status") == "diverged":
        st.warning(f"**{name}** diverged, as this experiment means to show: {run['message']}")


def _boundaries(runs: dict[str, dict], points: toy.Points, cols: int = 5) -> None:
    shown = [(k, r) for k, r in runs.items() if r.get("grid") is not None]
    for row in range(0, len(shown), cols):
        for col, (name, run) in zip(st.columns(cols), shown[row:row + cols]):
            with col:
                acc = run.get("val_accuracy")
                charts.boundary_chart(run["grid"], points.x.numpy(), points.y.numpy(),
                                      title=f"{name}" + (f" · {acc:.0%}" if acc is not None else ""))


def learning_rate(points: toy.Points) -> None:
    st.markdown("**Question:** how big a step should gradient descent take? Each run is the same network from "
                "the same starting weights; only the learning rate η in `w ← w − η·∂E/∂w` differs.")
    lrs = st.multiselect("Learning rates", [0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 100.0, 1000.0],
                         default=[0.0003, 0.1, 10.0, 1000.0], key="lrs", bind=Q)
    steps = st.slider("Steps", 50, 500, 300, 50, key="lr_steps", bind=Q)
    if not lrs:
        st.info("Pick at least one learning rate.")
        return
    res = _cached(f"lr{points.key}{sorted(lrs)}{steps}", lab.learning_rates, points,
                  lrs=tuple(sorted(lrs)), steps=steps)
    runs = {f"η={lr:g}": r for lr, r in res["runs"].items()}
    for name, run in runs.items():
        _status(name, run)
    charts.runs_chart({k: r["history"] for k, r in runs.items()}, y="loss", log=True, title="Training loss")
    st.caption("Too small crawls: each step barely moves the weights. Too large overshoots the valley: the "
               "loss oscillates or explodes, and the trainer stops it with a message.")
    _boundaries(runs, points)


def initialisation(points: toy.Points) -> None:
    st.markdown("**Question:** does it matter where the weights start? Same network and data, five ways to "
                "draw the initial weights.")
    act = st.segmented_control("Activation", ["tanh", "sigmoid", "relu"], default="tanh", key="init_act",
                               bind=Q, required=True)
    res = _cached(f"init{points.key}{act}", lab.initialisations, points, activation=act)
    runs = res["runs"]
    charts.runs_chart({k: r["history"] for k, r in runs.items()}, y="loss", log=True, title="Training loss")
    st.table({"init": list(runs),
              "hidden units' weights differ by": [f"{r['symmetry']:.2e}" for r in runs.values()],
              "saturated at start": [f"{r['saturation']:.0%}" for r in runs.values()],
              "val accuracy": [f"{r['val_accuracy']:.0%}" for r in runs.values()]})
    large = runs.get("large")
    # what the run shows, not only what the textbook says: on a small problem "large" can still get there
    recovered = "" if large is None else (
        f" Here {large['saturation']:.0%} of its units started saturated and it still reached "
        f"{large['val_accuracy']:.0%}: on a problem this small, the units that were not saturated are enough."
        if large["val_accuracy"] >= 0.9 else
        f" Here {large['saturation']:.0%} of its units started saturated, and it reached {large['val_accuracy']:.0%}.")
    st.caption("Zeros: every hidden unit gets the same gradient, so they stay identical forever (the symmetry "
               "problem). Large: activations saturate and their slopes, hence the gradients, are near zero."
               + recovered + " Xavier and He scale the weights to the layer's width so signals and gradients "
               "keep their size.")
    _boundaries(runs, points)


def depth(points: toy.Points) -> None:
    st.markdown("**Question:** why do deep networks stop learning in their first layers? The backward pass "
                "multiplies one factor per layer; factors below 1 make the gradient vanish, above 1 explode.")
    c1, c2, c3, c4 = st.columns(4)
    d = c1.slider("Depth (hidden layers)", 2, 20, 10, key="depth", bind=Q)
    act = c2.segmented_control("Activation", ["sigmoid", "tanh", "relu"], default="sigmoid", key="depth_act",
                               bind=Q, required=True)
    norm = c3.checkbox("Normalisation", key="depth_norm", bind=Q)
    res_ = c4.checkbox("Residual connections", key="depth_res", bind=Q)
    res = _cached(f"depth{points.key}{d}{act}{norm}{res_}", lab.depth_gradients, points,
                  depth=d, activation=act, norm=norm, residual=res_)
    _status("run", res)
    layers = res["layer_norms"]
    mean = {name: float(np.mean(v)) for name, v in layers.items()}
    charts.series_chart({"mean gradient norm": list(mean.values())}, "layer (input → output)",
                        "‖∂E/∂W‖", title="Gradient reaching each layer", x_values=list(range(1, len(mean) + 1)))
    st.metric("First layer's gradient ÷ last hidden layer's", f"{res['first_over_last']:.2e}")
    charts.grad_norm_chart(res["history"], title="Gradient norm per layer during training", legend_width=700)
    st.caption("Sigmoid's slope is at most ¼, so ten layers shrink the gradient by 4¹⁰ or more. ReLU's slope "
               "is 1, normalisation keeps each layer's input in range, and residual connections give the "
               "gradient a path that skips the products.")


def flavours(points: toy.Points) -> None:
    st.markdown("**Question:** how many examples per step? Stochastic (one example), mini-batch, or the full "
                "batch: the same number of epochs, plotted against steps and against wall time.")
    res = _cached(f"flav{points.key}", lab.gd_flavours, points)
    runs = res["runs"]
    a, b = st.columns(2)
    with a:
        charts.runs_chart({k: r["history"] for k, r in runs.items()}, x="step", y="loss", log=True,
                          title="Loss against steps")
    with b:
        charts.runs_chart({k: r["history"] for k, r in runs.items()}, x="time", y="loss", log=True,
                          title="Loss against wall time", x_title="seconds")
    st.caption("One example per step is noisy but takes many steps per epoch; the full batch is smooth but takes "
               "one step per epoch. Mini-batches are the usual compromise, and use the hardware well.")


def normalisation(points: toy.Points) -> None:
    st.markdown("**Question:** do input scales matter? The same data with one feature in the hundreds, "
                "against the same data standardised (zero mean, unit variance).")
    res = _cached(f"norm{points.key}", lab.normalisation, points)
    runs = {k: res[k] for k in ("raw", "standardised")}
    for name, run in runs.items():
        _status(name, run)
    charts.runs_chart({k: r["history"] for k, r in runs.items()}, y="loss", log=True, title="Training loss")
    st.caption("With raw inputs the loss surface is a long narrow valley: a learning rate small enough for the "
               "steep direction crawls along the flat one. Standardising makes it round.")


def recurrent() -> None:
    st.markdown("**Question:** what changes when the network has a loop? A recurrent network is unrolled "
                "through time and backprop runs back through every step (backprop through time). The task: "
                "read T random symbols and name the *first* one.")
    c1, c2, c3, c4 = st.columns(4)
    T = c1.slider("Sequence length T", 5, 60, 20, 5, key="T", bind=Q)
    cell = c2.segmented_control("Cell", ["RNN", "LSTM", "GRU"], default="LSTM", key="cell", bind=Q,
                                required=True).lower()
    trunc = c3.select_slider("Truncate BPTT after (steps; 0 = off)", [0, 2, 5, 10, 20], value=0, key="trunc",
                             bind=Q)
    clip = c4.select_slider("Clip gradient norm (0 = off)", [0.0, 0.5, 1.0, 5.0], value=0.0, key="rnn_clip",
                            bind=Q)
    vanish = _cached("vanish", lab_rnn.vanishing_with_T)
    st.markdown("**The gradient reaching each time step, at initialisation**")
    cols = st.columns(3)
    for col, (c, byT) in zip(cols, vanish.items()):
        with col:
            charts.series_chart({f"T={t}": v for t, v in byT.items()}, "time step t", "gradient norm",
                                title=c.upper())
    st.caption("For the plain tanh RNN the gradient shrinks by a factor at every step back: the first symbol "
               "gets almost no signal when T is large. The LSTM's and GRU's gates (their keep-gate starting "
               "open) add a path where the gradient is not squashed at every step.")
    run = _cached(f"bptt{T}{cell}{trunc}{clip}", lab_rnn.bptt, T=T, cell=cell, truncate=trunc or None,
                  clip=clip or None)
    _status(cell.upper(), run)
    st.metric(f"{cell.upper()} validation accuracy after training (chance is 25%)", f"{run['val_accuracy']:.0%}")
    a, b = st.columns(2)
    with a:
        charts.loss_chart(run["history"])
    with b:
        snaps = run["time_grads"]
        picks = [snaps[0], snaps[len(snaps) // 2], snaps[-1]] if len(snaps) >= 3 else snaps
        charts.series_chart({f"step {s}": v for s, v in picks}, "time step t", "gradient norm",
                            title="Gradient per time step as training goes")
    if trunc:
        st.caption(f"Truncated BPTT stops the backward pass after {trunc} steps: the earlier steps, the first "
                   "symbol among them, get exactly zero gradient. What it still learns comes from traces of "
                   "the first symbol that happen to survive in the state, not from backprop.")
    st.markdown("**Exploding gradients and clipping**: a plain ReLU RNN with large recurrent weights, plain SGD.")
    ex = _cached("exploding", lab_rnn.exploding)
    for name in ("unclipped", "clipped"):
        _status(name, ex[name])
    charts.series_chart({"unclipped: ‖gradient‖": ex["unclipped"]["grad_norm"],
                         "clipped: ‖gradient‖ as applied": ex["clipped"]["applied_grad_norm"]},
                        "step", "gradient norm", title="The gradient each step applies")
    st.caption("Without clipping one huge gradient throws the weights far away and the loss becomes NaN: the "
               "trainer stops and says so. Clipping rescales the gradient to a maximum norm: training stays "
               "finite (stable, if slow, here).")


def experiments() -> None:
    exp = st.segmented_control("Experiment", [LR, INIT, DEPTH, FLAVOURS, NORM, RNN], default=LR, key="exp",
                               bind=Q, required=True)
    if exp == RNN:
        recurrent()
        return
    points = choose_points()
    if points is None:
        return
    if points.mean is None and exp != NORM and float(points.x.abs().max()) > 10:
        points = points.standardised()   # a user's raw columns; the normalisation experiment shows why
    {LR: learning_rate, INIT: initialisation, DEPTH: depth, FLAVOURS: flavours, NORM: normalisation}[exp](points)
