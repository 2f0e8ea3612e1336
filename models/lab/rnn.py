"""Static against recurrent backprop: the maths behind the Backprop Lab's RNN experiment.

A recurrent network applies one cell T times, so backprop runs back through
time (BPTT): the gradient reaching step t is the gradient at step T multiplied
by T - t Jacobians of the cell. For a plain tanh RNN those Jacobians shrink the
gradient at every step, so the first steps of a long sequence hardly learn
(Bengio, Simard & Frasconi 1994); an LSTM's or GRU's gated, additive state
lets it pass back far less diminished (Hochreiter & Schmidhuber 1997). With a
large recurrent weight the product grows instead, and clipping the gradient
norm keeps training stable (Pascanu, Mikolov & Bengio 2013).

The task, `remember_first`, makes the point plainly: the label is the first
symbol of the sequence, so only the gradient reaching step 1 can teach it.

Everything trains through the suite's one loop, `Trainer.fit`; the
`TimeGradients` callback reads the per-step gradients after each backward pass.
"""
from __future__ import annotations

import math
import time
from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import TensorDataset

from models.core.callbacks import Callback
from models.core.history import chart_rows
from models.core.trainer import TrainConfig, Trainer

CELLS = ("rnn", "lstm", "gru")


def remember_first(n: int, T: int, symbols: int = 4, seed: int = 0) -> TensorDataset:
    """n sequences of T random symbols (int64, n×T); the label is the first symbol."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, symbols, (n, T), generator=g)
    return TensorDataset(x, x[:, 0].clone())


class SeqNet(nn.Module):
    """One recurrent cell unrolled over time in a Python loop, so that each
    step's input and hidden state can be held and their gradients read after
    backward, and a linear classifier on the final hidden state.

    truncate=k cuts the graph k steps before the end, and every k steps before
    that (truncated BPTT): the loss only sees the last window, so no gradient
    reaches the steps before it.
    """

    def __init__(self, cell: str = "rnn", hidden: int = 32, symbols: int = 4, truncate: int | None = None,
                 recurrent_scale: float | None = None, nonlinearity: str = "tanh", forget_bias: float = 2.0):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"unknown cell {cell!r}: use one of {', '.join(CELLS)}")
        if truncate is not None and truncate < 1:
            raise ValueError("truncate must be a number of steps of at least 1 (or None for full BPTT)")
        self.config = {"cell": cell, "hidden": hidden, "symbols": symbols, "truncate": truncate,
                       "recurrent_scale": recurrent_scale, "nonlinearity": nonlinearity,
                       "forget_bias": forget_bias}
        self.kind, self.hidden, self.symbols, self.truncate = cell, hidden, symbols, truncate
        if cell == "rnn":
            self.cell = nn.RNNCell(symbols, hidden, nonlinearity=nonlinearity)
        elif cell == "lstm":
            self.cell = nn.LSTMCell(symbols, hidden)
        else:
            self.cell = nn.GRUCell(symbols, hidden)
        self.output = nn.Linear(hidden, symbols)
        self._init_gates(forget_bias)
        if recurrent_scale is not None:
            self._scale_recurrent(recurrent_scale)
        # each forward pass replaces these; only a training pass with grad enabled fills
        # them (what TimeGradients reads at after_backward)
        self.inputs: list[torch.Tensor] = []
        self.states: list[torch.Tensor] = []

    def _init_gates(self, bias: float) -> None:
        # A keep-gate that starts half shut (PyTorch's zero bias) halves the
        # gradient at every step, so the gated cells would start out vanishing
        # as fast as a plain RNN. Opening it (Gers et al. 2000; Jozefowicz et al.
        # 2015) is the usual cure: the LSTM's forget gate, the GRU's update gate
        # z, both the second block of the biases. 2 rather than the common 1
        # (σ(2) ≈ 0.88): with 1 the LSTM learnt remember_first at T=20 in one
        # seed of three within 300 steps, with 2 in all three.
        if self.kind in ("lstm", "gru"):     # gates i, f, g, o  |  r, z, n with h' = (1 - z) n + z h
            H = self.hidden
            with torch.no_grad():
                self.cell.bias_ih[H:2 * H].fill_(bias)
                self.cell.bias_hh[H:2 * H].zero_()

    def _scale_recurrent(self, scale: float) -> None:
        # An orthogonal matrix keeps the norm of what it multiplies; times
        # `scale` every step multiplies it by exactly `scale` (before the
        # nonlinearity), the cleanest way to make gradients explode.
        H = self.hidden
        w = self.cell.weight_hh
        with torch.no_grad():
            for i in range(0, w.shape[0], H):
                nn.init.orthogonal_(w[i:i + H])
                w[i:i + H].mul_(scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: symbols (int64, N×T), or their one-hot codes (float, N×T×symbols)."""
        if not x.dtype.is_floating_point:
            x = F.one_hot(x, self.symbols).to(self.output.weight.dtype)
        N, T, _ = x.shape
        h = x.new_zeros(N, self.hidden)
        c = x.new_zeros(N, self.hidden)
        record = self.training and torch.is_grad_enabled()
        inputs, states = [], []
        for t in range(T):
            if self.truncate and t > 0 and (T - t) % self.truncate == 0:
                h, c = h.detach(), c.detach()   # the gradient stops here
            xt = x[:, t]
            if record:
                # a leaf of its own, so its .grad is the gradient reaching step t
                xt = xt.detach().clone().requires_grad_(True)
            if self.kind == "lstm":
                h, c = self.cell(xt, (h, c))
            else:
                h = self.cell(xt, h)
            if record:
                h.retain_grad()
                inputs.append(xt)
                states.append(h)
        self.inputs, self.states = inputs, states
        return self.output(h)


class TimeGradients(Callback):
    """Every `every` optimizer steps, the norm of ∂loss/∂(hidden state after
    step t) -- or ∂loss/∂(input at step t), wrt="input" -- for t = 1..T: the
    gradient that backprop through time brings back to each step. A step the
    gradient never reaches (truncation) reads 0."""

    def __init__(self, every: int = 10, wrt: str = "hidden"):
        if wrt not in ("hidden", "input"):
            raise ValueError("wrt must be 'hidden' or 'input'")
        self.every, self.wrt = max(1, every), wrt
        self.snapshots: list[tuple[int, list[float]]] = []

    def on_after_backward(self, t) -> None:
        if t.step % self.every:
            return
        held = t.model.states if self.wrt == "hidden" else t.model.inputs
        self.snapshots.append((t.step, [0.0 if v.grad is None else v.grad.norm().item() for v in held]))


def first_to_last(profile: Sequence[float]) -> float:
    """‖∂loss/∂(step 1)‖ / ‖∂loss/∂(step T)‖: how much of the gradient survives the trip back."""
    return profile[0] / profile[-1] if profile[-1] > 0 else float("nan")


def bptt(T: int = 20, cell: str = "rnn", hidden: int = 32, steps: int = 300, lr: float = 1e-2,
         truncate: int | None = None, clip: float | None = None, seed: int = 0, callbacks: Sequence[Callback] = (),
         *, symbols: int = 4, batch_size: int = 64, optimizer: str = "adam", momentum: float = 0.9,
         recurrent_scale: float | None = None, nonlinearity: str = "tanh", forget_bias: float = 2.0,
         every: int = 10, wrt: str = "hidden") -> dict:
    """Train SeqNet on remember_first through Trainer.fit, recording the
    gradient reaching each time step every `every` steps."""
    t0 = time.perf_counter()
    # about `steps` optimizer steps in whole epochs of at most 100 batches, so that
    # the run ends as "completed" and the validation accuracy is plotted a few times
    epochs = math.ceil(steps / 100)
    per_epoch = math.ceil(steps / epochs)
    train = remember_first(per_epoch * batch_size, T, symbols, seed)
    val = remember_first(1000, T, symbols, seed + 10_000)
    torch.manual_seed(seed)
    model = SeqNet(cell, hidden, symbols, truncate, recurrent_scale, nonlinearity, forget_bias)
    grads = TimeGradients(every, wrt)
    # on the CPU: a Python loop of tiny cells would only wait on kernel launches on a GPU
    cfg = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, optimizer=optimizer, momentum=momentum,
                      clip_grad_norm=clip, seed=seed, device="cpu")
    trainer = Trainer(model, config=cfg, callbacks=[grads, *callbacks])
    result = trainer.fit(train, val)
    rows = result.history.batches
    firsts = [p[0] for _, p in grads.snapshots]
    lasts = [p[-1] for _, p in grads.snapshots]
    mean_last = sum(lasts) / max(len(lasts), 1)
    return {
        "time_grads": grads.snapshots,
        "first_step_grad": (sum(firsts) / len(firsts)) / mean_last if mean_last > 0 else float("nan"),
        "history": chart_rows(rows),
        # the trainer logs the norm before clipping; the step used at most `clip` of it
        "grad_norm": [r["grad_norm"] for r in rows],
        "applied_grad_norm": [min(r["grad_norm"], clip) if clip else r["grad_norm"] for r in rows],
        "epochs": result.history.epochs,
        "status": result.status,
        "message": result.message,
        "val_accuracy": trainer.evaluate(val)["accuracy"],
        "seconds": time.perf_counter() - t0,
    }


def gradient_profile(cell: str, T: int, hidden: int = 32, symbols: int = 4, seed: int = 0, n: int = 256,
                     wrt: str = "hidden", **net) -> list[float]:
    """The gradient reaching each step at initialisation: one trainer step on
    one batch, read at after_backward, before the weights move."""
    torch.manual_seed(seed)
    model = SeqNet(cell, hidden, symbols, **net)
    grads = TimeGradients(1, wrt)
    trainer = Trainer(model, config=TrainConfig(batch_size=n, seed=seed, device="cpu"), callbacks=[grads])
    x, y = remember_first(n, T, symbols, seed).tensors
    trainer.train_batch(x, y)
    return grads.snapshots[0][1]


def vanishing_with_T(Ts: Sequence[int] = (5, 10, 20, 40), cells: Sequence[str] = CELLS, seed: int = 0,
                     hidden: int = 32, forget_bias: float = 2.0) -> dict:
    """{cell: {T: [‖∂loss/∂h_t‖ for t = 1..T]}} at initialisation. With
    forget_bias=0 (PyTorch's default) the gated cells vanish about as fast as
    the plain RNN: it is the open keep-gate that carries the gradient back."""
    return {cell: {T: gradient_profile(cell, T, hidden, seed=seed, forget_bias=forget_bias) for T in Ts}
            for cell in cells}


def exploding(T: int = 30, steps: int = 150, clip: float = 1.0, seed: int = 0, **setup) -> dict:
    """The same exploding plain RNN trained without and with gradient clipping.

    A ReLU RNN whose recurrent matrix is orthogonal × 2 grows its state (and
    the gradient coming back) about √2-fold a step, since ReLU keeps about half
    of it. Plain SGD, because Adam divides each step by the gradient's own size
    and so hides the explosion that clipping is there to stop. A tanh RNN
    explodes its gradient too, but its bounded state keeps the loss finite."""
    kw = dict(cell="rnn", recurrent_scale=2.0, nonlinearity="relu", optimizer="sgd", momentum=0.0, lr=0.1,
              every=1)
    kw.update(setup)
    return {"unclipped": bptt(T, steps=steps, clip=None, seed=seed, **kw),
            "clipped": bptt(T, steps=steps, clip=clip, seed=seed, **kw)}
