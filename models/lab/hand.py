"""One training step by hand: the maths behind section 1 of the Backprop Lab.

A network small enough to follow on paper:

    x1, x2  ->  N1, N2 (activation f)  ->  y = σ(v1·h1 + v2·h2 + c)

    z1 = w11·x1 + w12·x2 + b1     h1 = f(z1)
    z2 = w21·x1 + w22·x2 + b2     h2 = f(z2)
    z_out = v1·h1 + v2·h2 + c      y = σ(z_out)
    E = ½(t − y)²  ("mse")   or   −[t·log y + (1−t)·log(1−y)]  ("ce")

forward, backward and update return plain data (floats, strings, lists of
(symbol, value) pairs) so the app only has to display them. The torch half
(TinyNet, loss_fn, autograd_gradients, train_steps) is the check: autograd and
the suite's own Trainer must reach the same numbers as the hand calculation.
The default numbers are Matt Mazur's "A Step by Step Backpropagation Example"
with its second output neuron left out.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace

import torch
import torch.nn as nn
from torch.utils.data import TensorDataset

from models.core.trainer import TrainConfig, Trainer

PARAM_NAMES = ["w11", "w12", "w21", "w22", "b1", "b2", "v1", "v2", "c"]
# backprop meets the output layer first, so backward() reports it first
BACKWARD_ORDER = ["v1", "v2", "c", "w11", "w12", "w21", "w22", "b1", "b2"]
ACTIVATIONS = ("sigmoid", "tanh", "relu")
LOSSES = ("mse", "ce")
DIGITS = 6  # significant figures in the formula strings; the floats keep full precision


@dataclass
class HandSetup:
    params: dict[str, float]
    x1: float
    x2: float
    target: float
    activation: str = "sigmoid"
    loss: str = "mse"
    lr: float = 0.5

    @staticmethod
    def default() -> "HandSetup":
        """Mazur's example, one output: his w1..w6 and b1 (shared there, one per neuron here)."""
        params = {"w11": 0.15, "w12": 0.20, "w21": 0.25, "w22": 0.30, "b1": 0.35, "b2": 0.35,
                  "v1": 0.40, "v2": 0.45, "c": 0.60}
        return HandSetup(params, x1=0.05, x2=0.10, target=0.01)

    @staticmethod
    def randomised(seed: int) -> "HandSetup":
        """Weights and biases uniform in [-1, 1], the rest as default(). Rounded to two
        decimals: the sums stay short enough to redo by hand."""
        rng = random.Random(seed)  # a private generator: the app's global seeds stay untouched
        params = {n: round(rng.uniform(-1.0, 1.0), 2) + 0.0 for n in PARAM_NAMES}
        return replace(HandSetup.default(), params=params)


default = HandSetup.default
randomised = HandSetup.randomised


def check(s: HandSetup) -> None:
    """ValueError, in words the app can show, for a setup the maths does not cover."""
    if s.activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {s.activation!r}: use one of {', '.join(ACTIVATIONS)}")
    if s.loss not in LOSSES:
        raise ValueError(f"unknown loss {s.loss!r}: use 'mse' or 'ce'")
    missing = [n for n in PARAM_NAMES if n not in s.params]
    if missing:
        raise ValueError(f"missing parameters: {', '.join(missing)}")
    if not 0.0 <= s.target <= 1.0:
        raise ValueError(f"the target must lie in [0, 1] (a sigmoid output), not {s.target}")


# ---- numbers as the formulas show them ------------------------------------
def fmt(v: float) -> str:
    return f"{float(v) + 0.0:.{DIGITS}g}"  # + 0.0 turns -0.0 into 0.0


def term(v: float) -> str:
    # a negative number in brackets, so 0.15×(-0.2) cannot be misread as a subtraction
    s = fmt(v)
    return f"({s})" if s.startswith("-") else s


def _div(a: float, b: float) -> float:
    # a saturated sigmoid makes y(1−y) exactly 0: show inf or nan rather than raise
    if b != 0:
        return a / b
    return math.nan if a == 0 or math.isnan(a) else math.copysign(math.inf, a)


def _log(v: float) -> float:
    return math.log(v) if v > 0 else (-math.inf if v == 0 else math.nan)


def _xlogy(a: float, b: float) -> float:
    # 0·log 0 counts as 0, as in torch.xlogy: a target of exactly 0 or 1 reached costs nothing
    return 0.0 if a == 0 else a * _log(b)


def _sigmoid(z: float) -> float:
    # the two-branch form never overflows math.exp, whatever weights are typed in
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


# name -> (f, f' given z and h = f(z), how forward() writes h = f(z), how backward() writes f')
_ACT = {
    "sigmoid": (_sigmoid, lambda z, h: h * (1.0 - h), "σ({z})", "{h}(1 − {h})"),
    "tanh": (math.tanh, lambda z, h: 1.0 - h * h, "tanh({z})", "1 − {h}²"),
    # derivative 0 at exactly z = 0, as torch's relu
    "relu": (lambda z: z if z > 0 else 0.0, lambda z, h: 1.0 if z > 0 else 0.0, "max(0, {z})", "[{z} > 0]"),
}


def _loss(kind: str, y: float, t: float) -> float:
    if kind == "mse":
        d = t - y
        return 0.5 * d * d  # the same operations, in the same order, as loss_fn
    return -(_xlogy(t, y) + _xlogy(1.0 - t, 1.0 - y))


# ---- the hand calculation --------------------------------------------------
def _weighted_sum(name: str, p: dict, weights: tuple, inputs: tuple, values: tuple, result: float) -> str:
    a, b, bias = weights
    products = " + ".join(f"{term(p[w])}×{term(v)}" for w, v in zip((a, b), values))
    return f"{name} = {a}·{inputs[0]} + {b}·{inputs[1]} + {bias} = {products} + {term(p[bias])} = {fmt(result)}"


def forward(s: HandSetup) -> dict:
    """Every intermediate value of the forward pass, and each step written out with its numbers."""
    check(s)
    p, (f, _, show_f, _) = s.params, _ACT[s.activation]
    x1, x2, t = s.x1, s.x2, s.target
    z1 = p["w11"] * x1 + p["w12"] * x2 + p["b1"]
    z2 = p["w21"] * x1 + p["w22"] * x2 + p["b2"]
    h1, h2 = f(z1), f(z2)
    z_out = p["v1"] * h1 + p["v2"] * h2 + p["c"]
    y = _sigmoid(z_out)
    loss = _loss(s.loss, y, t)

    if s.loss == "mse":
        loss_formula = f"E = ½(t − y)² = ½({term(t)} − {term(y)})² = {fmt(loss)}"
    else:
        loss_formula = (f"E = −[t·log y + (1−t)·log(1−y)] = "
                        f"−[{term(t)}×log {term(y)} + {term(1 - t)}×log {term(1 - y)}] = {fmt(loss)}")
    formulas = {
        "z1": _weighted_sum("z1", p, ("w11", "w12", "b1"), ("x1", "x2"), (x1, x2), z1),
        "h1": f"h1 = {show_f.format(z='z1')} = {show_f.format(z=term(z1))} = {fmt(h1)}",
        "z2": _weighted_sum("z2", p, ("w21", "w22", "b2"), ("x1", "x2"), (x1, x2), z2),
        "h2": f"h2 = {show_f.format(z='z2')} = {show_f.format(z=term(z2))} = {fmt(h2)}",
        "z_out": _weighted_sum("z_out", p, ("v1", "v2", "c"), ("h1", "h2"), (h1, h2), z_out),
        "y": f"y = σ(z_out) = σ({term(z_out)}) = {fmt(y)}",
        "loss": loss_formula,
    }
    return {"z1": z1, "z2": z2, "h1": h1, "h2": h2, "z_out": z_out, "y": y,
            "loss": loss, "error": y - t, "formulas": formulas}


def _chain(lhs: str, factors: list[tuple[str, float]], value: float) -> str:
    symbols = " · ".join(sym for sym, _ in factors)
    numbers = " × ".join(term(v) for _, v in factors)
    return f"{lhs} = {symbols} = {numbers} = {fmt(value)}"


def backward(s: HandSetup) -> dict:
    """∂E/∂param for every parameter as a chain-rule product, output layer first.

    Returns {param: {"value", "factors", "formula"}} in BACKWARD_ORDER, then
    "delta_out", "delta_1", "delta_2" (floats: ∂E/∂z_out, ∂E/∂z1, ∂E/∂z2),
    "deltas" (the same three as {"value", "factors", "formula"}) and
    "grads" ({param: float}, in PARAM_NAMES order).
    """
    fw = forward(s)
    p, (_, df, _, show_df) = s.params, _ACT[s.activation]
    y, t = fw["y"], s.target
    dy_dz = y * (1.0 - y)
    if s.loss == "mse":
        dE_dy = y - t
        delta_out = dE_dy * dy_dz
    else:
        dE_dy = _div(y - t, dy_dz)
        delta_out = y - t  # the y(1−y) cancels: exact, and finite even when the sigmoid saturates
    d1, d2 = df(fw["z1"], fw["h1"]), df(fw["z2"], fw["h2"])
    delta_1 = delta_out * p["v1"] * d1
    delta_2 = delta_out * p["v2"] * d2

    out = [("∂E/∂y", dE_dy), ("∂y/∂z_out", dy_dz)]
    via_1 = out + [("∂z_out/∂h1", p["v1"]), ("∂h1/∂z1", d1)]
    via_2 = out + [("∂z_out/∂h2", p["v2"]), ("∂h2/∂z2", d2)]
    # param -> (∂E/∂z of the neuron it feeds, the chain up to that z, ∂z/∂param)
    links = {
        "v1": (delta_out, out, ("∂z_out/∂v1", fw["h1"])),
        "v2": (delta_out, out, ("∂z_out/∂v2", fw["h2"])),
        "c": (delta_out, out, ("∂z_out/∂c", 1.0)),
        "w11": (delta_1, via_1, ("∂z1/∂w11", s.x1)),
        "w12": (delta_1, via_1, ("∂z1/∂w12", s.x2)),
        "w21": (delta_2, via_2, ("∂z2/∂w21", s.x1)),
        "w22": (delta_2, via_2, ("∂z2/∂w22", s.x2)),
        "b1": (delta_1, via_1, ("∂z1/∂b1", 1.0)),
        "b2": (delta_2, via_2, ("∂z2/∂b2", 1.0)),
    }
    result: dict = {}
    for name in BACKWARD_ORDER:
        delta, chain, last = links[name]
        factors = chain + [last]
        value = delta * last[1]
        result[name] = {"value": value, "factors": factors, "formula": _chain(f"∂E/∂{name}", factors, value)}

    note = " (= y − t: with cross-entropy the y(1−y) cancels)" if s.loss == "ce" else ""
    deltas = {
        "delta_out": {"value": delta_out, "factors": out,
                      "formula": _chain("δ_out = ∂E/∂z_out", out, delta_out) + note},
    }
    for i, d, delta in ((1, d1, delta_1), (2, d2, delta_2)):
        factors = [("δ_out", delta_out), (f"∂z_out/∂h{i}", p[f"v{i}"]), (f"∂h{i}/∂z{i}", d)]
        formula = _chain(f"δ{i} = ∂E/∂z{i}", factors, delta)
        formula += f", where ∂h{i}/∂z{i} = " + show_df.format(z=f"z{i}", h=f"h{i}")
        deltas[f"delta_{i}"] = {"value": delta, "factors": factors, "formula": formula}
    result.update({k: v["value"] for k, v in deltas.items()})
    result["deltas"] = deltas
    result["grads"] = {n: result[n]["value"] for n in PARAM_NAMES}
    return result


def update(s: HandSetup, grads: dict | None = None) -> dict:
    """One step of gradient descent, new = old − lr·grad, for every parameter.

    grads: backward(s) (the default) or a plain {param: float}. Returns {param:
    {"old", "grad", "new", "formula"}} in PARAM_NAMES order, "loss" (before),
    "next_loss" (after) and "setup" (a new HandSetup; s is left as it was).
    """
    if grads is None:
        grads = backward(s)
    result: dict = {}
    new_params = {}
    for n in PARAM_NAMES:
        g = grads[n]
        g = float(g["value"] if isinstance(g, dict) else g)
        old = float(s.params[n])
        new = old - s.lr * g
        new_params[n] = new
        result[n] = {"old": old, "grad": g, "new": new,
                     "formula": f"{n} ← {term(old)} − {term(s.lr)} × {term(g)} = {fmt(new)}"}
    nxt = replace(s, params=new_params)
    result["loss"] = forward(s)["loss"]
    result["next_loss"] = forward(nxt)["loss"]
    result["setup"] = nxt
    return result


# ---- the same network in torch ---------------------------------------------
_TORCH_ACT = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}


class TinyNet(nn.Module):
    """The hand network as a torch module: nine scalar float64 parameters, named as on paper."""

    def __init__(self, s: HandSetup):
        super().__init__()
        check(s)
        self.activation = s.activation
        for n in PARAM_NAMES:
            setattr(self, n, nn.Parameter(torch.tensor(float(s.params[n]), dtype=torch.float64)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = _TORCH_ACT[self.activation]
        x1, x2 = x[:, 0], x[:, 1]
        h1 = f(self.w11 * x1 + self.w12 * x2 + self.b1)
        h2 = f(self.w21 * x1 + self.w22 * x2 + self.b2)
        return torch.sigmoid(self.v1 * h1 + self.v2 * h2 + self.c)

    def param_values(self) -> dict[str, float]:
        return {n: getattr(self, n).item() for n in PARAM_NAMES}


def loss_fn(kind: str):
    """(y, t) -> the batch mean of the hand loss; for one example it is the hand loss exactly."""
    if kind == "mse":
        def mse(y: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            d = t - y
            return (0.5 * d * d).mean()
        return mse
    if kind == "ce":
        def ce(y: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            # from y itself, not from logits, so it is the formula the Lab shows
            return -(torch.xlogy(t, y) + torch.xlogy(1 - t, 1 - y)).mean()
        return ce
    raise ValueError(f"unknown loss {kind!r}: use 'mse' or 'ce'")


def _example(s: HandSetup) -> tuple[torch.Tensor, torch.Tensor]:
    return (torch.tensor([[s.x1, s.x2]], dtype=torch.float64),
            torch.tensor([s.target], dtype=torch.float64))


def autograd_gradients(s: HandSetup) -> dict[str, float]:
    """∂E/∂param as torch.autograd finds it, to set beside backward()."""
    net = TinyNet(s)
    x, t = _example(s)
    loss_fn(s.loss)(net(x), t).backward()
    return {n: getattr(net, n).grad.item() for n in PARAM_NAMES}


def train_steps(s: HandSetup, n: int) -> dict:
    """n steps of plain gradient descent on the one example, through the suite's Trainer.

    Returns "losses" (the loss before each step taken), "history" (the Trainer's
    batch rows, with gradient norms), "final" (forward() after training),
    "setup" (the trained HandSetup) and the FitResult's "status" and "message".
    A learning rate that blows up comes back as status "diverged", the weights
    those of the last step with a finite loss.
    """
    check(s)
    if n <= 0:  # TrainConfig reads epochs=0 as "the default", so no Trainer here
        return {"losses": [], "history": [], "final": forward(s), "setup": s,
                "status": "completed", "message": "No steps taken."}
    net = TinyNet(s)
    cfg = TrainConfig(optimizer="sgd", momentum=0.0, lr=s.lr, batch_size=1, epochs=n,
                      track_grad_norms=True, device="cpu")
    result = Trainer(net, loss_fn(s.loss), cfg, metrics={}).fit(TensorDataset(*_example(s)))
    trained = replace(s, params=net.param_values())
    rows = result.history.batches
    return {"losses": [r["loss"] for r in rows], "history": rows, "final": forward(trained),
            "setup": trained, "status": result.status, "message": result.message}
