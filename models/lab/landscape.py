"""The loss landscape around trained weights, the path that reached them, and where
several starts end.

A network's loss is a function of all its weights at once, so it can only be drawn as a
slice: loss(w* + α·d1 + β·d2) over a grid of (α, β) around the trained weights w*. Li,
Xu, Taylor, Studer & Goldstein (2018, "Visualizing the Loss Landscape of Neural Nets")
draw d1, d2 at random and *filter-normalise* them: each filter of d (a row of a weight
matrix: the weights into one unit) is rescaled to the norm of the same filter of w*, so
that α = 1 means "as far as the weights themselves" in every layer alike. Biases get no
direction (their `ignore='biasbn'` option). Two random directions in a space of hundreds
of weights are almost orthogonal to the training path, so the path is projected onto the
plane and mostly lies off it ("on_plane" says how much of it the plane holds); the PCA
directions of the path (their other choice) hold as much of it as two directions can.

Several starts (different initial weights, the same data and training) end at different
weights with similar losses: many minima, most equally good, as is usual for networks
with more weights than they need. The loss along the straight line between two of them
shows whether a ridge separates them.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call, vmap
from torch.nn.utils import parameters_to_vector, vector_to_parameters

from data.lab.toy import Points
from models.core.trainer import Callback
from models.lab.experiments import _build, _run

DIRECTIONS = ("random", "PCA of the path")


class WeightPath(Callback):
    """The flattened weights before training and after every step."""

    def __init__(self):
        self.path: list[torch.Tensor] = []

    def on_fit_start(self, t) -> None:
        self.path.append(parameters_to_vector(t.model.parameters()).detach().clone())

    def on_after_step(self, t) -> None:
        self.path.append(parameters_to_vector(t.model.parameters()).detach().clone())


def filter_normalised_direction(model: nn.Module, generator: torch.Generator) -> list[torch.Tensor]:
    """A random direction shaped like the model's parameters, each filter (row) of a weight
    matrix scaled to that filter's norm in the model; zero for biases (1-D parameters)."""
    out = []
    for p in model.parameters():
        d = torch.randn(p.shape, generator=generator, dtype=p.dtype)
        if p.dim() <= 1:
            d.zero_()
        else:
            w, dd = p.detach().flatten(1), d.flatten(1)
            dd.mul_(w.norm(dim=1, keepdim=True) / (dd.norm(dim=1, keepdim=True) + 1e-10))
        out.append(d)
    return out


def pca_directions(path: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, float]:
    """The two principal directions (unit vectors) of the path's offsets from its end, and
    the fraction of the offsets' squared length they hold."""
    offsets = path - path[-1]
    _, s, vt = torch.linalg.svd(offsets, full_matrices=False)
    held = float((s[:2] ** 2).sum() / (s ** 2).sum().clamp_min(1e-30))
    return vt[0], vt[1], held


def project(path: torch.Tensor, centre: torch.Tensor, d1: torch.Tensor, d2: torch.Tensor
            ) -> tuple[torch.Tensor, float]:
    """(α, β) per point: the least-squares fit of point − centre by α·d1 + β·d2, and the
    fraction of the offsets' squared length that the plane holds."""
    offsets = (path - centre).T.double()
    basis = torch.stack([d1, d2], 1).double()
    coords = torch.linalg.lstsq(basis, offsets).solution            # 2 × steps
    on_plane = (basis @ coords).pow(2).sum() / offsets.pow(2).sum().clamp_min(1e-30)
    return coords.T.float(), float(on_plane)


@torch.no_grad()
def loss_at(model: nn.Module, flat: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> float:
    vector_to_parameters(flat, model.parameters())
    return float(F.cross_entropy(model(x), y))


@torch.no_grad()
def loss_surface(model: nn.Module, centre: torch.Tensor, d1: torch.Tensor, d2: torch.Tensor,
                 x: torch.Tensor, y: torch.Tensor, alphas: torch.Tensor, betas: torch.Tensor) -> torch.Tensor:
    """loss(centre + α·d1 + β·d2) for every α (columns) and β (rows), all grid points in one
    batched forward pass (`torch.func.vmap` over the weights)."""
    names = [n for n, _ in model.named_parameters()]
    shapes = [p.shape for p in model.parameters()]
    sizes = [s.numel() for s in shapes]

    def loss(flat: torch.Tensor) -> torch.Tensor:
        params = {n: t.view(s) for n, t, s in zip(names, flat.split(sizes), shapes)}
        return F.cross_entropy(functional_call(model, params, (x,)), y)

    bb, aa = torch.meshgrid(betas, alphas, indexing="ij")
    weights = centre + aa.reshape(-1, 1) * d1 + bb.reshape(-1, 1) * d2
    return torch.cat([vmap(loss)(chunk) for chunk in weights.split(256)]).reshape(len(betas), len(alphas))


def _axis(coords: torch.Tensor, floor: float, points: int) -> torch.Tensor:
    """A symmetric axis through 0 (the trained weights) that covers the path, odd length."""
    reach = max(floor, 1.2 * float(coords.abs().max()))
    return torch.linspace(-reach, reach, points | 1)


def landscape(points: Points, directions: str = "random", starts: int = 3, hidden: Sequence[int] = (16, 16),
              activation: str = "tanh", steps: int = 300, lr: float = 0.1, grid: int = 31, seed: int = 0,
              callbacks: Sequence[Callback] = (), threads: int | None = None) -> dict:
    """Train `starts` networks that differ only in their initial weights (seeds seed, seed+1, …)
    and slice the loss landscape around the first one's trained weights.

    Returns {"alphas", "betas", "loss" (rows: β, columns: α), "path" [(α, β) per step],
    "centre_loss", "on_plane", "directions", "runs" {"start k": run}, "table" (final loss,
    val accuracy, distance of each start's weights from start 1's), "line" (loss along the
    straight line from start 1's weights to start 2's, at "line_t")}.
    """
    if directions not in DIRECTIONS:
        raise ValueError(f"unknown directions {directions!r}: use one of {list(DIRECTIONS)}")
    runs, finals, first = {}, [], None
    for k in range(starts):
        model = _build(points, list(hidden), activation, seed=seed + k)
        rec = WeightPath()
        # the same data split and order for every start: only the initial weights differ
        run = _run(model, points, steps=steps, lr=lr, seed=seed, callbacks=[rec, *callbacks], threads=threads)
        runs[f"start {k + 1}"] = run
        finals.append(parameters_to_vector(model.parameters()).detach().clone())
        if first is None:
            first = (model, torch.stack(rec.path))
        if run["status"] == "stopped":
            break
    model, path = first
    centre = finals[0]
    train = points.split(0.25, seed)[0]
    x, y = train.tensors
    if directions == "random":
        g = torch.Generator().manual_seed(seed + 1000)
        d1 = parameters_to_vector(filter_normalised_direction(model, g))
        d2 = parameters_to_vector(filter_normalised_direction(model, g))
        coords, on_plane = project(path, centre, d1, d2)
        floor = 1.0                      # Li et al.'s [-1, 1]: one weight-norm each way
    else:
        d1, d2, on_plane = pca_directions(path)
        coords, _ = project(path, centre, d1, d2)
        floor = 1e-3
    alphas, betas = _axis(coords[:, 0], floor, grid), _axis(coords[:, 1], floor, grid)
    surface = loss_surface(model, centre, d1, d2, x, y, alphas, betas)

    ts = torch.arange(-5, 26) / 20                    # t from -0.25 to 1.25, 0 and 1 exactly
    line = [loss_at(model, (1 - t) * centre + t * finals[1], x, y) for t in ts] if len(finals) > 1 else []
    vector_to_parameters(centre, model.parameters())
    table = {"start": list(runs),
             "final train loss": [r["final_loss"] for r in runs.values()],
             "val accuracy": [r["val_accuracy"] for r in runs.values()],
             "distance from start 1's weights": [float((f - centre).norm() / centre.norm()) for f in finals]}
    return {"alphas": alphas.tolist(), "betas": betas.tolist(), "loss": surface.numpy(),
            "path": coords.tolist(), "centre_loss": float(surface[len(betas) // 2, len(alphas) // 2]),
            "on_plane": on_plane, "directions": directions, "runs": runs, "table": table,
            "line": line, "line_t": ts.tolist(), "n_weights": int(centre.numel())}
