"""Callbacks: code that runs at the trainer's named events.

A callback overrides any of `on_<event>(trainer)` for the events in
models.trainer.EVENTS (fit_start, epoch_start, batch_start, after_forward,
after_loss, after_backward, after_step, batch_end, epoch_end, fit_end) and reads
or changes the trainer's state there, as fastai's callbacks do.
"""
from __future__ import annotations

import sys


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
                               f"(best {self.best:.4f}).")

    def on_fit_end(self, t) -> None:
        if self.best_state is not None and t.stop_reason.startswith("Early stopping"):
            t.model.load_state_dict(self.best_state)


class ProgressBar(Callback):
    """tqdm progress on the command line, on rank 0 only."""

    def on_epoch_start(self, t) -> None:
        from tqdm.auto import tqdm
        self.bar = tqdm(total=t.steps_per_epoch, desc=f"epoch {t.epoch + 1}/{t.cfg.epochs}", unit="batch",
                        disable=not t.is_main, leave=True, mininterval=1.0, file=sys.stderr)

    def on_batch_end(self, t) -> None:
        self.bar.update(1)
        if t.step % 10 == 0:
            self.bar.set_postfix(loss=f"{t.loss.item():.4f}")

    def on_epoch_end(self, t) -> None:
        e = t.history.epochs[-1]
        self.bar.set_postfix({k: f"{v:.4f}" for k, v in e.items() if k.startswith(("train_", "val_"))})
        self.bar.close()

    def on_fit_end(self, t) -> None:
        if hasattr(self, "bar"):
            self.bar.close()
