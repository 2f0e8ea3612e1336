"""Callbacks: code that runs at the trainer's named events, and how a run ends.

A callback overrides any of `on_<event>(trainer)` for the events in
models.core.trainer.EVENTS (fit_start, epoch_start, batch_start, after_forward,
after_loss, after_backward, after_step, batch_end, epoch_end, fit_end) and reads
or changes the trainer's state there, as fastai's callbacks do. To end a run it
calls `trainer.request_stop(message, status)`: the status, not the wording of the
message, says why the run ended.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    """How a run ended. A StrEnum: it compares equal to, and writes to JSON as, its value."""
    COMPLETED = "completed"
    STOPPED = "stopped"              # a Stop button, Ctrl-C or a callback's request
    EARLY_STOPPED = "early_stopped"  # the validation loss stopped improving
    BATCH_LIMIT = "batch_limit"      # max_batches reached
    DIVERGED = "diverged"            # a non-finite loss or gradient


@dataclass
class StopRequest:
    status: Status
    message: str


class Callback:
    """Override any of `on_<event>(trainer)`."""


class EarlyStopping(Callback):
    """Stops when the validation loss has not improved for `patience` epochs and
    puts back the best weights seen."""

    def __init__(self, patience: int, monitor: str = "val_loss"):
        self.patience, self.monitor = patience, monitor
        self.best, self.best_state, self.bad = float("inf"), None, 0

    def on_epoch_end(self, t) -> None:
        value = t.history.epochs[-1].get(self.monitor)
        if value is None:
            return
        if value < self.best - 1e-6:
            self.best, self.bad = value, 0
            self.best_state = {k: v.detach().clone() for k, v in t.model.state_dict().items()}
        else:
            self.bad += 1
            if self.bad >= self.patience:
                t.request_stop(f"Early stopping: {self.monitor} has not improved for {self.patience} epochs "
                               f"(best {self.best:.4f}).", Status.EARLY_STOPPED)

    def on_fit_end(self, t) -> None:
        if self.best_state is not None and t.stop is not None and t.stop.status == Status.EARLY_STOPPED:
            t.model.load_state_dict(self.best_state)


class ProgressBar(Callback):
    """tqdm progress on the command line, on rank 0 only."""

    def on_epoch_start(self, t) -> None:
        from tqdm.auto import tqdm
        self.bar = tqdm(total=t.steps_per_epoch, desc=f"epoch {t.epoch + 1}/{t.cfg.epochs}", unit="batch",
                        disable=not t.is_main, leave=True, mininterval=1.0, file=sys.stderr)
        self.shown = len(t.history.batches)

    def on_batch_end(self, t) -> None:
        self.bar.update(1)
        if len(t.history.batches) > self.shown:      # rows arrive a few batches at a time
            self.shown = len(t.history.batches)
            self.bar.set_postfix(loss=f"{t.history.batches[-1]['loss']:.4f}")

    def on_epoch_end(self, t) -> None:
        e = t.history.epochs[-1]
        self.bar.set_postfix({k: f"{v:.4f}" for k, v in e.items() if k.startswith(("train_", "val_"))})
        self.bar.close()

    def on_fit_end(self, t) -> None:
        if hasattr(self, "bar"):
            self.bar.close()
