"""What backprop does with dropout (Srivastava et al. 2014), for the Lab's claim
"it computes derivatives for dropped neurons too".

In training, dropout multiplies each hidden unit's output by a random mask m ∈ {0, 1}
(kept with probability 1 − p) and by 1/(1 − p), so that the expected output is
unchanged ("inverted" dropout, what nn.Dropout does). Backprop goes through the same
product: for one example the hidden unit j's gradient is

    ∂E/∂h_j = m_j/(1 − p) · Σ_k W2[k, j] · ∂E/∂z_k

so a dropped unit (m_j = 0) gets exactly zero, and so do its incoming weights and
bias; a kept one gets the plain gradient scaled by 1/(1 − p). Over a batch, a unit's
weight gradient is the sum over the examples where it was kept. `one_batch` shows
this with autograd and checks it against the formula by hand; `overfitting` trains a
wide net on a small noisy set through `Trainer.fit`, with and without dropout.
"""
from __future__ import annotations

import time
from typing import Sequence

import torch
import torch.nn as nn
from torch.utils.data import TensorDataset

from data.lab import toy
from models.core.trainer import TrainConfig, Trainer
from models.lab.experiments import EvaluateEvery


class DropoutMLP(nn.Module):
    """input -> hidden (tanh) -> dropout -> ... -> output. Tanh rather than ReLU so
    that a unit is never 0 on its own: a 0 after the dropout layer is always its mask."""

    def __init__(self, n_in: int = 2, hidden: Sequence[int] = (16,), n_out: int = 2, p: float = 0.5):
        super().__init__()
        layers, width = [], n_in
        for w in hidden:
            layers += [nn.Linear(width, w), nn.Tanh(), nn.Dropout(p)]
            width = w
        self.hidden = nn.Sequential(*layers)
        self.output = nn.Linear(width, n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output(self.hidden(x))


def one_batch(p: float = 0.5, batch: int = 8, width: int = 12, seed: int = 0) -> dict:
    """One forward and backward pass of a one-hidden-layer net with dropout, on `batch`
    XOR points. Everything as nested lists, units along the last axis:

    mask (batch×width, 1 kept / 0 dropped); grad_per_example (batch×width: each
    example's ‖∂E/∂W1[j, :]‖); grad_batch (the same for the whole batch) and sum_error
    (it against the sum of the examples' gradients); example (which one, from 1, is
    shown alone: the first with units both kept and dropped), and for it mask_single,
    grad_single, scale (its kept outputs ÷ their plain values: 1/(1 − p)),
    hand_single (its W1 gradient by the formula above), max_error (autograd against
    that) and dropped_zero (every dropped unit's row and bias exactly 0)."""
    if not 0.0 <= p < 1.0:
        raise ValueError("p must be in [0, 1)")
    points = toy.make("xor", n=max(batch, 4), noise=0.3, seed=seed)
    x, y = points.x[:batch], points.y[:batch]
    torch.manual_seed(seed)
    model = DropoutMLP(2, (width,), 2, p).train()
    lin, drop = model.hidden[0], model.hidden[2]
    seen = {}
    hook = drop.register_forward_hook(lambda m, inp, out: seen.update(h=inp[0].detach(), out=out.detach()))

    torch.manual_seed(seed + 1)                 # the masks
    losses = nn.functional.cross_entropy(model(x), y, reduction="none")
    hook.remove()
    h, out = seen["h"], seen["out"]
    mask = (out != 0).float()
    # the example shown alone: the first with units both kept and dropped
    i = next((i for i, row in enumerate(mask) if 0 < row.sum() < width), 0)
    # each example's share of the gradient, then the whole batch's (the sum of the losses)
    each = [torch.autograd.grad(loss, [lin.weight, lin.bias], retain_graph=True) for loss in losses]
    gw_1, gb_1 = each[i]
    losses.sum().backward()
    gw_b = lin.weight.grad
    per_example = torch.stack([gw.norm(dim=1) for gw, _ in each])
    sum_error = float((torch.stack([gw for gw, _ in each]).sum(0) - gw_b).abs().max())
    m1 = mask[i]
    # that example by hand: the output error, back through W2 and the mask, then tanh' and x
    with torch.no_grad():
        z = model.output(out[i:i + 1])
        dz = z.softmax(1)[0] - nn.functional.one_hot(y[i:i + 1], 2)[0].float()
        dh = m1 / (1 - p) * (model.output.weight.T @ dz)
        hand = (dh * (1 - h[i] ** 2))[:, None] * x[i][None, :]
    kept = m1.bool()
    scale = (out[i][kept] / h[i][kept]).tolist()
    return {"p": p, "batch": batch, "width": width, "example": i + 1, "mask": mask.tolist(),
            "mask_single": m1.tolist(), "scale": scale, "grad_single": gw_1.norm(dim=1).tolist(),
            "grad_batch": gw_b.norm(dim=1).tolist(),
            "kept_count": mask.sum(0).tolist(), "grad_per_example": per_example.tolist(), "sum_error": sum_error,
            "dropped_zero_batch": bool((per_example[mask == 0] == 0).all()),
            "weight_grad_single": gw_1.tolist(), "hand_single": hand.tolist(),
            "bias_grad_single": gb_1.tolist(), "max_error": float((gw_1 - hand).abs().max()),
            "dropped_zero": bool((gw_1[~kept] == 0).all() and (gb_1[~kept] == 0).all())}


def overfitting(ps: Sequence[float] = (0.0, 0.5), n_train: int = 60, noise: float = 0.35,
                width: int = 256, epochs: int = 300, batch_size: int = 60, every: int = 5, data: str = "moons",
                seed: int = 0) -> dict:
    """A wide two-hidden-layer net on a small noisy training set and a large validation
    set from the same distribution, once per dropout rate. {"runs": {p: run}}, each run
    with "epochs" rows (train_loss_eval, val_loss_eval, train_accuracy_eval, ...) and
    the final figures, "gap" = final validation loss − final training loss. Full-batch
    Adam (each step sees the whole training set, so only the masks are random),
    measured every `every` epochs."""
    train = toy.make(data, n=n_train, noise=noise, seed=seed)
    val = toy.make(data, n=1000, noise=noise, seed=seed + 1000)
    train_ds, val_ds = TensorDataset(train.x, train.y), TensorDataset(val.x, val.y)
    # the training set's figures too, in evaluation mode (dropout off): the trainer's own
    # train_loss averages the dropped-out batches
    curves = EvaluateEvery({"train": train_ds, "val": val_ds}, every, suffix="_eval")
    runs = {}
    for p in ps:
        torch.manual_seed(seed)
        model = DropoutMLP(2, (width, width), len(train.classes), p)
        cfg = TrainConfig(epochs=epochs, batch_size=batch_size, lr=3e-3, optimizer="adam", seed=seed, device="cpu",
                          track_grad_norms=False)
        trainer = Trainer(model, config=cfg, callbacks=[curves])
        t0 = time.perf_counter()
        result = trainer.fit(train_ds)
        last = result.history.epochs[-1]
        runs[p] = {"status": result.status, "message": result.message, "seconds": time.perf_counter() - t0,
                   "epochs": [e for e in result.history.epochs if "val_loss_eval" in e],
                   "train_loss": last["train_loss_eval"], "val_loss": last["val_loss_eval"],
                   "train_accuracy": last["train_accuracy_eval"], "val_accuracy": last["val_accuracy_eval"],
                   "gap": last["val_loss_eval"] - last["train_loss_eval"],
                   "accuracy_gap": last["train_accuracy_eval"] - last["val_accuracy_eval"]}
    return {"runs": runs, "n_train": n_train, "n_val": len(val.y), "noise": noise, "width": width, "data": data}
