"""What a task is, and the one train/evaluate workflow that the command line and
every app's training panel share.

A task (digits, and later typos, sentiment, speech) says how to build its
network, where its data comes from, how to augment it and how to turn a
checkpoint into a predictor. `train_model` (and models.core.evaluation's
`evaluate_model`) do the rest the same way for all of them.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import Dataset, TensorDataset

from data.core.errors import DataError
from models.core.cards import check_card
from models.core.checkpoint import (CheckpointError, first_line, load_checkpoint, make_card, read_card,
                                    save_checkpoint)
from models.core.predictor import Predictor
from models.core.batches import make_batches
from models.core.evaluation import evaluate_model
from models.core.trainer import Callback, FitResult, ScheduleMismatch, Status, TrainConfig, Trainer


@dataclass
class Splits:
    train: Dataset
    val: Dataset | None
    test: Dataset | None
    labels: list[str]
    provenance: dict = field(default_factory=dict)
    extras: dict = field(default_factory=dict)     # what a task's augmentation may draw on (real noise)


class Task:
    name = ""
    title = ""
    predictor_class: type[Predictor] = Predictor
    collate_fn: Callable | None = None
    min_labels = 2            # a classifier tells at least two things apart
    arch_limits: dict[str, tuple[int, int]] = {}    # {kwarg: (lowest, highest)} a card may ask for
    probe_item = None         # an input a loaded model must answer with finite probabilities

    def build_model(self, labels: Sequence[str], **arch) -> nn.Module:
        raise NotImplementedError

    def default_config(self) -> TrainConfig:
        return TrainConfig()

    def fine_tune_config(self, epochs: int = 3) -> TrainConfig:
        """Defaults for fine-tuning a model that already works: the recipe's optimiser at a
        thirtieth of its rate, held constant. The recipe itself (a one-cycle warm-up to 3e-3) took
        the converged digits model from 99.23% to 98.92% in one epoch; a tenth of the rate to
        99.07% (one epoch) and 99.17% (three); a thirtieth to 99.22% (three epochs on MNIST)."""
        recipe = self.default_config()
        return TrainConfig.from_dict({**recipe.to_dict(), "epochs": epochs, "lr": recipe.lr / 30,
                                      "schedule": "constant"})

    def load_splits(self, root=None, val_fraction: float = 0.1, seed: int = 0) -> Splits:
        raise NotImplementedError

    def read_input(self, path):
        """A file named on the command line -> one item for the predictor."""
        raise NotImplementedError

    def load_custom(self, path, val_fraction: float = 0.2, seed: int = 0, mix_with: Splits | None = None):
        """A user's own data -> (Splits, a report of what was read and skipped)."""
        raise DataError(f"Training the {self.name} task on your own files from the command line is not "
                        "supported yet.")

    def examples_to_splits(self, examples, mix_with: Splits | None = None, seed: int = 0) -> Splits:
        """(item, label) pairs collected in an app -> splits."""
        raise NotImplementedError

    def batch_transform(self, augment: bool = True, splits: Splits | None = None) -> Callable | None:
        """Training-time augmentation of whole batches on the device, or None."""
        return None

    def preprocessing(self) -> dict:
        return {}

    def loss_fn(self) -> nn.Module:
        return nn.CrossEntropyLoss()

    def arch(self, model: nn.Module) -> dict:
        return {"name": type(model).__name__, "kwargs": dict(model.config)}

    def build_from_card(self, card: dict) -> nn.Module:
        """The network a model card describes, untrained."""
        return self.build_model(card["labels"], **card["arch"].get("kwargs", {}))

    def check_card(self, card) -> None:
        """A card's shape, before anything is built from it (models.core.cards); a task whose card
        carries more that it builds from checks that too."""
        check_card(card, self.name, self.min_labels, self.arch_limits)

    def model_from_state(self, state: dict, card: dict) -> nn.Module:
        """The network of a card with its weights. The card is checked against the weights on the
        "meta" device first, where a layer has a shape and no memory: a card that asks for a
        network 6,000 wide behind small weights is refused before a byte is spent on it."""
        self.check_card(card)
        try:
            with torch.device("meta"):
                skeleton = self.build_from_card(card)
        except (TypeError, ValueError, KeyError, RuntimeError) as e:
            # the first line: torch appends C++ stack frames to some messages
            raise CheckpointError(f"The model card's architecture cannot be built: {first_line(e)}") from e
        expected = {k: tuple(v.shape) for k, v in skeleton.state_dict().items()}
        found = {k: tuple(v.shape) for k, v in state.items()}
        if expected != found:
            wrong = sorted(set(expected) ^ set(found)) or [k for k in expected if expected[k] != found[k]]
            raise CheckpointError(f"The model card does not match its weights ({len(wrong)} tensor(s) differ, "
                                  f"e.g. {wrong[0]}: the card says {expected.get(wrong[0])}, the weights hold "
                                  f"{found.get(wrong[0])}).")
        broken = [k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()]
        if broken:
            raise CheckpointError(f"The weights hold NaN or infinite values ({len(broken)} tensor(s), e.g. {broken[0]}): "
                                  "the model that saved them had diverged.")
        model = self.build_from_card(card)
        model.load_state_dict(state)
        return model.eval()

    def predictor_from_state(self, state: dict, card: dict) -> Predictor:
        return self.probed(self.predictor_class(self.model_from_state(state, card), card))

    def probed(self, predictor: Predictor) -> Predictor:
        """The predictor, once it has answered `probe_item` with finite probabilities. Shapes that
        match can still disagree with the task's fixed input (a card's 42 mel bands where the audio
        has 40) or hold weights that give NaN (a negative running variance): such a model is
        refused when it is loaded, not with a traceback at its first prediction."""
        if self.probe_item is None:
            return predictor
        try:
            answer = predictor.predict([self.probe_item], k=1)[0]
        except (RuntimeError, ValueError, IndexError, TypeError, KeyError) as e:
            raise CheckpointError(f"The model does not run on a sample input: {first_line(e)}") from e
        if not math.isfinite(answer["score"]):
            raise CheckpointError("The model answers a sample input with NaN: its weights do not make a "
                                  "working network.")
        return predictor


def with_labels(model: nn.Module, labels: Sequence[str], old_labels: Sequence[str]) -> nn.Module:
    """A copy of `model` to fine-tune on `labels`. Where the label set differs the
    output layer is replaced (rows of labels the two sets share are kept), so the
    learnt features carry over to the new classes."""
    model = copy.deepcopy(model)
    if list(labels) == list(old_labels):
        return model
    old = model.output
    new = nn.Linear(old.in_features, len(labels))
    with torch.no_grad():
        for i, label in enumerate(labels):
            if label in old_labels:
                j = list(old_labels).index(label)
                new.weight[i] = old.weight[j]
                new.bias[i] = old.bias[j]
    model.output = new
    model.config = {**model.config, "num_classes": len(labels)}
    return model


def weight_updates(n_train: int, batch_size: int, epochs: int = 1) -> int:
    """How many optimizer steps `epochs` over `n_train` examples make (a last short batch is a step)."""
    return epochs * max(1, math.ceil(n_train / max(1, batch_size)))


def epochs_for(n_train: int, batch_size: int, epochs: int, min_steps: int = 60, most: int = 100) -> int:
    """`epochs`, or more where a small data set would get fewer than `min_steps` weight updates:
    4 epochs of 48 texts in batches of 32 are 8 updates, too few to learn even 3 easy classes."""
    return max(epochs, min(most, math.ceil(min_steps / weight_updates(n_train, batch_size))))


@dataclass
class TrainRun:
    model: nn.Module
    result: FitResult
    card: dict
    trainer: Trainer
    saved: bool = False
    save_note: str = ""          # why the checkpoint was not written, when it was not
    versus: dict | None = None   # validation accuracy beside the model it was fine-tuned from


def versus_start(run: TrainRun, init: nn.Module | None, init_labels: Sequence[str] | None, splits: Splits,
                 collate_fn=None) -> dict | None:
    """The validation accuracy of a fine-tuned model and of the model it started from, on the same
    examples: {"new": …, "start": …}; None where they cannot be compared (trained from scratch,
    another label set, no validation set)."""
    if init is None or splits.val is None or len(splits.val) == 0 or list(init_labels or []) != run.card["labels"]:
        return None
    new = evaluate_model(run.model, splits.val, splits.labels, collate_fn=collate_fn)["accuracy"]
    start = evaluate_model(init, splits.val, splits.labels, collate_fn=collate_fn)["accuracy"]
    return {"new": new, "start": start, "n": len(splits.val)}


def worth_saving(card: dict, result: FitResult, steps: int, out: str | Path, overwrite: bool = False) -> str:
    """"" if the run may be written to `out`, else why not: a run that diverged or took no step is
    never written, and one whose validation figure is below the checkpoint already at `out` does
    not replace it unless `overwrite`."""
    if not result.ok:
        return "not saved: the run diverged (a checkpoint already at the path is kept)"
    if steps == 0:
        return "not saved: the run took no training step"
    old = None if overwrite else read_card(out)        # the card alone: the weights need not be read
    if not isinstance(old, dict) or not isinstance(old.get("metrics"), dict):
        return ""                  # nothing (readable) there to protect
    new_m, old_m = card.get("metrics", {}), old["metrics"]
    for key, higher_is_better in (("val_accuracy", True), ("val_loss", False)):
        if key in old_m and new_m.get(key) is None:
            # a run stopped before its first epoch's validation (Ctrl-C) has nothing to weigh
            return (f"not saved: this run has no {key.replace('_', ' ')} to weigh against the checkpoint already "
                    f"at {out}; pass --overwrite to replace it anyway")
        if key in new_m and key in old_m:
            worse = new_m[key] < old_m[key] if higher_is_better else new_m[key] > old_m[key]
            if worse:
                return (f"not saved: {key.replace('_', ' ')} {new_m[key]:.4f} is worse than the checkpoint already "
                        f"at {out} ({old_m[key]:.4f}); pass --overwrite to replace it anyway")
            break
    return ""


def resume_into(trainer: Trainer, task: Task, labels: Sequence[str], resume: str | Path, steps: int) -> None:
    """A run's weights and optimizer state, put back into `trainer` to go on where it stopped; a
    checkpoint of another task or label set, or a schedule laid out for another length, is refused
    with what to do instead."""
    from models.core.checkpoint import load_trainer_state
    state, card = load_checkpoint(resume)
    if card.get("task") != task.name or list(card.get("labels") or []) != list(labels):
        raise CheckpointError(f"--resume {resume} is a run of the {str(card.get('task'))[:20]} task on other labels: "
                              "resume a run of this task and data, or fine-tune from it with --init.")
    try:
        trainer.model.load_state_dict(state)
    except RuntimeError as e:
        raise CheckpointError(f"--resume {resume}: its weights do not fit this network: {first_line(e)}") from e
    tstate = load_trainer_state(resume)
    if tstate is None:
        raise FileNotFoundError(f"{resume} has weights but no .train.pt optimizer state to resume from")
    try:
        trainer.load_state_dict(tstate, steps)
    except ScheduleMismatch as e:
        raise CheckpointError(f"--resume {resume} goes on with the run as it was laid out: give it the run's own "
                              "--epochs, --batch-size and --schedule (its card's hyperparameters), or fine-tune "
                              "from it with --init for a run of another length.") from e
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as e:
        raise CheckpointError(f"--resume {resume}: its optimizer state does not fit this run: {first_line(e)}") from e


def fine_tuned_from(name: str, card: dict) -> str:
    """How a card names the model a run started from: its name and what it was trained on, so that a
    model fine-tuned on 60 of your texts does not hide the 13,000 it learnt first."""
    data = card.get("data") if isinstance(card.get("data"), dict) else {}
    source = data.get("dataset")
    return f"{name} (trained on {str(source)[:300]})" if source else name


def train_model(task: Task, splits: Splits, cfg: TrainConfig, *, init: nn.Module | None = None,
                init_labels: Sequence[str] | None = None, callbacks: Sequence[Callback] = (),
                out: str | Path | None = None, resume: str | Path | None = None, augment: bool = True,
                test_eval: bool = True, trainer_hook: Callable[[Trainer], None] | None = None,
                overwrite: bool = False, init_name: str | None = None) -> TrainRun:
    """Train from scratch (init=None) or fine-tune a copy of `init`, named in the card by `init_name`
    (with its data, where its card says); never touches `init` itself."""
    labels = splits.labels
    # seeded before either branch: a fine-tune on new labels draws their output rows at random too
    torch.manual_seed(cfg.seed)
    if init is None:
        model = task.build_model(labels)
    else:
        model = with_labels(init, labels, init_labels or labels)
    trainer = Trainer(model, task.loss_fn(), cfg, callbacks=list(callbacks),
                      batch_transform=task.batch_transform(augment, splits), collate_fn=task.collate_fn)
    if resume is not None:
        steps = len(make_batches(splits.train, cfg.batch_size, True, cfg.seed, task.collate_fn))
        resume_into(trainer, task, labels, resume, steps)
    if trainer_hook is not None:
        trainer_hook(trainer)   # lets a UI hold the trainer (for its Stop button) before fitting starts
    result = trainer.fit(splits.train, splits.val)
    metrics = {}
    # the figures of the weights kept, not of the last epoch run (early stopping may put back an earlier one)
    metrics.update({k: v for k, v in trainer.history.kept_epoch().items() if k.startswith(("train_", "val_"))})
    # your own data has no test set of its own (its test is its validation split): no "test" figure then,
    # which the sidebar had shown beside the shipped model's real one
    if test_eval and splits.test is not None and splits.test is not splits.val and result.ok:
        metrics.update({"test_" + k: v for k, v in trainer.evaluate(splits.test).items()})
    broken = [k for k, v in metrics.items() if v is not None and not math.isfinite(float(v))]
    if result.ok and broken:
        # the training loss stayed finite over the batches it read, but the weights no longer give numbers
        result.status = Status.DIVERGED
        result.message = (f"Training diverged: the {broken[0].replace('_', ' ')} is {metrics[broken[0]]}. "
                          "Lower the learning rate.")
    card = make_card(task.name, task.arch(model), labels, preprocessing=task.preprocessing(),
                     hyperparameters={**cfg.to_dict(), "augment": augment,
                                      "fine_tuned_from": None if init is None else init_name or "a previous model"},
                     data=splits.provenance, metrics=metrics, status=result.status, message=result.message,
                     training_seconds=round(result.seconds, 1), threads=torch.get_num_threads(),
                     epochs=trainer.history.epochs)
    saved, note = False, ""
    if out is not None and trainer.is_main:
        note = worth_saving(card, result, trainer.step, out, overwrite)
        if not note:
            save_checkpoint(out, model, card, trainer.state_dict())
            saved = True
    return TrainRun(model.eval(), result, card, trainer, saved, note)


def splits_from_examples(examples: Sequence[np.ndarray], targets: Sequence[int], classes: Sequence[str],
                         val_fraction: float = 0.2, seed: int = 0, source: str = "your own images",
                         mix_with: Splits | None = None) -> Splits:
    """Splits from a user's preprocessed examples (a digit's 28×28 image, a clip's log-mel),
    each given one channel axis; stratified, so that every class is in both parts when it
    has two or more; optionally mixed with an official training set (`mix_with`) so that
    fine-tuning on a handful of examples does not forget the rest."""
    x = torch.from_numpy(np.stack(examples)).float().unsqueeze(1)
    y = torch.tensor(list(targets), dtype=torch.long)
    g = torch.Generator().manual_seed(seed)
    val_idx, tr_idx = [], []
    for c in range(len(classes)):
        idx = (y == c).nonzero().flatten()
        idx = idx[torch.randperm(len(idx), generator=g)]
        k = int(round(len(idx) * val_fraction)) if len(idx) >= 2 else 0
        val_idx += idx[:k].tolist()
        tr_idx += idx[k:].tolist()
    train_x, train_y = x[tr_idx], y[tr_idx]
    provenance = {"dataset": source, "train": len(tr_idx), "val": len(val_idx),
                  "classes": list(classes)}
    if mix_with is not None:
        mx, my = mix_with.train.tensors
        label_map = [list(classes).index(c) if c in classes else -1 for c in mix_with.labels]
        mapped = torch.tensor(label_map)[my]
        keep = mapped >= 0
        train_x = torch.cat([train_x, mx[keep]])
        train_y = torch.cat([train_y, mapped[keep]])
        provenance["mixed_with"] = f"{int(keep.sum())} {mix_with.provenance.get('dataset', '')} training examples"
    val = TensorDataset(x[val_idx], y[val_idx]) if val_idx else None
    return Splits(TensorDataset(train_x, train_y), val, val, list(classes), provenance,
                  dict(mix_with.extras) if mix_with is not None else {})
