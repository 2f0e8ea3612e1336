"""The Backprop Lab, section 1: one training step of a 2-2-1 network by hand,
phase by phase, every number on a drawing of the network. The set-up is bound
to the URL's query parameters so that a teacher can share it as a link."""
from __future__ import annotations

import math

import streamlit as st

from apps.components import charts
from apps.components.common import md_text
from models.lab import hand

Q = "query-params"
PHASES = ["Forward pass", "Error", "Backward pass", "Weight update"]
EXPLAIN = [
    "Each neuron adds up its inputs times their weights, plus its bias (z), and squashes the sum with its "
    "activation (h). The output neuron does the same with the hidden activations.",
    "The loss measures how far the output y is from the desired output t. Training means making it smaller.",
    "The chain rule, from the output back: how much would the loss change if one weight changed a little? "
    "Each gradient is a product of local slopes along the path from that weight to the loss.",
    "Every weight takes a small step against its gradient: new = old − learning rate × gradient. "
    "The next forward pass shows whether the loss went down.",
]
LOSSES = {"squared error": "mse", "cross-entropy": "ce"}
D = hand.HandSetup.default()
DEFAULTS = {**D.params, "x1": D.x1, "x2": D.x2, "t": D.target}


def fixed(value: float, places: int) -> str:
    """A number with `places` decimals, as the step's figures are read; past ten million in
    scientific form: 1e300 with four decimals is a 300-digit label that squeezed the drawing flat."""
    return f"{value:.{places}f}" if abs(value) < 1e7 else f"{value:.{places}g}"


def _set_values(values: dict[str, float]) -> None:
    for k, v in values.items():
        st.session_state[k] = float(v)


def _randomise() -> None:
    seed = st.session_state.get("hand_seed", 0) + 1
    st.session_state["hand_seed"] = seed
    _set_values(hand.HandSetup.randomised(seed).params)
    st.session_state["hand_phase"] = 0


def _reset() -> None:
    _set_values(DEFAULTS)
    st.session_state["hand_phase"] = 0
    st.session_state.pop("hand_steps", None)


def _apply(new_params: dict[str, float]) -> None:
    _set_values(new_params)


def setup_controls() -> hand.HandSetup:
    with st.expander("Set-up: weights, input, desired output", expanded=False):
        cols = st.columns(5)
        values = {}
        for i, name in enumerate(hand.PARAM_NAMES):
            values[name] = cols[i % 5].number_input(name, value=DEFAULTS[name], step=0.01, format="%.6f",
                                                    key=name, bind=Q)
        c1, c2, c3, c4 = st.columns(4)
        x1 = c1.number_input("x1", value=DEFAULTS["x1"], step=0.05, format="%.4f", key="x1", bind=Q)
        x2 = c2.number_input("x2", value=DEFAULTS["x2"], step=0.05, format="%.4f", key="x2", bind=Q)
        t = c3.number_input("desired output t", 0.0, 1.0, value=DEFAULTS["t"], step=0.01, format="%.4f",
                            key="t", bind=Q)
        lr = c4.number_input("learning rate", 0.0001, 10000.0, value=0.5, step=0.1, format="%.4f", key="lr", bind=Q)
        c1, c2, c3, c4 = st.columns(4)
        act = c1.selectbox("hidden activation", hand.ACTIVATIONS, key="act", bind=Q)
        # bound widgets keep their option's text in the URL: plain words, no format_func
        loss = LOSSES[c2.selectbox("loss", list(LOSSES), key="loss", bind=Q)]
        c3.button("Randomise weights", on_click=_randomise, key="randomise")
        c4.button("Back to the classic example", on_click=_reset, key="classic")
    return hand.HandSetup(values, x1=x1, x2=x2, target=t, activation=act, loss=loss, lr=lr)


def network_dot(s: hand.HandSetup, fw: dict | None, grads: dict | None, upd: dict | None) -> str:
    """The network drawn with its numbers: values on the nodes, weights (and their
    gradients, then their new values) on the edges."""
    p = s.params

    def edge(a: str, b: str, name: str) -> str:
        label = f"{name} = {fixed(p[name], 4)}"
        if grads:
            label += f"\n∂E/∂{name} = {grads[name]:.3g}"
        if upd:
            label += f"\nnew {fixed(upd[name]['new'], 4)}"
        return f'{a} -> {b} [label="{label}", fontsize=16]'

    def node(n: str, text: str, color: str = "#eef3fb") -> str:
        return f'{n} [label="{text}", shape=circle, style=filled, fillcolor="{color}", fontsize=18, width=1.1]'

    nodes = [node("x1", f"x1\n{s.x1:.4g}", "#f6f6f6"), node("x2", f"x2\n{s.x2:.4g}", "#f6f6f6")]
    for j in (1, 2):
        text = f"N{j}\nb{j} = {p[f'b{j}']:.3g}"
        if fw:
            text += f"\nz{j} = {fixed(fw[f'z{j}'], 4)}\nh{j} = {fixed(fw[f'h{j}'], 4)}"
        nodes.append(node(f"n{j}", text))
    out = f"out\nc = {p['c']:.3g}"
    if fw:
        out += f"\nz = {fixed(fw['z_out'], 4)}\ny = {fixed(fw['y'], 4)}"
    nodes.append(node("out", out, "#fdf1e6"))
    target = f"t = {s.target:.4g}"
    if fw:
        target += f"\nE = {fixed(fw['loss'], 5)}"
    nodes.append(f'err [label="{target}", shape=box, style="rounded,filled", fillcolor="#fbe9e9", fontsize=18]')
    edges = [edge("x1", "n1", "w11"), edge("x2", "n1", "w12"), edge("x1", "n2", "w21"), edge("x2", "n2", "w22"),
             edge("n1", "out", "v1"), edge("n2", "out", "v2"), "out -> err [style=dashed, arrowhead=none]"]
    return "digraph { rankdir=LR; nodesep=0.4; ranksep=1.3; " + "; ".join(nodes + edges) + " }"


def _next_phase(new_params: dict[str, float] | None) -> None:
    phase = st.session_state.get("hand_phase", 0)
    if phase == 4 and new_params:            # past the update: the new weights start the next step
        _apply(new_params)
        st.session_state["hand_phase"] = 1
    else:
        st.session_state["hand_phase"] = phase + 1


def _whole_step(new_params: dict[str, float], old_params: dict[str, float]) -> None:
    st.session_state["hand_last"] = (old_params, new_params)
    _apply(new_params)
    st.session_state["hand_phase"] = 5     # "a step was just taken": show it, weights already moved


def hand_step() -> None:
    st.markdown("The smallest network that shows everything: two inputs, two hidden neurons, one output. "
                "Go through one training step phase by phase, or take whole steps.")
    try:
        s = setup_controls()
        fw, bw, upd = hand.forward(s), hand.backward(s), hand.update(s)
    except ValueError as e:
        st.error(md_text(e))
        return
    phase = st.session_state.get("hand_phase", 0)
    new_params = {n: upd[n]["new"] for n in hand.PARAM_NAMES}
    # a step to infinity or NaN is not taken: the set-up would hold it, and the next rerun's reading of
    # it fell back to the classic weights without a word
    overflow = not all(math.isfinite(v) for v in new_params.values())
    # y = σ(z_out) rounded to exactly 0 or 1: the cross-entropy's log is -inf, but the step itself is finite
    saturated = not overflow and not (math.isfinite(upd["loss"]) and math.isfinite(upd["next_loss"]))
    b1, b2, b3, b4, b5 = st.columns([1.3, 1.1, 1, 1, 0.8])
    b1.button("Next phase ▶" if phase < 4 else "Apply, next step ▶", type="primary", disabled=overflow and phase >= 4,
              on_click=_next_phase, args=(new_params,), key="next_phase")
    b2.button("One whole step", on_click=_whole_step, args=(new_params, dict(s.params)), key="whole_step",
              disabled=overflow)
    n = b3.number_input("N", 1, 5000, 100, key="n_steps", bind=Q, label_visibility="collapsed")
    run_n = b4.button(f"Run {n} steps", key="run_n")
    b5.button("Reset", on_click=_reset, key="reset")

    if overflow:
        st.error("A step from here overflows: the new weights would not all be finite numbers. Lower the "
                 "learning rate or the inputs, or press Reset.")
    elif saturated:
        st.warning(f"The output is saturated: y = σ(z_out) is exactly {fixed(fw['y'], 1)} in 64-bit floats, so "
                   "log y or log(1 − y) is −∞ and the loss infinite. Every gradient is still finite (the output's "
                   "is y − t), so a step can be taken; autograd, working from y, meets 0 × ∞ and says nan. A "
                   "smaller output weight or bias brings y back from the edge.")
    last = st.session_state.get("hand_last")
    if phase == 5 and (not last or last[1] != s.params):   # the set-up changed since: start afresh
        phase = st.session_state["hand_phase"] = 0
    current = s                             # what the set-up holds: "Run N steps" starts from it
    if phase == 5:                          # a whole step was just taken: show it from the old weights
        shown = hand.HandSetup(dict(last[0]), s.x1, s.x2, s.target, s.activation, s.loss, s.lr)
        fw, bw, upd = hand.forward(shown), hand.backward(shown), hand.update(shown)
        s, phase = shown, 4
        st.success(f"One step taken: the loss went from {fixed(upd['loss'], 6)} to {fixed(upd['next_loss'], 6)}. "
                   "The set-up now holds the new weights.")
    st.progress(phase / 4, text=" → ".join(f"**{p}**" if i < phase else p for i, p in enumerate(PHASES)))
    st.graphviz_chart(network_dot(s, fw if phase >= 1 else None, bw["grads"] if phase >= 3 else None,
                                  upd if phase >= 4 else None))
    if phase >= 1:
        st.subheader("1 · Forward pass")
        st.caption(EXPLAIN[0])
        for k in ("z1", "h1", "z2", "h2", "z_out", "y"):
            st.markdown(f"`{fw['formulas'][k]}`")
    if phase >= 2:
        st.subheader("2 · Error")
        st.caption(EXPLAIN[1])
        st.markdown(f"`{fw['formulas']['loss']}`  \nThe output is off by y − t = **{fixed(fw['error'], 6)}**.")
    if phase >= 3:
        st.subheader("3 · Backward pass")
        st.caption(EXPLAIN[2])
        for d in ("delta_out", "delta_1", "delta_2"):
            st.markdown(f"`{bw['deltas'][d]['formula']}`")
        for name in hand.BACKWARD_ORDER:
            st.markdown(f"`{bw[name]['formula']}`")
        auto = hand.autograd_gradients(s)
        rows = [f"| {n} | {bw['grads'][n]:.10f} | {auto[n]:.10f} | {abs(bw['grads'][n] - auto[n]):.1e} |"
                for n in hand.PARAM_NAMES]
        st.markdown("**By hand against `torch.autograd`**\n\n| weight | by hand | autograd | difference |\n"
                    "|---|---|---|---|\n" + "\n".join(rows))
    if phase >= 4:
        st.subheader("4 · Weight update")
        st.caption(EXPLAIN[3])
        rows = [f"| {n} | {fixed(upd[n]['old'], 6)} | {fixed(upd[n]['grad'], 6)} | "
                f"<span id='new-{n}'>{fixed(upd[n]['new'], 6)}</span> |" for n in hand.PARAM_NAMES]
        st.markdown(f"learning rate η = {s.lr:g}\n\n| weight | old | gradient | new = old − η × gradient |\n"
                    "|---|---|---|---|\n" + "\n".join(rows), unsafe_allow_html=True)
        st.markdown(f"Loss before: **{fixed(upd['loss'], 6)}** → after one step: "
                    f"**<span id='next-loss'>{fixed(upd['next_loss'], 6)}</span>**", unsafe_allow_html=True)
    if run_n:      # not `s`, which after a whole step is the step's old weights, shown
        st.session_state["hand_steps"] = hand.train_steps(current, int(n))
    steps = st.session_state.get("hand_steps")
    if steps:
        st.subheader(f"{len(steps['losses'])} steps with the common trainer")
        if steps["status"] == "diverged":
            st.error(steps["message"])
        charts.runs_chart({"loss": steps["history"]}, y="loss", log=True, title="Loss per step")
        st.button("Use the trained weights", key="use_trained", on_click=_use_trained, args=(steps,))


def _use_trained(steps: dict) -> None:
    _apply(steps["setup"].params)
    st.session_state.pop("hand_steps", None)
    st.session_state["hand_phase"] = 0
