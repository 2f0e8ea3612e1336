"""The Lab's claims about the gradient itself: its cost, the landscape it descends, and
activations without a slope."""
from __future__ import annotations

import streamlit as st

from apps.components import charts
from apps.components.lab_experiments_ui import _boundaries, _cached
from data.lab import toy
from models.lab import activations as lab_act
from models.lab import cost as lab_cost
from models.lab import landscape as lab_land

Q = "query-params"
# Bound widgets keep their option's text in the URL, so options are plain words and numbers.
DATA = {"XOR": "xor", "Moons": "moons", "Circles": "circles", "Spirals": "spirals"}
METHODS = ("backprop", "finite differences", "forward mode (jvp)")


def _points(key: str, default: str) -> toy.Points:
    name = st.segmented_control("Data set", list(DATA), default=default, key=key, bind=Q, required=True)
    return toy.make(DATA[name], n=400, noise=0.1, seed=0)


def _ms(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:.3g} s" if seconds >= 1 else f"{seconds * 1000:.3g} ms"


# ---- 1. the cost of the gradient --------------------------------------------------

def cost() -> None:
    st.markdown("**Question:** what does the whole gradient cost, ∂loss/∂w for every weight w at once? "
                "Backprop takes one forward and one backward pass. Finite differences nudge one weight at a "
                "time and take one extra forward pass per weight; forward-mode differentiation "
                "(`torch.func.jvp`) carries one weight's tangent through one forward pass, so it also needs "
                "a pass per weight. Networks 2-w-w-2 of growing width, a batch of 64 points, double precision.")
    c1, c2 = st.columns(2)
    largest = c1.select_slider("Largest network (weights)", [3_000, 30_000, 100_000, 300_000], value=300_000,
                               key="cost_max", bind=Q)
    k = c2.select_slider("Weights timed for finite differences and jvp", [10, 30, 100], value=30,
                         key="cost_k", bind=Q)
    sizes = tuple(s for s in lab_cost.SIZES if s <= largest)
    res = _cached(f"cost{sizes}{k}", lab_cost.gradient_cost, sizes=sizes, k=k,
                  spinner="Timing three ways to the gradient…")
    rows = res["rows"]
    big = rows[-1]
    a, b, c = st.columns(3)
    a.metric(f"finite differences ÷ backprop at {big['n']:,} weights",
             f"{big['finite differences'] / big['backprop']:,.0f}×")
    b.metric(f"forward mode (jvp) ÷ backprop at {big['n']:,} weights",
             f"{big['forward mode (jvp)'] / big['backprop']:,.0f}×")
    c.metric(f"backprop's whole gradient at {big['n']:,} weights", _ms(big["backprop"]))
    points = [{"weights": r["n"], "seconds": r[m], "method": m,
               "how": "scaled" if r["scaled"] and m != "backprop" else "measured"} for r in rows for m in METHODS]
    charts.scaling_chart(points, "Time for the whole gradient against the number of weights")
    st.table({"weights": [f"{r['n']:,}" for r in rows],
              "backprop": [_ms(r["backprop"]) for r in rows],
              "finite differences": [_ms(r["finite differences"]) for r in rows],
              "forward mode (jvp)": [_ms(r["forward mode (jvp)"]) for r in rows],
              "FD and jvp timed on": [f"{r['sampled']:,} of {r['n']:,} weights, scaled" if r["scaled"]
                                      else f"all {r['n']:,} weights" for r in rows],
              "FD differs from backprop by": [f"{r['fd_error']:.0e}" for r in rows],
              "jvp differs from backprop by": [f"{r['jvp_error']:.0e}" for r in rows]})
    st.caption(f"Solid lines and filled points: measured in full. Dashed lines and hollow points: finite "
               f"differences and jvp timed on {k} weights drawn at random and scaled by (all weights ÷ "
               f"{k}): computing them for every weight of the largest network would take "
               f"{_ms(big['finite differences'])} and {_ms(big['forward mode (jvp)'])}. The differences are "
               "the largest over the timed weights, relative to the largest gradient there: the three agree "
               "(finite differences to about 1e-6 or better, their step being 1e-6; jvp to rounding). Backprop's line "
               "stays low and nearly flat: the whole gradient costs about as much as two or three forward passes, "
               "however many weights there are, where the others pay a forward pass per weight. That is why "
               "networks of millions or billions of weights can be trained at all.")

    st.markdown("**The other side: memory.** To run backwards, backprop keeps what every layer computed on the "
                "way forward, so the memory grows with the depth and the batch. Activation checkpointing "
                "(`torch.utils.checkpoint`) keeps only each block's input and recomputes the rest during the "
                "backward pass. Blocks of x + W₂·gelu(W₁·x), 128 wide.")
    c1, c2 = st.columns(2)
    batch = c1.select_slider("Batch size", [32, 128, 512], value=128, key="ckpt_batch", bind=Q)
    depth = c2.select_slider("Depth (blocks) for the timing and the batch chart", [4, 8, 16, 32], value=16,
                             key="ckpt_depth", bind=Q)
    mem = _cached(f"ckpt{batch}{depth}", lab_cost.memory_kept, batch=batch, depth=depth,
                  spinner="Measuring memory…")
    mb = lambda xs: [v / 2**20 for v in xs]   # noqa: E731
    a, b = st.columns(2)
    with a:
        charts.series_chart({k_: mb(v) for k_, v in (("plain backprop", mem["by_depth"]["plain"]),
                                                       ("checkpointed per block", mem["by_depth"]["checkpointed"]))},
                            "depth (blocks)", "MiB kept", log=False, x_values=mem["depths"],
                            title=f"Memory kept for the backward pass, batch of {batch}")
    with b:
        charts.series_chart({k_: mb(v) for k_, v in (("plain backprop", mem["by_batch"]["plain"]),
                                                       ("checkpointed per block", mem["by_batch"]["checkpointed"]))},
                            "batch size", "MiB kept", log=False, x_values=mem["batches"],
                            title=f"… against the batch size, {depth} blocks")
    i = mem["depths"].index(depth) if depth in mem["depths"] else -1
    plain, ckpt = mem["by_depth"]["plain"][i], mem["by_depth"]["checkpointed"][i]
    secs = mem["seconds"]
    a, b, c = st.columns(3)
    a.metric(f"kept for the backward pass, {mem['depths'][i]} blocks, batch {batch}", f"{plain / 2**20:.1f} MiB",
             f"{ckpt / 2**20:.1f} MiB checkpointed", delta_color="off", delta_arrow="off")
    b.metric("checkpointing keeps", f"{ckpt / plain:.0%}", "of the memory", delta_color="off", delta_arrow="off")
    c.metric(f"checkpointing's extra time, {depth} blocks",
             f"{secs['checkpointed'] / secs['plain'] - 1:+.0%}",
             f"{_ms(secs['plain'])} → {_ms(secs['checkpointed'])}", delta_color="off", delta_arrow="off")
    st.caption("Memory here is the bytes of the tensors autograd saved for the backward pass, counted as it "
               "saves them (`saved_tensors_hooks`), each storage once, weights not counted: an exact figure "
               "where a CPU has no peak-memory counter. During the backward pass checkpointing briefly holds one "
               "block's activations again while it recomputes them. Each block without checkpointing keeps "
               "nine widths per example (its input, then W₁·x and gelu(W₁·x), four widths each); with it, one. "
               "The price is time: every block's forward pass runs twice. The two ways give the same gradient"
               + (" (checked)." if mem["grads_equal"] else " — but here they did not: something is wrong."))


# ---- 2. the loss landscape --------------------------------------------------------

def landscape() -> None:
    st.markdown("**Question:** does gradient descent get stuck in bad local minima? The loss is a function of "
                "every weight at once; we can only look at a slice of it: the loss at w* + α·d₁ + β·d₂ around the "
                "trained weights w*, for two directions d₁, d₂ (Li et al. 2018). Then several starts from "
                "different initial weights, trained alike.")
    c1, c2, c3 = st.columns(3)
    with c1:
        points = _points("land_data", "Moons")
    hidden = c2.segmented_control("Hidden units", ["2", "4-4", "16-16"], default="16-16", key="land_hidden",
                                  bind=Q, required=True)
    dirs = c3.segmented_control("Directions", list(lab_land.DIRECTIONS), default="random", key="land_dirs",
                                bind=Q, required=True)
    c1, c2, _ = st.columns(3)
    starts = c1.select_slider("Starts", [2, 3, 4, 5], value=3, key="land_starts", bind=Q)
    steps = c2.select_slider("Steps", [100, 300, 1000], value=300, key="land_steps", bind=Q)
    res = _cached(f"land{points.key}{hidden}{dirs}{starts}{steps}", lab_land.landscape, points, directions=dirs,
                  starts=starts, steps=steps, hidden=tuple(int(h) for h in hidden.split("-")),
                  spinner="Training and slicing the landscape…")
    a, b = st.columns([3, 2])
    with a:
        axis = ("× the weights' norm" if dirs == "random" else "weight units")
        charts.landscape_chart(res["alphas"], res["betas"], res["loss"], res["path"],
                               title=f"Training loss around start 1's trained weights ({res['n_weights']} weights)",
                               x_title=f"α along d₁ ({axis})", y_title=f"β along d₂ ({axis})")
    with b:
        if res["line"]:
            charts.series_chart({"loss": res["line"]}, "t: 0 = start 1's weights, 1 = start 2's",
                                "training loss", x_values=res["line_t"],
                                title="Loss on the straight line from start 1's minimum to start 2's")
    t = res["table"]
    st.markdown("**Where each start ended**")
    st.table({"start": t["start"],
              "final train loss": [f"{v:.4f}" for v in t["final train loss"]],
              "val accuracy": [f"{v:.0%}" for v in t["val accuracy"]],
              "distance from start 1's weights (relative to their norm)":
                  [f"{v:.0%}" for v in t["distance from start 1's weights"]]})
    plane = f"{res['on_plane']:.0%}"
    if dirs == "random":
        st.caption(f"d₁ and d₂ are random and filter-normalised: each unit's incoming weights in d have the norm of "
                   f"that unit's weights in w*, so α = 1 moves every layer by its own size (biases are not moved). "
                   f"The red path is training's route projected onto this plane: two random directions hold only "
                   f"{plane} of it, the rest runs off the slice, so the path is an approximation. Choose "
                   "*PCA of the path* for the plane that holds most of it.")
    else:
        st.caption(f"d₁ and d₂ are the two principal directions of the training path (its steps' offsets from "
                   f"the end): this plane holds {plane} of the path, so the red route is close to the one "
                   "training took. Lengths are in weight units.")
    losses = t["final train loss"]
    if max(losses) > 0.1 and max(losses) > 3 * min(losses):
        st.caption("Here some starts got stuck: they ended with a clearly higher loss than others, where the "
                   "gradient is about zero (a local minimum, or a plateau too flat to leave in these steps). "
                   "That happens to networks with barely enough units for the problem (try XOR with 2 hidden "
                   "units). Give the network more units than it needs and nearly every start ends as well as any.")
    else:
        st.caption("Each start ends at weights far from the others, with about the same low loss and accuracy: "
                   "many minima, and for a network with more weights than the problem needs nearly all of them "
                   "equally good. Gradient descent does not find *the* minimum; it finds one of the many good "
                   "ones, and the straight line between two of them often crosses a ridge: separate valleys "
                   "(partly because a network's hidden units can be swapped without changing what it computes). "
                   "With barely enough units (XOR with 2 hidden units) starts do get stuck.")
    _boundaries(res["runs"], points, cols=len(res["runs"]))


# ---- 3. an activation without a slope ---------------------------------------------

def step_activation() -> None:
    st.markdown("**Question:** can backprop train a network whose activation has no useful derivative? The same "
                "network and initial weights with three hidden activations: a step (1 if x > 0 else 0, slope 0 "
                "everywhere but at 0), a sigmoid (a smooth step), and a step whose backward pass pretends it "
                "was the identity (the straight-through estimator).")
    c1, c2 = st.columns([3, 1])
    with c1:
        points = _points("step_data", "Circles")
    steps = c2.select_slider("Steps", [100, 300, 1000], value=300, key="step_steps", bind=Q)
    res = _cached(f"step{points.key}{steps}", lab_act.step_activation, points, steps=steps,
                  spinner="Training three networks…")
    # the two that learn first, so both charts give them the same colours
    runs = {k: res["runs"][k] for k in ("sigmoid", "straight-through", "step") if k in res["runs"]}
    for name, run in runs.items():
        if run.get("status") == "diverged":
            st.error(f"**{name}**: {run['message']}")
    step = runs.get("step")
    a, b, c = st.columns(3)
    if step is not None:
        grad = "0 exactly" if step["first_layer_max"] == 0 else f"{step['first_layer_max']:.2e}"
        a.metric("step: first layer's gradient, at every step", grad)
        b.metric("step: hidden weights moved by", "0 exactly" if step["hidden_moved"] == 0
                 else f"{step['hidden_moved']:.2e}")
        c.metric("step: training loss, start → end", f"{step['first_loss']:.2f} → {step['final_loss']:.2f}")
    l, r = st.columns(2)
    with l:
        charts.runs_chart({k: v["history"] for k, v in runs.items()}, y="loss", log=True, title="Training loss")
    with r:
        moving = {k: v["first_layer_grad"] for k, v in runs.items() if v["first_layer_max"] > 0}
        charts.series_chart(moving, "step", "max |∂E/∂w|, layer 1", title="Gradient reaching the first layer")
        if step is not None and step["first_layer_max"] == 0:
            st.caption("The step's line is missing: its first-layer gradient is 0 at every step, and 0 has no place "
                       "on a log scale.")
    st.table({"hidden activation": list(runs),
              "largest |∂E/∂w| in the first layer": ["0 exactly" if v["first_layer_max"] == 0
                                                     else f"{v['first_layer_max']:.2e}" for v in runs.values()],
              "hidden weights moved by": ["0 exactly" if v["hidden_moved"] == 0 else f"{v['hidden_moved']:.2f}"
                                          for v in runs.values()],
              "training loss: start → end": [f"{v['first_loss']:.3f} → {v['final_loss']:.3f}" for v in runs.values()],
              "val accuracy": [f"{v['val_accuracy']:.0%}" for v in runs.values()]})
    st.caption("The step's derivative is 0, and backprop multiplies by it on the way back through every hidden "
               "layer: the layers below get exactly nothing and keep their random initial weights. Only the output "
               "layer learns, a linear read-out of fixed random features: how far that goes is the luck of the draw "
               "(on Circles, nowhere; on XOR, a long way). The "
               "sigmoid has a slope everywhere and learns. The straight-through estimator keeps the step in the "
               "forward pass and passes the gradient through it unchanged: not the true derivative, but a useful "
               "direction, and it learns too. That is how networks with binary or quantised activations are "
               "trained.")
    _boundaries(runs, points, cols=len(runs))
