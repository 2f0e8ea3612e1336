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

import torch


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
        self.best, self.best_state, self.bad, self.best_epoch = float("inf"), None, 0, None

    def on_epoch_end(self, t) -> None:
        value = t.history.epochs[-1].get(self.monitor)
        if value is None:
            return
        if value < self.best - 1e-6:
            self.best, self.bad, self.best_epoch = value, 0, len(t.history.epochs) - 1
            self.best_state = {k: v.detach().clone() for k, v in t.model.state_dict().items()}
        else:
            self.bad += 1
            if self.bad >= self.patience:
                t.request_stop(f"Early stopping: {self.monitor} has not improved for {self.patience} epochs "
                               f"(best {self.best:.4f}).", Status.EARLY_STOPPED)

    def on_fit_end(self, t) -> None:
        if self.best_state is not None and t.stop is not None and t.stop.status == Status.EARLY_STOPPED:
            t.model.load_state_dict(self.best_state)
            t.history.kept = self.best_epoch


class WeightAverage(Callback):
    """An exponential moving average of the weights, updated after every step (Polyak averaging):
    the average sits nearer the middle of the valley the last steps wander around, so it usually
    generalises a little better, at no cost at inference. At each epoch's end the average is swapped
    in and the validation figures are measured again on it, so early stopping and the history judge
    the averaged model; the training weights come back at the next epoch's start, and the average
    is left in the model when the run ends. Buffers (BatchNorm's running statistics) are not
    averaged: the live model's go with the averaged weights.

    The decay warms up as TensorFlow's ExponentialMovingAverage does, min(decay, (1+n)/(10+n)) at
    update n, so the first steps' random weights do not linger in a short run."""

    def __init__(self, decay: float = 0.999):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"weight average decay must be between 0 and 1, not {decay}")
        self.decay, self.updates = decay, 0
        self.shadow: list[torch.Tensor] | None = None
        self.live: list[torch.Tensor] | None = None    # the training weights while the average is in

    @staticmethod
    def _params(t) -> list[torch.Tensor]:
        return [p.detach() for p in t.model.parameters()]

    def _swap_in(self, t) -> None:
        if self.live is None and self.shadow is not None:
            with torch.no_grad():
                self.live = [p.clone() for p in self._params(t)]
                torch._foreach_copy_(self._params(t), self.shadow)

    def _swap_out(self, t) -> None:
        if self.live is not None:
            with torch.no_grad():
                torch._foreach_copy_(self._params(t), self.live)
            self.live = None

    def on_fit_start(self, t) -> None:
        self._swap_out(t)            # a second fit goes on from the training weights
        if self.shadow is None:
            self.shadow = [p.clone() for p in self._params(t)]

    def on_after_step(self, t) -> None:
        d = min(self.decay, (1 + self.updates) / (10 + self.updates))
        self.updates += 1
        with torch.no_grad():
            torch._foreach_lerp_(self.shadow, self._params(t), 1.0 - d)

    def on_epoch_start(self, t) -> None:
        self._swap_out(t)

    def on_epoch_end(self, t) -> None:
        self._swap_in(t)
        if getattr(t, "val", None) is not None:
            t.history.epochs[-1].update({"val_" + k: v for k, v in t.evaluate(t.val).items()})

    def on_fit_end(self, t) -> None:
        if t.stop is None or t.stop.status != Status.DIVERGED:   # after a divergence the average may hold NaNs
            self._swap_in(t)


class AdversarialLoss(Callback):
    """Adversarial training (Goodfellow et al. 2015; Miyato et al. 2017 for text). At the loss step,
    backprop is asked one more thing: the gradient of the loss with respect to `module`'s output (the
    token vectors), which says how to move the input a little so as to raise the loss most. The loss
    at the input moved that way, by `eps` in L2 norm over each example, is added to what the backward
    pass differentiates: the network learns to keep its answer when a word's meaning shifts slightly.
    The reported loss stays the clean one, comparable with the validation loss. About one more forward
    and two more backward passes through the network per batch."""

    def __init__(self, module: torch.nn.Module, eps: float = 1.0):
        if not eps > 0:
            raise ValueError(f"the adversarial step must be positive, not {eps}")
        self.module, self.eps = module, eps
        self.output = self.delta = self.handle = None

    @classmethod
    def of(cls, model: torch.nn.Module, eps: float) -> "AdversarialLoss":
        """On the model's token vectors: the output of its `embed` module."""
        module = getattr(model, "embed", None)
        if not isinstance(module, torch.nn.Module):
            raise ValueError(f"adversarial training moves a model's token vectors, and {type(model).__name__} "
                             "has no `embed` module to take them from: leave it off for this task")
        return cls(module, eps)

    def _hook(self, module, inputs, output):
        if self.delta is not None:
            return output + self.delta
        if module.training and torch.is_grad_enabled():
            self.output = output            # the tensor the input gradient is taken with respect to
        return None

    def on_fit_start(self, t) -> None:
        if self.handle is None:
            self.handle = self.module.register_forward_hook(self._hook)

    def on_after_loss(self, t) -> None:
        x, self.output = self.output, None
        if x is None or not x.requires_grad:
            return
        (g,) = torch.autograd.grad(t.loss, x, retain_graph=True)
        norm = g.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, *[1] * (g.dim() - 1))
        self.delta = (self.eps * g / norm).detach()
        try:
            t.objective = t.objective + t.loss_fn(t.forward(t.x), t.y)
        finally:
            self.delta = self.output = None

    def on_fit_end(self, t) -> None:
        if self.handle is not None:
            self.handle.remove()
            self.handle = None


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
