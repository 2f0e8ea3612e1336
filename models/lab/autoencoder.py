"""Backprop without labels: an autoencoder learns to reproduce MNIST digits through
a two-number bottleneck, for the Lab's claim "backprop also trains unsupervised models".

The target is the input itself, so the trainer's (x, y) pairs are (image, image) and
the loss is binary cross-entropy per pixel; the labels are never shown to the network.
They are used once training is over, to colour the 2-D codes and to measure how well
the codes group the digits: the accuracy of a k-nearest-neighbour vote among the
codes (each code's k nearest other codes, their labels), against chance (the largest
class's share) and against PCA's best linear 2-D projection of the same images.
"""
from __future__ import annotations

import time
from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import TensorDataset

from models.core.callbacks import Callback
from models.core.trainer import TrainConfig, Trainer
from models.lab.learning_curve import mnist

SHOWN = 10          # test digits whose reconstructions are kept as training goes
K = 10              # neighbours in the k-NN vote


class AutoEncoder(nn.Module):
    """784 -> 256 -> 64 -> code -> 64 -> 256 -> 784, pixel probabilities out."""

    def __init__(self, code: int = 2, hidden: Sequence[int] = (256, 64)):
        super().__init__()
        enc, width = [], 784
        for w in hidden:
            enc += [nn.Linear(width, w), nn.ReLU()]
            width = w
        self.encoder = nn.Sequential(*enc, nn.Linear(width, code))
        dec, width = [], code
        for w in reversed(hidden):
            dec += [nn.Linear(width, w), nn.ReLU()]
            width = w
        self.decoder = nn.Sequential(*dec, nn.Linear(width, 784))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x.flatten(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encode(x))          # logits; sigmoid gives the pixels


def pixel_bce(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy per pixel, averaged: MNIST's pixels are nearly black or white."""
    return F.binary_cross_entropy_with_logits(logits, target.flatten(1))


class Snapshots(Callback):
    """The reconstructions of a fixed set of digits before training and after each epoch."""

    def __init__(self, x: torch.Tensor):
        self.x, self.frames = x, []

    def _take(self, t) -> None:
        was = t.model.training
        t.model.eval()
        with torch.no_grad():
            self.frames.append({"epoch": t.epoch, "images": torch.sigmoid(t.model(self.x)).view(-1, 28, 28).numpy()})
        t.model.train(was)

    def on_fit_start(self, t) -> None:
        self._take(t)

    def on_epoch_end(self, t) -> None:
        self._take(t)


def knn_accuracy(codes: torch.Tensor, labels: torch.Tensor, k: int = K) -> float:
    """Leave-one-out k-NN: how often the k nearest other codes' majority label is the
    code's own. High when the digits form groups in the code space."""
    d = torch.cdist(codes, codes)
    d.fill_diagonal_(float("inf"))
    near = labels[d.topk(k, largest=False).indices]
    vote = torch.stack([torch.bincount(row, minlength=10) for row in near]).argmax(1)
    return float((vote == labels).float().mean())


def pca_codes(x: torch.Tensor, dims: int = 2) -> torch.Tensor:
    x = x.flatten(1)
    x = x - x.mean(0)
    _, _, v = torch.linalg.svd(x, full_matrices=False)
    return x @ v[:dims].T


def train(epochs: int = 3, n_train: int = 10000, n_codes: int = 2000, code: int = 2, seed: int = 0,
          root: str | None = None, callbacks: Sequence[Callback] = ()) -> dict:
    """Train on the first n_train training images (images only), then encode the first
    n_codes test images. Returns the per-epoch losses, the reconstruction snapshots
    ({"epoch", "images": SHOWN×28×28 in [0, 1]}), the originals, the codes with their
    labels, and k-NN accuracies: codes, pixels, PCA's 2-D projection, chance."""
    pool, test = mnist(root)
    x = pool.tensors[0][:n_train]
    xt, yt = test.tensors[0][:n_codes], test.tensors[1][:n_codes]
    shown = torch.stack([xt[(yt == d).nonzero()[0, 0]] for d in range(SHOWN)])   # one of each digit
    torch.manual_seed(seed)
    model = AutoEncoder(code)
    snaps = Snapshots(shown)
    cfg = TrainConfig(epochs=epochs, batch_size=64, lr=5e-3, optimizer="adam", seed=seed, device="cpu",
                      track_grad_norms=False)
    trainer = Trainer(model, loss_fn=pixel_bce, metrics={}, config=cfg, callbacks=[snaps, *callbacks])
    t0 = time.perf_counter()
    result = trainer.fit(TensorDataset(x, x), val=TensorDataset(xt, xt))
    model.eval()
    with torch.no_grad():
        codes = model.encode(xt)
    chance = float(torch.bincount(yt, minlength=10).max()) / len(yt)
    return {"status": result.status, "message": result.message, "seconds": time.perf_counter() - t0,
            "epochs": result.history.epochs, "frames": snaps.frames, "originals": shown.view(-1, 28, 28).numpy(),
            "codes": codes.numpy(), "labels": yt.numpy(), "n_train": len(x),
            "knn": knn_accuracy(codes, yt), "knn_pca": knn_accuracy(pca_codes(xt), yt),
            "chance": chance, "k": K}
