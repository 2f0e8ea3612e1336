"""Speaker-independent accuracy on the spoken digits: leave one FSDD speaker out.

For each of FSDD's six speakers, train the shipped recipe from scratch on the
other five (all their takes) and everything else the recipe trains on (Speech
Commands' training speakers, the synthetic voices, silence), then test on every
clip of the speaker left out: a voice the network has never heard, as the app's
users are. A digit counts as right only when the network's answer among all 22
classes is that digit. (`python -m models.evaluate speech --folds 6`; the
held-out Speech Commands speakers, models/speech/heldout.py, need no training.)
"""
from __future__ import annotations

import statistics
from typing import Callable

import torch

from models.speech.task import LABELS, TASK, dataset
from models.core.evaluation import evaluate_model
from models.core.tasks import Splits, train_model
from models.core.trainer import TrainConfig


def fsdd_speakers(root=None) -> list[str]:
    from data.speech.datasets import load_fsdd
    return sorted(set(load_fsdd(root).speakers))


def leave_one_speaker_out(root=None, folds: int | None = None, cfg: TrainConfig | None = None,
                          log: Callable[[str], None] | None = None, augment: bool = True) -> dict:
    fsdd, other = TASK.training_clips(root, log)
    speakers = sorted(set(fsdd.speakers))[: folds or None]
    cfg = cfg or TASK.default_config()
    results, confusion = {}, torch.zeros(len(LABELS), len(LABELS), dtype=torch.long)
    for k, speaker in enumerate(speakers):
        held = [s == speaker for s in fsdd.speakers]
        train = fsdd.subset([not h for h in held]) + other
        test = dataset(fsdd.subset(held))
        splits = Splits(dataset(train), None, test, LABELS,
                        {"dataset": f"FSDD without {speaker} + synthetic voices + silence", "train": len(train)})
        run = train_model(TASK, splits, cfg, augment=augment, test_eval=False)
        result = evaluate_model(run.model, test, LABELS)
        results[speaker] = result["accuracy"]
        confusion += torch.tensor(result["confusion"])
        if log:
            log(f"fold {k + 1}/{len(speakers)}: {speaker} left out: {result['accuracy']:.2%} "
                f"({run.result.seconds:.0f} s training)")
    return {"folds": results, "average": statistics.mean(results.values()) if results else None,
            "confusion": confusion.tolist(), "recipe": {k: v for k, v in cfg.to_dict().items()
                                                        if k in ("epochs", "batch_size", "lr", "schedule")}}


def confusion_table(confusion, labels, rows=None) -> str:
    """A confusion matrix as text: one row per true class that occurs, columns by predicted class."""
    m = torch.as_tensor(confusion)
    present = [i for i in range(len(labels)) if m[i].sum() > 0] if rows is None else rows
    cols = sorted(set(present) | {j for j in range(len(labels)) if m[present][:, j].sum() > 0}) if present else []
    short = [labels[j][:6] for j in cols]
    lines = ["true \\ pred " + " ".join(f"{s:>6}" for s in short) + "   acc"]
    for i in present:
        acc = float(m[i, i]) / max(1, int(m[i].sum()))
        lines.append(f"{labels[i][:11]:>11} " + " ".join(f"{int(m[i, j]):>6}" for j in cols) + f" {acc:6.1%}")
    return "\n".join(lines)
