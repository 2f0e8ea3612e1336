"""The one training loop of the suite.

Every app, the Backprop Lab and the command line train through `Trainer.fit`.
Each batch goes through the four steps of backprop, named as the Lab teaches
them, with callback events around them (fastai style):

    batch_start
    1. forward   -> after_forward
    2. loss      -> after_loss
    3. backward  -> after_backward    (gradient norms, clipping)
    4. step      -> after_step
    batch_end

and epoch_start / epoch_end / fit_start / fit_end around the batches.

Loss, metrics and gradient norms stay on the device and are read every
`sync_every` batches in one transfer (each read makes the CPU wait for the GPU).
A non-finite loss or gradient found there ends the run as "diverged" on every
rank at once and puts back the last weights that gave a finite loss.
"""
from __future__ import annotations

import math
import random
import time
from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn
from torch.utils.data import DataLoader, Dataset

from models.core.batches import make_batches, to_device
from models.core.callbacks import (AdversarialLoss, Callback, EarlyStopping, ProgressBar, Status,  # noqa: F401
                                   StopRequest, WeightAverage)
from models.core.evaluation import accuracy, evaluate
from models.core.history import History

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
    weight_decay: float = 0.0        # on weight matrices and kernels, never on biases or norms
    schedule: str = "constant"       # "constant" | "step" | "cosine" | "onecycle"
    step_every: int = 0              # "step" schedule: epochs between lr halvings (0: a third of the run)
    clip_grad_norm: float | None = None
    early_stopping: int = 0          # patience in epochs on the validation loss; 0 = off
    ema: float = 0.0                 # decay of a moving average of the weights, e.g. 0.999; 0 = off
    adversarial: float = 0.0         # size of the adversarial step on the model's `embed` output; 0 = off
    seed: int = 0
    device: str = "auto"             # "auto" picks CUDA when present
    threads: int | None = None       # torch.set_num_threads, when given
    max_batches: int | None = None   # stop after this many batches in all (smoke runs, the Lab)
    track_grad_norms: bool = True
    sync_every: int = 10             # batches between reads of loss, metrics and norms from the device

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in d.items() if k in known})


@dataclass
class FitResult:
    status: Status
    message: str
    history: History
    epochs_done: int
    seconds: float
    interrupted: bool = False        # Ctrl-C: the command line exits 130, as a shell expects

    @property
    def ok(self) -> bool:
        return self.status != Status.DIVERGED


class ScheduleMismatch(ValueError):
    """A saved schedule that cannot go on under this run's settings (Trainer.load_state_dict)."""


def pick_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as e:
        raise ValueError(f"unknown device {name!r}: use auto, cpu, cuda or cuda:N") from e
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r}: this machine has no CUDA GPU; use --device cpu (or auto)")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise ValueError(f"device {name!r}: there are {torch.cuda.device_count()} GPU(s), numbered from 0")
    return device


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def layer_of(param_name: str) -> str:
    # "features.0.weight" -> "features.0": weight and bias belong to one layer
    return param_name.rsplit(".", 1)[0] if "." in param_name else param_name


def make_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    # decay pulls weight matrices and kernels towards zero; a bias or a norm's scale has no
    # such reason to shrink (nanoGPT's configure_optimizers draws the same line)
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": cfg.weight_decay},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    groups = [g for g in groups if g["params"]]
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum)
    if cfg.optimizer == "adam":
        # AdamW: weight decay that does not fight Adam's per-weight scaling
        return torch.optim.AdamW(groups, lr=cfg.lr)
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


def distributed() -> bool:
    return dist.is_available() and dist.is_initialized()


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
        if self.cfg.ema:             # first: every other callback sees the averaged model at epoch end
            self.callbacks.insert(0, WeightAverage(self.cfg.ema))
        if self.cfg.early_stopping:
            self.callbacks.append(EarlyStopping(self.cfg.early_stopping))
        if self.cfg.adversarial:      # two forward passes to one backward: DDP's reducer refuses that
            if distributed():
                raise ValueError("adversarial training is not available under torchrun: leave it off")
            self.callbacks.append(AdversarialLoss.of(model, self.cfg.adversarial))
        self.batch_transform = batch_transform   # training-time augmentation, on the device
        self.collate_fn = collate_fn
        self.net = model                          # what the forward pass calls; DDP wraps it
        if distributed():
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.net = nn.parallel.DistributedDataParallel(self.model, device_ids=ids)
        self.optimizer = optimizer or make_optimizer(self.model, self.cfg)
        self.scheduler = None
        self.history = History()
        self.epoch = 0            # epochs completed
        self.step = 0             # optimizer steps taken
        self.batch_index = 0
        self.steps_per_epoch = self.total_steps = 0
        self.stop: StopRequest | None = None
        self._t0 = time.perf_counter()
        self.grad_norm = 0.0                       # the last read values, for callbacks and charts
        self.grad_norms: dict[str, float] = {}
        self.x = self.y = self.output = self.loss = self.objective = None
        self._pending: list[tuple] = []            # per-batch figures still on the device
        self._layers = list(dict.fromkeys(layer_of(n) for n, p in model.named_parameters() if p.requires_grad))
        self._layer_index: dict[tuple, torch.Tensor] = {}
        self._good = self._candidate = None        # see _check_window

    # ---- events -------------------------------------------------------
    def emit(self, event: str) -> None:
        for cb in self.callbacks:
            fn = getattr(cb, "on_" + event, None)
            if fn is not None:
                fn(self)

    def request_stop(self, reason: str = "Stopped on request.", status: Status = Status.STOPPED) -> None:
        """Honoured at the next batch, whenever it is asked for: before `fit` starts too (the
        UI's Stop button calls this from another thread). A divergence is never overwritten."""
        if self.stop is None or self.stop.status != Status.DIVERGED:
            self.stop = StopRequest(Status(status), reason)

    @property
    def stop_reason(self) -> str:
        return self.stop.message if self.stop else ""

    @property
    def is_main(self) -> bool:
        return not distributed() or dist.get_rank() == 0

    # ---- the four steps -----------------------------------------------
    def forward(self, x):
        return self.net(*x) if isinstance(x, (tuple, list)) else self.net(x)

    def train_batch(self, x, y) -> None:
        """One step of backprop. Every rank takes every step, finite or not, so that no rank
        waits for another's gradients; `_check_window` looks at the figures a few steps later."""
        self.x, self.y = x, y
        self.emit("batch_start")
        self.model.train()
        self.output = self.forward(x)                       # 1. forward pass
        self.emit("after_forward")
        self.loss = self.loss_fn(self.output, y)            # 2. loss
        self.objective = self.loss      # what step 3 differentiates: a callback may add to it, not to the report
        self.emit("after_loss")
        self.optimizer.zero_grad(set_to_none=True)
        self.objective.backward()                           # 3. backward pass
        total, per_layer = self._measure_and_clip_gradients()
        self.emit("after_backward")
        self.optimizer.step()                               # 4. weight update
        lr = self.optimizer.param_groups[0]["lr"]
        if self.scheduler is not None:
            self.scheduler.step()
        self.step += 1
        self.emit("after_step")
        metrics = [torch.as_tensor(fn(self.output.detach(), y), dtype=torch.float64, device=self.device)
                   for fn in self.metrics.values()]
        self._pending.append((self.loss.detach().double(), total, per_layer, metrics,
                              {"epoch": self.epoch + 1, "batch": self.batch_index + 1, "step": self.step, "lr": lr,
                               "time": time.perf_counter() - self._t0}))
        self.emit("batch_end")

    def _measure_and_clip_gradients(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(total norm, per-layer norms), as tensors on the device: nothing waits here."""
        named = [(n, p) for n, p in self.model.named_parameters() if p.grad is not None]
        grads = [p.grad for _, p in named]
        if not grads:
            return torch.zeros((), dtype=torch.float64, device=self.device), None
        norms = torch.stack(torch._foreach_norm(grads)).double()
        per_layer = None
        if self.cfg.track_grad_norms:
            names = tuple(n for n, _ in named)
            if names not in self._layer_index:     # made once: a host-to-device copy each step would wait
                self._layer_index[names] = torch.tensor([self._layers.index(layer_of(n)) for n in names],
                                                        device=self.device)
            sq = torch.zeros(len(self._layers), dtype=torch.float64, device=self.device)
            per_layer = sq.index_add_(0, self._layer_index[names], norms.pow(2)).sqrt()
        total = norms.pow(2).sum().sqrt()
        if self.cfg.clip_grad_norm:
            # the same scaling as nn.utils.clip_grad_norm_, on the norm measured above
            scale = (self.cfg.clip_grad_norm / (total + 1e-6)).clamp(max=1.0)
            torch._foreach_mul_(grads, scale)
        return total, per_layer

    # ---- reading the device, a window at a time -----------------------
    def _read_window(self) -> None:
        """Turns the pending figures into history rows with one read from the device, and
        checks them: a non-finite loss or gradient ends the run (on every rank together)."""
        if not self._pending:
            return
        rows, self._pending = self._pending, []
        n_metrics = len(self.metrics)
        packed = torch.stack([torch.cat([torch.stack([loss, total, *metrics]),
                                         per_layer if per_layer is not None else total.new_zeros(0)])
                              for loss, total, per_layer, metrics, _ in rows])
        bad = (~torch.isfinite(packed[:, :2])).any(1).float()
        if distributed():
            dist.all_reduce(bad, op=dist.ReduceOp.MAX)     # one rank's NaN stops every rank
        values, bad = packed.cpu().tolist(), bad.cpu().tolist()
        first_bad = bad.index(1.0) if 1.0 in bad else None
        for i, (v, (*_, per_layer, _, info)) in enumerate(zip(values, rows)):
            if first_bad is not None and i >= first_bad:
                break
            row = {**info, "loss": v[0], "grad_norm": v[1], **dict(zip(self.metrics, v[2:2 + n_metrics]))}
            if per_layer is not None:
                row["grad_norms"] = dict(zip(self._layers, v[2 + n_metrics:]))
                self.grad_norms = row["grad_norms"]
            self.grad_norm = row["grad_norm"]
            self.history.batches.append(row)
        self._check_window(first_bad, values, rows)

    def _check_window(self, first_bad: int | None, values: list, rows: list) -> None:
        """Two copies of the weights, made once a window, not once a step: `_candidate` (the
        weights at the window's start) becomes `_good` once its first step gave a finite loss."""
        if first_bad is None:
            self._good, self._candidate = self._candidate, self._good
            self._copy_weights(into=self._candidate)
            return
        restore = self._candidate if first_bad > 0 else self._good
        with torch.no_grad():
            torch._foreach_copy_([p.detach() for p in self.model.parameters()], restore)
        loss, total = values[first_bad][:2]
        what = f"the loss became {loss}" if not math.isfinite(loss) else "the gradients became infinite"
        last_norm = values[first_bad - 1][1] if first_bad > 0 else (
            self.history.batches[-1]["grad_norm"] if self.history.batches else float("nan"))
        info = rows[first_bad][-1]
        cause = (f"the learning rate ({info['lr']:g}) is probably too high, or the gradients exploded "
                 f"(last gradient norm {last_norm:.3g})")
        self.stop = StopRequest(Status.DIVERGED, (
            f"Training diverged at epoch {info['epoch']}, batch {info['batch']}: {what}. "
            f"Likely cause: {cause}. Try a lower learning rate or gradient clipping. "
            "The weights were restored to the last step with a finite loss."))

    def _copy_weights(self, into: list[torch.Tensor] | None = None) -> list[torch.Tensor]:
        with torch.no_grad():
            if into is None:
                return [p.detach().clone() for p in self.model.parameters()]
            torch._foreach_copy_(into, [p.detach() for p in self.model.parameters()])
            return into

    # ---- the loop -----------------------------------------------------
    def fit(self, train: Dataset | DataLoader, val: Dataset | DataLoader | None = None,
            epochs: int | None = None) -> FitResult:
        epochs = epochs or self.cfg.epochs
        self.val = val
        seed_everything(self.cfg.seed)
        batches = make_batches(train, self.cfg.batch_size, True, self.cfg.seed, self.collate_fn)
        self.steps_per_epoch = len(batches)
        self.total_steps = epochs * self.steps_per_epoch
        if self.cfg.max_batches:
            self.total_steps = min(self.total_steps, self.cfg.max_batches)
        if self.scheduler is None and self.step == 0:
            self.scheduler = make_schedule(self.optimizer, self.cfg, len(batches))
        self._good, self._candidate = self._copy_weights(), self._copy_weights()
        t0 = self._t0 = time.perf_counter()
        self.emit("fit_start")
        interrupted = False
        try:
            while self.epoch < epochs and self.stop is None:
                self._epoch(batches, val)
        except KeyboardInterrupt:
            self._read_window()
            self.request_stop("Stopped by Ctrl-C.")
            interrupted = True
        status = self.stop.status if self.stop else Status.COMPLETED
        message = self.stop.message if self.stop else f"Trained {self.epoch} epoch{'s' * (self.epoch != 1)}."
        self.emit("fit_end")
        self.stop = None            # consumed: a later fit starts afresh
        return FitResult(status, message, self.history, self.epoch, time.perf_counter() - t0, interrupted)

    def _epoch(self, batches, val) -> None:
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
            self.train_batch(x, y)
            if len(self._pending) >= max(1, self.cfg.sync_every):
                self._read_window()
            if self.cfg.max_batches and self.step >= self.cfg.max_batches and self.stop is None:
                self.request_stop(f"Reached the limit of {self.cfg.max_batches} batches.", Status.BATCH_LIMIT)
            if self.stop is not None:
                break
        self._read_window()
        if self.stop is not None and self.stop.status == Status.DIVERGED:
            return
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

    def evaluate(self, data: Dataset | DataLoader) -> dict[str, float]:
        """Loss and metrics over a whole data set (all ranks' shares added up when distributed)."""
        out = evaluate(self.model, data, loss_fn=self.loss_fn, metrics=self.metrics,
                       batch_size=max(self.cfg.batch_size, 256), collate_fn=self.collate_fn, device=self.device)
        return {"loss": out["loss"], **{k: out[k] for k in self.metrics}}

    def state_dict(self) -> dict:
        """Everything but the weights that resuming needs (plain tensors and numbers only)."""
        return {"optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict() if self.scheduler else None,
                "epoch": self.epoch, "step": self.step}

    def load_state_dict(self, state: dict, steps_per_epoch: int | None = None) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
        self.epoch, self.step = int(state["epoch"]), int(state["step"])
        if steps_per_epoch:
            saved, fresh = state.get("scheduler"), make_schedule(self.optimizer, self.cfg, steps_per_epoch)
            # one-cycle and cosine schedules are laid out for a run's length: one laid out for another
            # failed a step past its end, and a constant rate had no schedule to load one into
            if bool(saved) != bool(fresh) or saved and any(saved.get(k) != v for k, v in fresh.state_dict().items()
                                                           if k in ("total_steps", "T_max", "step_size")):
                raise ScheduleMismatch("the learning-rate schedule is laid out for another length or kind")
            if saved:
                self.scheduler = fresh
                self.scheduler.load_state_dict(saved)
