"""Activations without a useful slope: the step function, and the straight-through estimator.

The step, 1 where x > 0 and 0 elsewhere, has derivative 0 everywhere except at 0, where
it has none. Backprop multiplies by that derivative on its way back through each hidden
layer, so every layer below a step gets a gradient of exactly 0 and keeps its initial
weights; only the output layer, after the last step, learns (a linear read-out of fixed
random features). The sigmoid, a smooth step, has a slope everywhere and trains. The
straight-through estimator (Bengio, Léonard & Courville 2013; Hinton's lectures, 2012)
keeps the step in the forward pass and pretends it was the identity in the backward
pass: a wrong gradient, but one that points the right way often enough to learn, which
is how binarised and quantised networks are trained.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn

from data.lab.toy import Points
from models.core.trainer import Callback
from models.lab.experiments import _build, _run

KINDS = ("step", "sigmoid", "straight-through")


class StepFn(torch.autograd.Function):
    """Heaviside step with its true derivative: 0 (taken as 0 at x = 0 too)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        return (x > 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(grad)


class StraightThroughFn(StepFn):
    """The step forward, the identity backward: the gradient passes through unchanged."""

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        return grad


class Step(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return StepFn.apply(x)


class StraightThrough(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return StraightThroughFn.apply(x)


def network(points: Points, kind: str, hidden: Sequence[int] = (16, 16), seed: int = 0) -> nn.Module:
    """The Lab's MLP with `kind` as every hidden activation; the same initial weights for
    every kind (Xavier, drawn from `seed`)."""
    if kind not in KINDS:
        raise ValueError(f"unknown activation {kind!r}: use one of {list(KINDS)}")
    model = _build(points, list(hidden), "sigmoid", scheme="xavier", seed=seed)
    if kind != "sigmoid":
        for layer in model.hidden_layers():
            layer.act = Step() if kind == "step" else StraightThrough()
    return model


class FirstLayerGradient(Callback):
    """The largest |∂E/∂w| over the first layer's weights after every backward pass:
    exactly what backprop delivered there, not a norm rounded on the way."""

    def __init__(self, layer: nn.Linear):
        self.layer, self.values = layer, []

    def on_after_backward(self, t) -> None:
        g = self.layer.weight.grad
        self.values.append(0.0 if g is None else float(g.abs().max()))


def step_activation(points: Points, kinds: Sequence[str] = KINDS, steps: int = 300, lr: float = 0.03,
                    hidden: Sequence[int] = (16, 16), seed: int = 0, callbacks: Sequence[Callback] = (),
                    threads: int | None = None) -> dict:
    """The same network and initial weights with a step, a sigmoid and a straight-through
    step as hidden activations, trained alike (Adam, full batch).

    {"runs": {kind: run}}; each run also has "first_layer_grad" (largest |∂E/∂w| of layer 1,
    per step), "first_layer_max" (its largest over training), "hidden_moved" (the largest
    change of any hidden layer's weight or bias from its initial value) and "first_loss"."""
    runs = {}
    for kind in kinds:
        model = network(points, kind, hidden, seed)
        hidden_layers = model.hidden_layers()
        start = [p.detach().clone() for layer in hidden_layers for p in layer.parameters()]
        probe = FirstLayerGradient(hidden_layers[0])
        run = _run(model, points, steps=steps, lr=lr, optimizer="adam", seed=seed,
                   callbacks=[probe, *callbacks], threads=threads)
        end = [p.detach() for layer in hidden_layers for p in layer.parameters()]
        run.update(first_layer_grad=probe.values, first_layer_max=max(probe.values, default=0.0),
                   hidden_moved=max(float((a - b).abs().max()) for a, b in zip(start, end)),
                   first_loss=run["history"][0]["loss"] if run["history"] else float("nan"), kind=kind)
        runs[kind] = run
        if run["status"] == "stopped":
            break
    return {"runs": runs}
