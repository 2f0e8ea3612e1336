"""Speaker-independent accuracy on the spoken digits: leave one FSDD speaker out.

For each of FSDD's six speakers, train the shipped recipe from scratch on the
other five (all their takes), the synthetic voices and the generated silence,
then test on every clip of the speaker left out: a voice the network has never
heard, as the app's users are. A digit counts as right only when the network's
answer among all 22 classes is that digit.
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


def synthetic_to_real(root=None, cfg: TrainConfig | None = None, log: Callable[[str], None] | None = None,
                      augment: bool = True) -> dict:
    """Train on the synthetic voices and the silence alone, test on FSDD's real speakers: how well
    people are understood saying a word the network learnt from synthetic voices only, as it
    learnt the ten keywords that are not digits (no real recordings of those are here).
    FSDD's official test takes are left out, so that choosing a recipe by this never sees them."""
    from models.speech.task import FSDD_TEST_TAKES
    fsdd, other = TASK.training_clips(root, log)
    fsdd = fsdd.subset([t not in FSDD_TEST_TAKES for t in fsdd.takes])
    splits = Splits(dataset(other), None, None, LABELS, {"dataset": "synthetic voices + silence only",
                                                         "train": len(other)})
    run = train_model(TASK, splits, cfg or TASK.default_config(), augment=augment, test_eval=False)
    # one pass, speaker by speaker: the whole figure is the sum of theirs
    per_speaker, confusion = {}, torch.zeros(len(LABELS), len(LABELS), dtype=torch.long)
    for speaker in sorted(set(fsdd.speakers)):
        result = evaluate_model(run.model, dataset(fsdd.subset([s == speaker for s in fsdd.speakers])), LABELS)
        per_speaker[speaker] = result["accuracy"]
        confusion += torch.tensor(result["confusion"])
    n = int(confusion.sum())
    accuracy = float(confusion.diag().sum()) / n
    if log:
        log(f"trained on synthetic voices only: {accuracy:.2%} of {n} FSDD recordings "
            f"(takes 5-49; {run.result.seconds:.0f} s training); by speaker: "
            + ", ".join(f"{k} {v:.0%}" for k, v in per_speaker.items()))
    return {"accuracy": accuracy, "n": n, "per_speaker": per_speaker, "confusion": confusion.tolist()}


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
