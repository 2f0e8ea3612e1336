"""RNN vs LSTM vs GRU on the same sentences: backprop through time made visible.

Each cell is trained by the common trainer (models.core.tasks.train_model) as a small
one-way network that classifies from its final state, so that the error signal
must travel back through every time step to reach the first words. After
training, autograd gives the gradient of the loss with respect to each time
step's input on a batch of equally long sentences: for a plain RNN it shrinks
step by step going back in time (vanishing gradients); the gates of an LSTM or
GRU keep it alive. Runs with and without gradient clipping show what clipping
does to the norm of each update.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
from torch.utils.data import TensorDataset

from models.core.tasks import Splits, train_model
from models.core.trainer import TrainConfig

CELLS = ("rnn", "lstm", "gru")
SMALL = dict(hidden=48, layers=1, bidirectional=False, pool="last", dropout=0.1, freeze_words=True, piece_dim=32)


@dataclass
class CellRun:
    cell: str
    clip: float | None
    history: list[dict]          # the trainer's batch rows (loss, grad_norm, ...)
    epochs: list[dict]
    val_accuracy: float
    step_grads: list[float]      # ‖∂loss/∂x_t‖ for t = 1..T, mean over the batch
    seconds: float


def subset(data: TensorDataset, n: int, seed: int = 0, among: int | None = None) -> TensorDataset:
    """n rows drawn at random from the first `among` (all by default)."""
    g = torch.Generator().manual_seed(seed)
    idx = torch.randperm(min(among or len(data), len(data)), generator=g)[:n]
    return TensorDataset(*(t[idx] for t in data.tensors))


def long_batch(data: TensorDataset, steps: int, n: int = 64) -> tuple[torch.Tensor, ...] | None:
    """Up to n sentences of at least `steps` tokens, cut to exactly `steps` (so that
    every row has a first time step `steps` steps before its last)."""
    ids, pieces, lex, lengths, y = data.tensors
    keep = (lengths >= steps).nonzero().flatten()[:n]
    if len(keep) == 0:
        return None
    return (ids[keep, :steps], pieces[keep, :steps], lex[keep, :steps],
            torch.full((len(keep),), steps, dtype=torch.long), y[keep])


def step_gradients(model: nn.Module, batch: tuple[torch.Tensor, ...]) -> list[float]:
    """‖∂loss/∂x_t‖ for each time step t of the batch's inputs, averaged over its rows."""
    ids, pieces, lex, lengths, y = batch
    model.eval()     # no dropout: the same network the predictions come from
    with torch.enable_grad():
        x = model.embed(ids, pieces, lex).detach().requires_grad_(True)
        loss = nn.functional.cross_entropy(model.classify(x, lengths), y)
        (grad,) = torch.autograd.grad(loss, x)
    return grad.norm(dim=-1).mean(0).tolist()


def compare(task, splits: Splits, cells=CELLS, clips=(1.0, None), n_train: int = 2000, epochs: int = 3,
            steps: int = 30, lr: float = 3e-3, seed: int = 0, callbacks=(), on_run=None) -> list[CellRun]:
    """Train each cell (with and without clipping) on the same subset; return each run's
    curves, validation accuracy and the gradient reaching each earlier time step."""
    # real sentences only: the lexicon's short made-up ones (after them) say little about time
    train = subset(splits.train, n_train, seed, splits.provenance.get("train_sentences"))
    val = subset(splits.val, 500, seed) if splits.val is not None else None
    batch = long_batch(splits.val if splits.val is not None else splits.train, steps) or long_batch(train, steps)
    runs = []
    for cell in cells:
        for clip in clips:
            cfg = TrainConfig(epochs=epochs, batch_size=64, lr=lr, optimizer="adam", schedule="constant",
                              clip_grad_norm=clip, seed=seed, track_grad_norms=False)
            small = _SmallTask(task, cell)
            run = train_model(small, Splits(train, val, None, splits.labels, splits.provenance), cfg,
                              callbacks=callbacks, augment=False, test_eval=False)
            grads = step_gradients(run.model, batch) if batch is not None else []
            last = run.trainer.history.epochs[-1] if run.trainer.history.epochs else {}
            runs.append(CellRun(cell, clip, run.trainer.history.batches, run.trainer.history.epochs,
                                last.get("val_accuracy", float("nan")), grads, run.result.seconds))
            if on_run is not None:
                on_run(runs[-1])
    return runs


class _SmallTask:
    """The sentiment task with a small one-way network of one cell type."""

    def __init__(self, task, cell: str):
        self.task, self.cell = task, cell
        self.name, self.collate_fn = task.name, None

    def build_model(self, labels):
        return self.task.build_model(labels, cell=self.cell, **SMALL)

    def loss_fn(self):
        return nn.CrossEntropyLoss()

    def batch_transform(self, augment, splits=None):
        return None

    def arch(self, model):
        return self.task.arch(model)

    def preprocessing(self):
        return self.task.preprocessing()
