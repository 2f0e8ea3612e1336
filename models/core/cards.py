"""What a model card may say, checked before anything is built from it.

A card arrives with weights a user uploaded or named, so every field the suite reads is checked
here: the task, the labels, the architecture's numbers (a layer count is paid for before any weight
is compared: 20,000 recurrent layers took minutes to lay out even without memory), and the figures and
words the pages show beside the model. Models.core.tasks.Task.check_card calls `check_card`; a task
names its own bounds in `arch_limits`.
"""
from __future__ import annotations

import math

from data.core.labels import MAX_LABEL_CHARS, MAX_LABELS
from models.core.checkpoint import CheckpointError

MAX_NUMBER = 1_000_000      # beyond any layer width or count of this suite's networks
MAX_NOTE_CHARS = 500        # a headline or a dataset's name, as the sidebar shows it


def check_card(card, task: str, min_labels: int = 2, arch_limits: dict | None = None) -> None:
    """A model card's shape: a dict naming this task; its labels a list of at least `min_labels`
    distinct short strings; its architecture a dict of plain numbers, strings and flags within
    `arch_limits` ({name: (lowest, highest)}); its metrics, evaluation and data objects whose figures
    are numbers and whose headline and dataset are short strings."""
    if not isinstance(card, dict):
        raise CheckpointError(f"The model card must be a JSON object, not {type(card).__name__}.")
    if card.get("task") != task:
        raise CheckpointError(f"The model card is for the {str(card.get('task'))[:40]!r} task, not {task!r}.")
    _check_labels(card.get("labels"), min_labels)
    arch = card.get("arch")
    kwargs = arch.get("kwargs", {}) if isinstance(arch, dict) else None
    if not isinstance(kwargs, dict) or not all(isinstance(v, (bool, int, float, str, type(None)))
                                               for v in kwargs.values()):
        raise CheckpointError("The model card's arch.kwargs must be an object of numbers, strings and flags.")
    for name, value in kwargs.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool) and not (
                math.isfinite(value) and abs(value) <= MAX_NUMBER):
            raise CheckpointError(f"The model card's arch.kwargs.{name[:40]} is {str(value)[:40]}: a card's "
                                  f"numbers are finite, and no network of this suite needs one past {MAX_NUMBER:,}.")
    for name, (low, high) in (arch_limits or {}).items():
        value = kwargs.get(name)
        if value is not None and not (isinstance(value, int) and not isinstance(value, bool) and low <= value <= high):
            raise CheckpointError(f"The model card's arch.kwargs.{name} is {str(value)[:40]}: this task's "
                                  f"networks have a whole number from {low} to {high} there.")
    _check_notes(card)


def _check_labels(labels, min_labels: int) -> None:
    # (Typos has none: it chooses among each word's own candidates)
    if not (isinstance(labels, list) and min_labels <= len(labels) <= MAX_LABELS
            and all(isinstance(x, str) and 0 < len(x) <= MAX_LABEL_CHARS for x in labels)):
        least = f"{min_labels} to {MAX_LABELS:,}" if min_labels else f"at most {MAX_LABELS:,}"
        raise CheckpointError(f"The model card's labels must be a list of {least} strings of 1 to "
                              f"{MAX_LABEL_CHARS} characters.")
    if len(set(labels)) != len(labels):
        raise CheckpointError("The model card's labels must all differ.")


def _check_notes(card: dict) -> None:
    """The card's other sections that the pages and the exporter read: each an object if it is there,
    its accuracies numbers from 0 to 1, its headline and dataset short strings."""
    for section in ("metrics", "evaluation", "data", "preprocessing"):
        if section in card and not isinstance(card[section], dict):
            raise CheckpointError(f"The model card's {section} must be a JSON object.")
    for name, value in card.get("metrics", {}).items():
        if name.endswith("accuracy") and value is not None and not (      # (NaN: a split with no examples)
                isinstance(value, (int, float)) and not isinstance(value, bool)
                and (math.isnan(value) or 0 <= value <= 1)):
            raise CheckpointError(f"The model card's metrics.{name[:40]} must be a number from 0 to 1.")
    for section, name in (("evaluation", "headline"), ("data", "dataset")):
        value = card.get(section, {}).get(name)
        if value is not None and not (isinstance(value, str) and len(value) <= MAX_NOTE_CHARS):
            raise CheckpointError(f"The model card's {section}.{name} must be a string of at most "
                                  f"{MAX_NOTE_CHARS} characters.")
