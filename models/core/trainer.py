"""The one training loop of the suite.

Every app, the Backprop Lab and the command line train through `Trainer.fit`.
Each batch goes through the four steps of backprop, named as the Lab teaches
them, with callback events around them (fastai style):

    batch_start
    1. forward   -> after_forward
    2. loss      -> after_loss        (a non-finite loss stops the run here)
    3. backward  -> after_backward    (per-layer gradient norms, clipping)
    4. step      -> after_step
    batch_end

and epoch_start / epoch_end / fit_start / fit_end around the batches.
"""
from __future__ import annotations

import math
import random
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn
from torch.utils.data import DataLoader, Dataset

from models.batches import make_batches, to_device
from models.callbacks import Callback, EarlyStopping, ProgressBar  # noqa: F401  (re-exported)

EVENTS = (
    "fit_start", "epoch_start", "batch_start", "after_forward", "after_loss",
    "after_backward", "after_step", "batch_end", "epoch_end", "fit_end",
)


@dataclass
class TrainConfig:
    epochs: int = 5
    batch_size: int = 64
    lr: float = 1e-3
    optimizer: str = "adam"          # "adam" | "sgd"
    momentum: float = 0.9            # SGD only
    weight_decay: float = 0.0
    schedule: str = "constant"       # "constant" | "step" | "cosine" | "onecycle"
    step_every: int = 0              # "step" schedule: epochs between lr halvings (0: a third of the run)
    clip_grad_norm: float | None = None
    early_stopping: int = 0          # patience in epochs on the validation loss; 0 = off
    seed: int = 0
    device: str = "auto"             # "auto" picks CUDA when present
    threads: int | None = None       # torch.set_num_threads, when given
    max_batches: int | None = None   # stop after this many batches in all (smoke runs, the Lab)
    track_grad_norms: bool = True

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in d.items() if k in known})


@dataclass
class History:
    """What the apps plot: one row per batch and one per epoch."""
    batches: list[dict] = field(default_factory=list)
    epochs: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"batches": self.batches, "epochs": self.epochs}


def thin(rows: list[dict], keep: int = 400) -> list[dict]:
    """At most `keep` rows, evenly spaced, always with the first and the last: what a
    chart of a long run needs (the browser slows down on tens of thousands of points)."""
    if len(rows) <= keep:
        return list(rows)
    idx = np.unique(np.linspace(0, len(rows) - 1, keep).round().astype(int))
    return [rows[i] for i in idx]


@dataclass
class FitResult:
    status: str                      # "completed" | "stopped" | "early_stopped" | "diverged"
    message: str
    history: History
    epochs_done: int
    seconds: float

    @property
    def ok(self) -> bool:
        return self.status != "diverged"


def accuracy(output: torch.Tensor, target: torch.Tensor) -> float:
    return (output.argmax(dim=1) == target).float().mean().item()


def pick_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def layer_of(param_name: str) -> str:
    # "features.0.weight" -> "features.0": weight and bias belong to one layer
    return param_name.rsplit(".", 1)[0] if "." in param_name else param_name


def make_optimizer(params, cfg: TrainConfig) -> torch.optim.Optimizer:
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adam":
        # AdamW: weight decay that does not fight Adam's per-weight scaling
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    raise ValueError(f"unknown optimizer {cfg.optimizer!r}: use 'sgd' or 'adam'")


def make_schedule(opt: torch.optim.Optimizer, cfg: TrainConfig, steps_per_epoch: int):
    """A per-batch learning-rate schedule, or None for a constant rate."""
    total = max(1, cfg.epochs * steps_per_epoch)
    if cfg.max_batches:
        total = min(total, cfg.max_batches)
    if cfg.schedule == "constant":
        return None
    if cfg.schedule == "step":
        every = (cfg.step_every or max(1, cfg.epochs // 3)) * steps_per_epoch
        return torch.optim.lr_scheduler.StepLR(opt, step_size=max(1, every), gamma=0.5)
    if cfg.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total)
    if cfg.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=total)
    raise ValueError(f"unknown schedule {cfg.schedule!r}: use constant, step, cosine or onecycle")


class Trainer:
    def __init__(self, model: nn.Module, loss_fn: Callable | None = None, config: TrainConfig | None = None,
                 metrics: dict[str, Callable] | None = None, callbacks: list[Callback] | None = None,
                 batch_transform: Callable | None = None, collate_fn: Callable | None = None,
                 optimizer: torch.optim.Optimizer | None = None):
        self.cfg = config or TrainConfig()
        if self.cfg.threads:
            torch.set_num_threads(self.cfg.threads)
        self.device = pick_device(self.cfg.device)
        self.model = model.to(self.device)
        self.loss_fn = loss_fn or nn.CrossEntropyLoss()
        self.metrics = {"accuracy": accuracy} if metrics is None else metrics
        self.callbacks = list(callbacks or [])
        if self.cfg.early_stopping:
            self.callbacks.append(EarlyStopping(self.cfg.early_stopping))
        self.batch_transform = batch_transform   # training-time augmentation, on the device
        self.collate_fn = collate_fn
        self.net = model                          # what the forward pass calls; DDP wraps it
        if dist.is_available() and dist.is_initialized():
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.net = nn.parallel.DistributedDataParallel(self.model, device_ids=ids)
        self.optimizer = optimizer or make_optimizer(self.model.parameters(), self.cfg)
        self.scheduler = None
        self.history = History()
        self.epoch = 0            # epochs completed
        self.step = 0             # optimizer steps taken
        self.batch_index = 0
        self.steps_per_epoch = self.total_steps = 0
        self.stop_requested = False
        self.stop_reason = ""
        self._diverged_flag = False
        self._t0 = time.perf_counter()
        self.grad_norm = 0.0
        self.grad_norms: dict[str, float] = {}
        self.x = self.y = self.output = self.loss = None
        self._last_good = [p.detach().clone() for p in self.model.parameters()]

    # ---- events -------------------------------------------------------
    def emit(self, event: str) -> None:
        for cb in self.callbacks:
            fn = getattr(cb, "on_" + event, None)
            if fn is not None:
                fn(self)

    def request_stop(self, reason: str = "Stopped on request.") -> None:
        """Honoured between batches: the UI's Stop button calls this from another thread."""
        self.stop_reason = reason
        self.stop_requested = True

    @property
    def is_main(self) -> bool:
        return not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0

    # ---- the four steps -----------------------------------------------
    def forward(self, x):
        return self.net(*x) if isinstance(x, (tuple, list)) else self.net(x)

    def train_batch(self, x, y) -> bool:
        """One step of backprop. Returns False when the loss was not finite."""
        self.x, self.y = x, y
        self.emit("batch_start")
        self.model.train()
        self.output = self.forward(x)                       # 1. forward pass
        self.emit("after_forward")
        self.loss = self.loss_fn(self.output, y)            # 2. loss
        self.emit("after_loss")
        if not torch.isfinite(self.loss):
            return self._diverged(f"the loss became {self.loss.item()}")
        self.optimizer.zero_grad(set_to_none=True)
        self.loss.backward()                                # 3. backward pass
        total = self._measure_and_clip_gradients()
        if not math.isfinite(total):
            return self._diverged("the gradients became infinite")
        self.emit("after_backward")
        self._remember_good_weights()
        self.optimizer.step()                               # 4. weight update
        if self.scheduler is not None:
            self.scheduler.step()
        self.step += 1
        self.emit("after_step")
        self._log_batch()
        self.emit("batch_end")
        return True

    def _measure_and_clip_gradients(self) -> float:
        named = [(n, p) for n, p in self.model.named_parameters() if p.grad is not None]
        if self.cfg.track_grad_norms:
            sq: dict[str, float] = {}
            for n, p in named:
                sq[layer_of(n)] = sq.get(layer_of(n), 0.0) + p.grad.detach().float().pow(2).sum().item()
            self.grad_norms = {k: math.sqrt(v) for k, v in sq.items()}
        grads = [p for _, p in named]
        if self.cfg.clip_grad_norm:
            total = nn.utils.clip_grad_norm_(grads, self.cfg.clip_grad_norm).item()
        elif self.cfg.track_grad_norms:
            total = math.sqrt(sum(v * v for v in self.grad_norms.values()))
        else:
            total = nn.utils.get_total_norm([p.grad for p in grads]).item() if grads else 0.0
        self.grad_norm = total
        return total

    def _remember_good_weights(self) -> None:
        # the weights that just gave a finite loss and finite gradients
        with torch.no_grad():
            for keep, p in zip(self._last_good, self.model.parameters()):
                keep.copy_(p)

    def _diverged(self, what: str) -> bool:
        with torch.no_grad():
            for keep, p in zip(self._last_good, self.model.parameters()):
                p.copy_(keep)
        last_norm = self.history.batches[-1]["grad_norm"] if self.history.batches else float("nan")
        lr = self.optimizer.param_groups[0]["lr"]
        cause = (f"the learning rate ({lr:g}) is probably too high, or the gradients exploded "
                 f"(last gradient norm {last_norm:.3g})")
        self.stop_reason = (f"Training diverged at epoch {self.epoch + 1}, batch {self.batch_index + 1}: "
                            f"{what}. Likely cause: {cause}. Try a lower learning rate or gradient clipping. "
                            "The weights were restored to the last step with a finite loss.")
        self.stop_requested = True
        self._diverged_flag = True
        return False

    def _log_batch(self) -> None:
        row = {"epoch": self.epoch + 1, "step": self.step, "loss": self.loss.item(),
               "lr": self.optimizer.param_groups[0]["lr"], "grad_norm": self.grad_norm,
               "time": time.perf_counter() - self._t0}
        for name, fn in self.metrics.items():
            row[name] = fn(self.output.detach(), self.y)
        if self.grad_norms:
            row["grad_norms"] = dict(self.grad_norms)
        self.history.batches.append(row)

    # ---- the loop -----------------------------------------------------
    def fit(self, train: Dataset | DataLoader, val: Dataset | DataLoader | None = None,
            epochs: int | None = None) -> FitResult:
        epochs = epochs or self.cfg.epochs
        seed_everything(self.cfg.seed)
        batches = make_batches(train, self.cfg.batch_size, True, self.cfg.seed, self.collate_fn)
        self.steps_per_epoch = len(batches)
        self.total_steps = epochs * self.steps_per_epoch
        if self.cfg.max_batches:
            self.total_steps = min(self.total_steps, self.cfg.max_batches)
        if self.scheduler is None and self.step == 0:
            self.scheduler = make_schedule(self.optimizer, self.cfg, len(batches))
        self.stop_requested, self.stop_reason, self._diverged_flag = False, "", False
        status = "completed"
        t0 = self._t0 = time.perf_counter()
        self.emit("fit_start")
        while self.epoch < epochs and not self.stop_requested:
            if hasattr(batches, "set_epoch"):
                batches.set_epoch(self.epoch)
            elif hasattr(getattr(batches, "sampler", None), "set_epoch"):
                batches.sampler.set_epoch(self.epoch)
            self.emit("epoch_start")
            te = time.perf_counter()
            first = len(self.history.batches)
            for self.batch_index, (x, y) in enumerate(batches):
                x, y = to_device(x, self.device), to_device(y, self.device)
                if self.batch_transform is not None:
                    x = self.batch_transform(x)
                if not self.train_batch(x, y) or self.stop_requested:
                    break
                if self.cfg.max_batches and self.step >= self.cfg.max_batches:
                    self.request_stop(f"Reached the limit of {self.cfg.max_batches} batches.")
                    break
            if self._diverged_flag:
                status = "diverged"
                break
            rows = self.history.batches[first:]
            summary = {"epoch": self.epoch + 1, "seconds": time.perf_counter() - te}
            if rows:
                summary["train_loss"] = float(np.mean([r["loss"] for r in rows]))
                for name in self.metrics:
                    summary["train_" + name] = float(np.mean([r[name] for r in rows]))
            if val is not None:
                for k, v in self.evaluate(val).items():
                    summary["val_" + k] = v
            self.history.epochs.append(summary)
            self.epoch += 1
            self.emit("epoch_end")
        if status != "diverged" and self.stop_requested:
            status = "early_stopped" if self.stop_reason.startswith("Early stopping") else "stopped"
        message = self.stop_reason or f"Trained {self.epoch} epochs."
        self.emit("fit_end")
        return FitResult(status, message, self.history, self.epoch, time.perf_counter() - t0)

    @torch.no_grad()
    def evaluate(self, data: Dataset | DataLoader) -> dict[str, float]:
        """Loss and metrics over a whole data set (on this process's share when distributed)."""
        self.model.eval()
        total, n, sums = 0.0, 0, {k: 0.0 for k in self.metrics}
        for x, y in make_batches(data, max(self.cfg.batch_size, 256), False, 0, self.collate_fn):
            x, y = to_device(x, self.device), to_device(y, self.device)
            out = self.model(*x) if isinstance(x, (tuple, list)) else self.model(x)
            b = len(y)
            total += self.loss_fn(out, y).item() * b
            for k, fn in self.metrics.items():
                sums[k] += fn(out, y) * b
            n += b
        if dist.is_available() and dist.is_initialized():
            # every rank saw its own share: add them up so all ranks report the same figures
            t = torch.tensor([total, n, *sums.values()], dtype=torch.float64, device=self.device)
            dist.all_reduce(t)
            total, n = t[0].item(), int(t[1].item())
            sums = dict(zip(sums, t[2:].tolist()))
        return {"loss": total / max(n, 1), **{k: v / max(n, 1) for k, v in sums.items()}}

    def state_dict(self) -> dict:
        """Everything but the weights that resuming needs (plain tensors and numbers only)."""
        return {"optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict() if self.scheduler else None,
                "epoch": self.epoch, "step": self.step}

    def load_state_dict(self, state: dict, steps_per_epoch: int | None = None) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
        self.epoch, self.step = int(state["epoch"]), int(state["step"])
        if state.get("scheduler") and steps_per_epoch:
            self.scheduler = make_schedule(self.optimizer, self.cfg, steps_per_epoch)
            self.scheduler.load_state_dict(state["scheduler"])
