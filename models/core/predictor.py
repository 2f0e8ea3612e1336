"""One way to use any trained model of the suite: a Predictor batches raw items through
a network and names its answers. Each task subclasses it (models/<task>/task.py);
models.core.registry's `load_predictor` builds the right one from a checkpoint."""
from __future__ import annotations

from typing import Any, Sequence

import torch
import torch.nn as nn


class Predictor:
    """Batches items through a model and turns scores into labelled probabilities.
    A task overrides `prepare` (one raw item -> one input tensor) and may override
    `collate` (a list of inputs -> one batch)."""

    batch_size = 256

    def __init__(self, model: nn.Module, card: dict):
        self.model = model.eval()
        self.card = card
        self.labels: list[str] = list(card["labels"])
        self.task: str = card["task"]

    def prepare(self, item: Any) -> torch.Tensor:
        raise NotImplementedError

    def collate(self, inputs: list[torch.Tensor]):
        return torch.stack(inputs)

    @torch.inference_mode()
    def probabilities(self, items: Sequence[Any]) -> torch.Tensor:
        inputs = [self.prepare(item) for item in items]
        out = []
        for i in range(0, len(inputs), self.batch_size):
            out.append(torch.softmax(self.model(self.collate(inputs[i:i + self.batch_size])).float(), dim=1))
        return torch.cat(out) if out else torch.empty(0, len(self.labels))

    def predict(self, items: Sequence[Any], k: int = 3) -> list[dict]:
        if not isinstance(items, (list, tuple)):
            raise TypeError("predict takes a list of items; wrap a single item as [item]")
        probs = self.probabilities(items)
        k = min(k, len(self.labels))
        top_p, top_i = probs.topk(k, dim=1)
        results = []
        for ps, idx in zip(top_p.tolist(), top_i.tolist()):
            top = [(self.labels[i], p) for i, p in zip(idx, ps)]
            results.append({"label": top[0][0], "score": top[0][1], "top": top})
        return results

