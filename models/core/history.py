"""What a training run leaves behind (a row per batch, a row per epoch), and how a
chart shows a long one."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class History:
    """What the apps plot: one row per batch and one per epoch."""
    batches: list[dict] = field(default_factory=list)
    epochs: list[dict] = field(default_factory=list)
    kept: int | None = None      # the epoch whose weights the model ends with (None: the last)

    def kept_epoch(self) -> dict:
        """The row that describes the weights the run ends with: early stopping puts back an earlier epoch's."""
        return self.epochs[-1 if self.kept is None else self.kept] if self.epochs else {}

    def to_dict(self) -> dict:
        return {"batches": self.batches, "epochs": self.epochs}


def chart_rows(rows: list[dict], keep: int = 400) -> list[dict]:
    """At most `keep` rows, evenly spaced, always with the first and the last: what a
    chart of a long run needs (the browser slows down on tens of thousands of points)."""
    if len(rows) <= keep:
        return list(rows)
    idx = np.unique(np.linspace(0, len(rows) - 1, keep).round().astype(int))
    return [rows[i] for i in idx]
