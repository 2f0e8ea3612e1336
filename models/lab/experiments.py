"""The experiments of the Backprop Lab, section 2: what makes backprop work or fail.

Each experiment trains small MLPs on 2-D points through the suite's one loop,
`Trainer.fit`, changing one thing between runs (the learning rate, the
initialisation, the depth, the batch size, the input scale), and returns plain
data for the app to plot: the trainer's per-batch history, the epoch rows, how
the run ended, and what the network decided over the plane.

Training is SGD with the trainer's momentum (0.9), except in `learning_rates`,
which drops it so that a step is exactly lr × gradient. The points are used as
given: pass `points.standardised()` for data of any other scale (only
`normalisation` is about that). Everything runs on the CPU: for networks this
small a GPU's per-kernel overhead costs more than it saves.
"""
from __future__ import annotations

import math
import time
from typing import Sequence

import numpy as np
import torch
import torch.nn as nn

from data.lab.toy import Points
from models.core.history import chart_rows
from models.core.trainer import Callback, FitResult, Status, TrainConfig, Trainer

DEVICE = "cpu"
MAX_ROWS = 400            # history rows per run sent to the app; more only slows the charts
VAL_ROWS = 50             # epoch rows per run that carry the validation loss
STOCHASTIC_STEPS = 1200   # gd_flavours' default budget: about 2 s on a busy 2-core machine
ACTIVATIONS = {"tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "relu": nn.ReLU}


# ---- the network ---------------------------------------------------------

class Dense(nn.Linear):
    """One hidden layer: linear -> (LayerNorm) -> activation (+ its input, if residual).

    A subclass of nn.Linear so that its parameters are "layer1.weight" and
    "layer1.bias", which the trainer groups into one gradient norm, "layer1".
    The LayerNorm has no affine parameters, so it adds no gradient-norm key of
    its own; the next layer's weights can rescale its output anyway.
    """

    def __init__(self, n_in: int, n_out: int, activation: str, norm: bool, residual: bool):
        super().__init__(n_in, n_out)
        self.norm = nn.LayerNorm(n_out, elementwise_affine=False) if norm else nn.Identity()
        self.act = ACTIVATIONS[activation]()
        self.residual = residual and n_in == n_out     # a skip needs matching widths

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.act(self.norm(super().forward(x)))
        return x + h if self.residual else h


class MLP(nn.Module):
    """layer1 … layerN (hidden) and output, named in order from input to output.

    norm=True puts a LayerNorm before each activation. LayerNorm rather than
    BatchNorm1d because it normalises each example on its own: it works with a
    batch of one (the stochastic run of `gd_flavours`) and behaves the same in
    training and evaluation, so the decision map shows the network as trained.
    """

    def __init__(self, hidden: Sequence[int], activation: str = "tanh", norm: bool = False,
                 residual: bool = False, n_in: int = 2, n_out: int = 2):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}: use one of {list(ACTIVATIONS)}")
        self.activation = activation
        self.names = []
        width = n_in
        for i, w in enumerate(hidden, 1):
            self.add_module(f"layer{i}", Dense(width, w, activation, norm, residual))
            self.names.append(f"layer{i}")
            width = w
        self.output = nn.Linear(width, n_out)
        self.names.append("output")

    def hidden_layers(self) -> list[Dense]:
        return [getattr(self, n) for n in self.names[:-1]]

    def activations(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Each hidden layer's output, first to last."""
        out = []
        for layer in self.hidden_layers():
            x = layer(x)
            out.append(x)
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.hidden_layers():
            x = layer(x)
        return self.output(x)


INIT_SCHEMES = ("zeros", "tiny", "large", "xavier", "he")


@torch.no_grad()
def init_weights(model: nn.Module, scheme: str) -> nn.Module:
    """Set every linear layer's weights by `scheme`; biases start at zero."""
    if scheme not in INIT_SCHEMES:
        raise ValueError(f"unknown initialisation {scheme!r}: use one of {list(INIT_SCHEMES)}")
    for m in model.modules():
        if not isinstance(m, nn.Linear):
            continue
        if scheme == "zeros":
            nn.init.zeros_(m.weight)
        elif scheme == "tiny":
            nn.init.normal_(m.weight, 0.0, 0.01)
        elif scheme == "large":
            nn.init.normal_(m.weight, 0.0, 2.5)          # pushes tanh and sigmoid into their flat tails
        elif scheme == "xavier":
            nn.init.xavier_normal_(m.weight)               # Glorot & Bengio 2010: variance kept for tanh
        else:
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")   # He et al. 2015: for ReLU
        nn.init.zeros_(m.bias)
    return model


def default_scheme(activation: str) -> str:
    return "he" if activation == "relu" else "xavier"


@torch.no_grad()
def decision_grid(model: nn.Module, points: Points, steps: int = 80) -> dict:
    """What the network decides over the plane around the data.

    xx, yy: steps×steps coordinates; prob: the probability of class 1 for two
    classes, else the predicted class index, for a contour or heatmap.
    """
    x = points.x.float()
    lo, hi = x.min(0).values, x.max(0).values
    margin = 0.1 * (hi - lo).clamp_min(1e-6)
    gx = torch.linspace(float(lo[0] - margin[0]), float(hi[0] + margin[0]), steps)
    gy = torch.linspace(float(lo[1] - margin[1]), float(hi[1] + margin[1]), steps)
    yy, xx = torch.meshgrid(gy, gx, indexing="ij")
    was_training = model.training
    model.eval()
    out = model(torch.stack([xx.flatten(), yy.flatten()], 1).to(next(model.parameters()).device)).cpu()
    model.train(was_training)
    prob = out.softmax(1)[:, 1] if out.shape[1] == 2 else out.argmax(1).float()
    return {"xx": xx.numpy(), "yy": yy.numpy(), "prob": prob.reshape(steps, steps).numpy()}


# ---- one run ---------------------------------------------------------------

def _build(points: Points, hidden, activation="tanh", norm=False, residual=False, scheme=None, seed=0) -> MLP:
    torch.manual_seed(seed)
    model = MLP(hidden, activation, norm, residual, n_in=points.x.shape[1], n_out=len(points.classes))
    return init_weights(model, scheme or default_scheme(activation))


def _run(model: nn.Module, points: Points, *, steps: int | None = None, epochs: int | None = None,
         batch_size: int | None = None, lr: float, optimizer: str = "sgd", momentum: float = 0.9,
         seed: int = 0, callbacks: Sequence[Callback] = (), threads: int | None = None,
         track_grad_norms: bool = True, grid: bool = True) -> dict:
    """Train `model` on a split of `points` for `steps` batches (or `epochs`) and
    describe the run. batch_size None: the whole training set in every step."""
    train, val = points.split(0.25, seed)
    n = len(train)
    batch_size = min(batch_size or n, n)
    per_epoch = math.ceil(n / batch_size)
    if epochs is None:
        epochs = math.ceil(steps / per_epoch)
    # a batch limit only when the steps end mid-epoch
    limit = steps if steps and steps % per_epoch else None
    cfg = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, optimizer=optimizer, momentum=momentum,
                      seed=seed, device=DEVICE, threads=threads, max_batches=limit,
                      track_grad_norms=track_grad_norms)
    trainer = Trainer(model, config=cfg, callbacks=[EvaluateEvery({"val": val}, epochs // VAL_ROWS), *callbacks])
    t0 = time.perf_counter()
    result: FitResult = trainer.fit(train)
    end_train, end_val = trainer.evaluate(train), trainer.evaluate(val)
    run = {
        "status": result.status, "message": result.message, "seconds": result.seconds,
        "lr": lr, "batch_size": batch_size, "steps": trainer.step, "epochs_done": result.epochs_done,
        "history": chart_rows(result.history.batches, MAX_ROWS), "epochs": chart_rows(_timed_epochs(result), MAX_ROWS),
        "final_loss": end_train["loss"], "train_accuracy": end_train["accuracy"],
        "val_loss": end_val["loss"], "val_accuracy": end_val["accuracy"],
    }
    if grid:
        run["grid"] = decision_grid(model, points)
    run["total_seconds"] = time.perf_counter() - t0
    return run


class EvaluateEvery(Callback):
    """Loss and metrics on named data sets ({"val": ...} adds "val_loss", "val_accuracy")
    every `every` epochs and at the last, in evaluation mode; `suffix` ends each key. A
    full-batch run has an epoch per step, and evaluating every one of them would cost a
    third of its time for a curve no one needs that finely."""

    def __init__(self, sets: dict, every: int = 1, suffix: str = ""):
        self.sets, self.every, self.suffix = sets, max(1, every), suffix

    def on_epoch_end(self, t) -> None:
        if t.epoch % self.every == 0 or t.epoch == t.cfg.epochs:
            row = t.history.epochs[-1]
            for name, data in self.sets.items():
                row.update({f"{name}_{k}{self.suffix}": v for k, v in t.evaluate(data).items()})


def _timed_epochs(result: FitResult) -> list[dict]:
    """Epoch rows with "time": seconds since the fit began when the epoch's last batch ended."""
    ends = {}
    for row in result.history.batches:
        ends[row["epoch"]] = row["time"]
    return [dict(e, time=ends.get(e["epoch"])) for e in result.history.epochs]


def _user_stopped(run: dict) -> bool:
    return run["status"] == Status.STOPPED


# ---- the experiments ---------------------------------------------------------

def learning_rates(points: Points, lrs: Sequence[float] = (0.0003, 0.1, 10.0, 1000.0), steps: int = 300,
                   hidden: Sequence[int] = (16, 16), optimizer: str = "sgd", activation: str = "relu",
                   seed: int = 0, callbacks: Sequence[Callback] = (), threads: int | None = None) -> dict:
    """Full-batch runs that differ only in the learning rate. {"runs": {lr: run}}, in the order given.

    On XOR the defaults show each behaviour: 0.0003 crawls, 0.1 converges, 10
    overshoots (the loss leaps by orders of magnitude and the ReLUs die), and
    1000 overflows within a few steps, which the trainer reports as "diverged".
    ReLU because a bounded activation (tanh) keeps the loss finite, so nothing
    ever diverges; plain SGD (no momentum) so the step is just lr × gradient.
    """
    runs = {}
    for lr in lrs:
        model = _build(points, list(hidden), activation, seed=seed)
        runs[lr] = _run(model, points, steps=steps, lr=lr, optimizer=optimizer, momentum=0.0,
                        seed=seed, callbacks=callbacks, threads=threads)
        if _user_stopped(runs[lr]):
            break
    return {"runs": runs}


def _symmetry(model: MLP) -> float:
    """Largest difference between two first-layer units' incoming weights (and bias):
    0 means every unit computes the same thing and gets the same gradient."""
    first = model.hidden_layers()[0]
    w = torch.cat([first.weight, first.bias[:, None]], 1).detach()
    return float((w.max(0).values - w.min(0).values).max())


@torch.no_grad()
def _saturation(model: MLP, x: torch.Tensor) -> float:
    """Fraction of first-layer activations where the activation is flat (slope ≈ 0):
    |tanh| > 0.99, sigmoid < 0.01 or > 0.99. For ReLU, those of units that are 0
    for every point (dead): any one ReLU is 0 for half its inputs by design."""
    h = model.activations(x)[0]
    if model.activation == "tanh":
        flat = h.abs() > 0.99
    elif model.activation == "sigmoid":
        flat = (h < 0.01) | (h > 0.99)
    else:
        flat = (h == 0).all(0, keepdim=True).expand_as(h)
    return float(flat.float().mean())


def initialisations(points: Points, schemes: Sequence[str] = INIT_SCHEMES, activation: str = "tanh",
                    steps: int = 300, hidden: Sequence[int] = (16, 16), lr: float = 0.1, seed: int = 0,
                    callbacks: Sequence[Callback] = (), threads: int | None = None) -> dict:
    """The same network started from each scheme. Per run also "symmetry" (first
    layer, at the end) and "saturation" (first layer, at the start).
    {"runs": {scheme: run}}"""
    runs = {}
    for scheme in schemes:
        model = _build(points, list(hidden), activation, scheme=scheme, seed=seed)
        saturation = _saturation(model, points.x)
        run = _run(model, points, steps=steps, lr=lr, seed=seed, callbacks=callbacks, threads=threads)
        run.update(saturation=saturation, symmetry=_symmetry(model), scheme=scheme)
        runs[scheme] = run
        if _user_stopped(run):
            break
    return {"runs": runs}


def depth_gradients(points: Points, depth: int = 8, width: int = 16, activation: str = "sigmoid",
                    norm: bool = False, residual: bool = False, steps: int = 200, lr: float = 0.03,
                    seed: int = 0, callbacks: Sequence[Callback] = (), threads: int | None = None) -> dict:
    """A deep, narrow MLP and the gradient norm of each layer through training.

    The run plus "layer_norms" {layer: [norm per step]} from input to output,
    "layer_means" {layer: mean norm} and "first_over_last": layer1's mean norm
    over the last hidden layer's. Far below 1: the gradient vanishes on its way
    back (sigmoid's slope is at most 1/4 per layer); near 1: it gets through.
    """
    model = _build(points, [width] * depth, activation, norm, residual, seed=seed)
    run = _run(model, points, steps=steps, lr=lr, seed=seed, callbacks=callbacks, threads=threads)
    rows = [r for r in run["history"] if "grad_norms" in r]
    norms = {name: [r["grad_norms"].get(name, 0.0) for r in rows] for name in model.names}
    means = {name: float(np.mean(v)) if v else 0.0 for name, v in norms.items()}
    last_hidden = model.names[-2] if depth else model.names[-1]
    first = means[model.names[0]]
    ratio = first / means[last_hidden] if means[last_hidden] > 0 else float("nan")
    run.update(layer_norms=norms, layer_means=means, first_over_last=ratio,
               config={"depth": depth, "width": width, "activation": activation, "norm": norm,
                       "residual": residual})
    return run


def _flavour(batch_size: int | None, n: int) -> str:
    if batch_size is None or batch_size >= n:
        return f"full batch ({n})"
    return "stochastic (batch 1)" if batch_size == 1 else f"mini-batch ({batch_size})"


def _flavour_lr(batch_size: int | None, n: int) -> float:
    # the linear scaling rule (Goyal et al. 2017), capped: a batch of b examples
    # averages away noise, so it can take a step about b times as long
    return min(0.5, 0.01 * min(batch_size or n, n))


def gd_flavours(points: Points, batch_sizes: Sequence[int | None] = (1, 32, None), epochs: int | None = None,
                lrs: Sequence[float] | None = None, hidden: Sequence[int] = (16, 16), activation: str = "tanh",
                seed: int = 0, callbacks: Sequence[Callback] = (), threads: int | None = None) -> dict:
    """Stochastic, mini-batch and full-batch gradient descent for the same number
    of epochs (passes over the data). Plot loss against "step" and against "time"
    (seconds) of the history rows; the epoch rows carry "time" and the
    validation loss for a fair comparison. {"runs": {label: run}}

    epochs None: as many as make about STOCHASTIC_STEPS steps of one example,
    since those cost as much as a full batch each here (the trainer's per-step
    overhead dwarfs a 2-16-16-2 network's arithmetic).
    """
    n = len(points.split(0.25, seed)[0])
    epochs = epochs or max(1, round(STOCHASTIC_STEPS / n))
    lrs = list(lrs) if lrs is not None else [_flavour_lr(b, n) for b in batch_sizes]
    runs = {}
    for b, lr in zip(batch_sizes, lrs):
        model = _build(points, list(hidden), activation, seed=seed)
        # per-layer norms cost an .item() per parameter per step: too dear at a batch of one
        run = _run(model, points, epochs=epochs, batch_size=b, lr=lr, seed=seed, callbacks=callbacks,
                   threads=threads, track_grad_norms=False)
        run["label"] = _flavour(b, n)
        runs[run["label"]] = run
        if _user_stopped(run):
            break
    return {"runs": runs}


def normalisation(points: Points, scale: Sequence[float] = (1.0, 100.0), shift: Sequence[float] = (0.0, 50.0),
                  steps: int = 300, lr: float = 0.1, hidden: Sequence[int] = (16, 16), activation: str = "tanh",
                  seed: int = 0, callbacks: Sequence[Callback] = (), threads: int | None = None) -> dict:
    """The same network, learning rate and steps on badly scaled features ("raw":
    x * scale + shift) and on the same features standardised. Each run also
    holds its inputs "x" and "y" (numpy), which its "grid" covers, and for the
    standardised run the "mean" and "std" that map them back to raw units.
    {"runs": {"raw": run, "standardised": run}, "raw": run, "standardised": run, "scale", "shift"}"""
    raw = Points(points.x * torch.tensor(scale, dtype=torch.float32) + torch.tensor(shift, dtype=torch.float32),
                 points.y, points.classes, f"{points.name} (scaled)", list(points.features))
    runs = {}
    for key, data in (("raw", raw), ("standardised", raw.standardised())):
        model = _build(data, list(hidden), activation, seed=seed)
        run = _run(model, data, steps=steps, lr=lr, seed=seed, callbacks=callbacks, threads=threads)
        run.update(x=data.x.numpy(), y=data.y.numpy(),
                   mean=None if data.mean is None else data.mean.tolist(),
                   std=None if data.std is None else data.std.tolist())
        runs[key] = run
        if _user_stopped(run):
            break
    # the two runs also at the top level, as the app reads them
    return {"runs": runs, **runs, "scale": list(scale), "shift": list(shift)}
