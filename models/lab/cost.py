"""What the whole gradient costs: backprop against finite differences and forward mode,
and the memory backprop keeps for its backward pass.

Time. Backprop (reverse mode) gets every ∂loss/∂w from one forward and one backward
pass, whatever the number of weights n. Finite differences need one extra forward pass
per weight, (loss(w + ε·e_i) − loss(w)) / ε, and forward-mode differentiation
(`torch.func.jvp`) one forward pass, carrying a tangent, per weight. So their cost
grows as n × a forward pass, which itself grows with n. Over hundreds of thousands of
weights that takes minutes, so they are timed on a random sample of k weights and
scaled by n / k; each row says which figures were measured and which scaled. The three
gradients are compared on the sampled weights. Double precision, so that the finite
differences are accurate to about 1e-6.

Memory. Backprop keeps what each layer saved for its backward pass until that pass
reaches it. `saved_for_backward` adds up those tensors as autograd packs them
(`torch.autograd.graph.saved_tensors_hooks`), each storage once, the weights left out:
a deterministic count of "memory kept for the backward pass", where a CPU has no
peak-memory counter. Activation checkpointing (`torch.utils.checkpoint`) keeps only each
block's input and recomputes the rest during the backward pass: less memory, about one
more forward pass of time.
"""
from __future__ import annotations

import math
import time
from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call, jvp
from torch.utils.checkpoint import checkpoint

from data.lab.toy import make

EPS = 1e-6                # finite-difference step, in double precision
SIZES = (30, 300, 3_000, 30_000, 100_000, 300_000)   # target weight counts


# ---- time: three ways to the whole gradient ------------------------------------------

def width_for(n_weights: int) -> int:
    """The hidden width w of a 2-w-w-2 MLP with about n_weights weights (w² + 6w + 2)."""
    return max(1, round(-3 + math.sqrt(7 + n_weights)))


def _mlp(width: int, seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, width), nn.Tanh(), nn.Linear(width, width), nn.Tanh(),
                         nn.Linear(width, 2)).double()


def _median(xs: Sequence[float]) -> float:
    return float(torch.tensor(xs, dtype=torch.float64).median())


def _typical(fn, repeats: int) -> float:
    """Median seconds of `repeats` calls: on a shared machine a busy moment spoils one call, not the figure."""
    secs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        secs.append(time.perf_counter() - t0)
    return _median(secs)


def gradient_three_ways(model: nn.Module, x: torch.Tensor, y: torch.Tensor, k: int, seed: int = 0,
                        repeats: int = 3) -> dict:
    """One network's gradient by backprop, finite differences and jvp.

    Backprop is timed whole (the median of `repeats` runs); finite differences and jvp one
    weight at a time on k weights drawn at random (all of them when there are no more than
    k): their total when every weight was timed, else their median seconds per weight × n.
    Returns seconds per method, "sampled", "n", the gradients on the sampled weights
    and each method's largest difference from backprop relative to the gradient's size.
    """
    params = dict(model.named_parameters())
    names, shapes = list(params), [p.shape for p in params.values()]
    sizes = [p.numel() for p in params.values()]
    n = sum(sizes)
    loss_of = lambda: F.cross_entropy(model(x), y)   # noqa: E731

    def backprop():
        model.zero_grad(set_to_none=True)
        loss_of().backward()

    backprop()                                                # warm-up: the first call allocates
    t_bp = _typical(backprop, repeats)
    g_bp = torch.cat([p.grad.flatten() for p in params.values()])

    g = torch.Generator().manual_seed(seed)
    picks = torch.arange(n) if n <= k else torch.randperm(n, generator=g)[:k].sort().values
    offsets = torch.tensor([0, *sizes]).cumsum(0)
    where = [(int(torch.searchsorted(offsets, i, right=True)) - 1, int(i)) for i in picks]
    where = [(t, i - int(offsets[t])) for t, i in where]       # (tensor index, index inside it)

    flat = [p.detach().view(-1) for p in params.values()]
    fd_secs, g_fd = [], []
    with torch.no_grad():
        base = loss_of()
        for t, i in where:                                    # one extra forward pass per weight
            t0 = time.perf_counter()
            old = flat[t][i].item()
            flat[t][i] = old + EPS
            g_fd.append((loss_of() - base).item() / EPS)
            flat[t][i] = old
            fd_secs.append(time.perf_counter() - t0)

    primals = tuple(p.detach() for p in params.values())
    tangents = tuple(torch.zeros_like(p) for p in primals)

    def loss_at(*ps):
        return F.cross_entropy(functional_call(model, dict(zip(names, ps)), (x,)), y)

    jvp(loss_at, primals, tangents)                           # warm-up: torch.func's first call is slow
    jvp_secs, g_jvp = [], []
    for t, i in where:                                        # one forward pass, with a tangent, per weight
        t0 = time.perf_counter()
        tangents[t].view(-1)[i] = 1.0
        g_jvp.append(jvp(loss_at, primals, tangents)[1].item())
        tangents[t].view(-1)[i] = 0.0
        jvp_secs.append(time.perf_counter() - t0)

    m = len(where)
    # every weight timed: the measured total; a sample: its median per weight, times n
    whole = (lambda secs: sum(secs)) if m == n else (lambda secs: _median(secs) * n)   # noqa: E731
    bp = g_bp[picks]
    scale = float(bp.abs().max()) or 1.0
    fd, fw = torch.tensor(g_fd, dtype=bp.dtype), torch.tensor(g_jvp, dtype=bp.dtype)
    return {"n": n, "sampled": m, "shapes": [tuple(s) for s in shapes],
            "backprop": t_bp, "finite differences": whole(fd_secs), "forward mode (jvp)": whole(jvp_secs),
            "measured": {"finite differences": sum(fd_secs), "forward mode (jvp)": sum(jvp_secs)},
            "grad_backprop": bp.tolist(), "grad_fd": fd.tolist(), "grad_jvp": fw.tolist(),
            "fd_error": float((fd - bp).abs().max()) / scale, "jvp_error": float((fw - bp).abs().max()) / scale}


def gradient_cost(sizes: Sequence[int] = SIZES, k: int = 30, batch: int = 64, seed: int = 0,
                  repeats: int = 5) -> dict:
    """`gradient_three_ways` for 2-w-w-2 tanh MLPs of about each size, on a batch of moons.

    {"rows": [one per network, smallest first], "k", "batch"}. Each row: "n", "width",
    "sampled" (weights timed for FD and jvp; n when all were), seconds per method,
    "scaled" (True when FD and jvp were scaled from the sample) and the errors.
    """
    pts = make("moons", n=batch, noise=0.1, seed=seed)
    x, y = pts.x.double(), pts.y
    rows = []
    for target in sizes:
        w = width_for(target)
        out = gradient_three_ways(_mlp(w, seed), x, y, k, seed, repeats)
        out.update(width=w, scaled=out["sampled"] < out["n"])
        rows.append(out)
    return {"rows": rows, "k": k, "batch": batch}


# ---- memory: what backprop keeps, with and without checkpointing ------------------------

class Block(nn.Module):
    """A transformer-style MLP block with a skip: x + W2·gelu(W1·x), 4× wider inside.
    Its backward pass needs x, W1·x and gelu(W1·x): nine widths of memory per example."""

    def __init__(self, width: int):
        super().__init__()
        self.up, self.down = nn.Linear(width, 4 * width), nn.Linear(4 * width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.down(F.gelu(self.up(x)))


class DeepNet(nn.Module):
    def __init__(self, depth: int, width: int = 128, seed: int = 0):
        super().__init__()
        torch.manual_seed(seed)
        self.blocks = nn.ModuleList(Block(width) for _ in range(depth))
        self.head = nn.Linear(width, 1)

    def forward(self, x: torch.Tensor, checkpointed: bool = False) -> torch.Tensor:
        for block in self.blocks:
            # non-reentrant: keeps the block's input, drops what is inside, recomputes it when needed
            x = checkpoint(block, x, use_reentrant=False) if checkpointed else block(x)
        return self.head(x)


def saved_for_backward(model: DeepNet, x: torch.Tensor, checkpointed: bool) -> tuple[int, torch.Tensor]:
    """(bytes of activations saved for the backward pass, the loss), weights not counted:
    they are kept anyway. Each storage is counted once (a view shares its tensor's)."""
    weights = {p.untyped_storage().data_ptr() for p in model.parameters()}
    kept: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        s = t.untyped_storage()
        if s.data_ptr() not in weights:
            kept[s.data_ptr()] = s.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss = model(x, checkpointed).pow(2).mean()
    return sum(kept.values()), loss


def _step_seconds(model: DeepNet, x: torch.Tensor, checkpointed: bool, repeats: int) -> float:
    def step():
        model.zero_grad(set_to_none=True)
        model(x, checkpointed).pow(2).mean().backward()
    step()                                             # warm-up
    return _typical(step, repeats)


def memory_kept(depths: Sequence[int] = (1, 2, 4, 8, 16, 32), batches: Sequence[int] = (16, 32, 64, 128, 256, 512),
                depth: int = 16, batch: int = 128, width: int = 128, repeats: int = 3, seed: int = 0) -> dict:
    """Bytes kept for the backward pass, plain and checkpointed per block: against depth (at
    `batch` examples) and against batch size (at `depth` blocks); and the seconds of one
    forward + backward pass both ways at `depth` and `batch`.
    {"depths", "batches", "by_depth" and "by_batch": {"plain": [bytes], "checkpointed": [bytes]},
     "depth", "batch", "width", "seconds": {"plain", "checkpointed"},
     "grads_equal": both ways give the same gradient}"""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(max(*batches, batch), width, generator=g)

    def both(model: DeepNet, b: int) -> tuple[int, int]:
        xb = x[:b].clone()             # a storage of its own: a view would count all of x's
        return saved_for_backward(model, xb, False)[0], saved_for_backward(model, xb, True)[0]

    by_depth = [both(DeepNet(d, width, seed), batch) for d in depths]
    model = DeepNet(depth, width, seed)
    by_batch = [both(model, b) for b in batches]
    xb = x[:batch].clone()
    seconds = {"plain": _step_seconds(model, xb, False, repeats)}
    g_plain = [p.grad.clone() for p in model.parameters()]
    seconds["checkpointed"] = _step_seconds(model, xb, True, repeats)
    same = all(torch.allclose(a, p.grad, rtol=1e-4, atol=1e-6) for a, p in zip(g_plain, model.parameters()))
    split = lambda pairs: {"plain": [a for a, _ in pairs], "checkpointed": [b for _, b in pairs]}  # noqa: E731
    return {"depths": list(depths), "batches": list(batches), "by_depth": split(by_depth),
            "by_batch": split(by_batch), "depth": depth, "batch": batch, "width": width,
            "seconds": seconds, "grads_equal": same}
