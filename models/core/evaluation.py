"""The one evaluation loop: the trainer's validation figures and the evaluation
commands' accuracy, confusion matrix and mistakes all come from `evaluate`."""
from __future__ import annotations

from typing import Callable, Sequence

import torch
import torch.distributed as dist
import torch.nn as nn
from torch.utils.data import Dataset

from models.core.batches import make_batches, to_device


def accuracy(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    # a tensor, not a float: the trainer reads metrics from the device a few batches at a time
    if target.dim() == 2:     # class probabilities (a teacher's, in distillation): the likeliest class
        target = target.argmax(dim=1)
    return (output.argmax(dim=1) == target).float().mean()


@torch.no_grad()
def evaluate(model: nn.Module, data: Dataset, *, loss_fn: Callable | None = None,
             metrics: dict[str, Callable] | None = None, batch_size: int = 512, collate_fn: Callable | None = None,
             device: str | torch.device = "cpu", keep_outputs: bool = False) -> dict:
    """Loss and metrics over a whole data set, averaged over its examples. Under torchrun each
    rank evaluates its share and the sums are added up, so that every rank reports the same
    figures. `keep_outputs` also returns every example's probabilities and target (one process)."""
    device = torch.device(device)
    model.eval()
    metrics = metrics or {}
    n, sums = 0, torch.zeros(1 + len(metrics), dtype=torch.float64, device=device)
    probs, targets = [], []
    for x, y in make_batches(data, batch_size, False, 0, collate_fn):
        x, y = to_device(x, device), to_device(y, device)
        out = model(*x) if isinstance(x, (tuple, list)) else model(x)
        b = len(y)
        values = [loss_fn(out, y) if loss_fn is not None else out.new_zeros(())]
        values += [torch.as_tensor(fn(out, y), device=device) for fn in metrics.values()]
        sums += torch.stack([v.detach().double() for v in values]) * b      # summed on the device: no wait per batch
        n += b
        if keep_outputs:
            probs.append(torch.softmax(out.float(), 1).cpu())
            targets.append(y.cpu())
    if dist.is_available() and dist.is_initialized() and not keep_outputs:
        total = torch.cat([sums, torch.tensor([float(n)], dtype=torch.float64, device=device)])
        dist.all_reduce(total)
        sums, n = total[:-1], int(total[-1].item())
    means = (sums / max(n, 1)).tolist()
    result = {"n": n, **dict(zip(metrics, means[1:]))}
    if loss_fn is not None:
        result["loss"] = means[0]
    if keep_outputs:
        result["probs"] = torch.cat(probs) if probs else torch.empty(0, 0)
        result["targets"] = torch.cat(targets) if targets else torch.empty(0, dtype=torch.long)
    return result


def evaluate_model(model: nn.Module, data: Dataset, labels: Sequence[str], collate_fn=None,
                   batch_size: int = 512, device: str | torch.device = "cpu", max_mistakes: int = 100) -> dict:
    """Accuracy, a confusion matrix and the most confident mistakes on a data set."""
    model = model.eval().to(device)
    out = evaluate(model, data, metrics={"accuracy": accuracy}, batch_size=batch_size, collate_fn=collate_fn,
                   device=device, keep_outputs=True)
    if not out["n"]:
        raise ValueError("nothing to evaluate on: the data set is empty")
    p, y = out["probs"], out["targets"]
    pred = p.argmax(1)
    wrong = (pred != y).nonzero().flatten()
    order = wrong[p[wrong, pred[wrong]].argsort(descending=True)]
    # without a fixed label set (the Typos task chooses among each word's own candidates)
    # a mistake is named by positions and there is no confusion matrix
    name = (lambda i: labels[i]) if labels else int
    result = {
        "accuracy": out["accuracy"],
        "n": out["n"],
        "errors": len(wrong),
        "mistakes": [{"index": int(i), "true": name(int(y[i])), "predicted": name(int(pred[i])),
                      "score": float(p[i, pred[i]])} for i in order[:max_mistakes]],
    }
    if labels:
        n = len(labels)
        confusion = torch.zeros(n, n, dtype=torch.long)
        confusion.index_put_((y, pred), torch.ones_like(y), accumulate=True)
        seen = confusion.sum(1)
        # a class the set holds no example of has no accuracy (FSDD's digits hold no "yes"): null, not 0
        per_class = [float(d) / int(k) if k else None for d, k in zip(confusion.diag(), seen)]
        result["confusion"] = confusion.tolist()
        result["per_class_accuracy"] = dict(zip(labels, per_class))
    return result
