"""The suite's tasks by name, and one way to use any trained model of the suite.

    p = load_predictor("digits")                 # the shipped weights
    p = load_predictor("digits", "runs/mine")    # a retrained checkpoint
    p.labels                                     # ["0", ..., "9"]
    p.predict([img1, img2])  # [{"label": "7", "score": 0.998, "top": [("7", 0.998), ...]}, ...]

It sits above the task modules and imports them by name when asked, so that no task
module imports the module that imports it.
"""
from __future__ import annotations

import importlib
from pathlib import Path

from models.core.checkpoint import load_checkpoint, shipped_path
from models.core.predictor import Predictor

TASK_MODULES = {"digits": "models.digits.task", "typos": "models.typos.task", "sentiment": "models.sentiment.task",
                "speech": "models.speech.task"}


def load_predictor(task: str, path: str | Path | None = None) -> Predictor:
    task_ = get_task(task)
    state, card = load_checkpoint(path or shipped_path(task))
    if not isinstance(card, dict) or card.get("task") != task:
        raise ValueError(f"{path} holds no {task!r} model card" if not isinstance(card, dict) else
                         f"{path} holds a {card.get('task')!r} model, not a {task!r} model")
    return task_.predictor_from_state(state, card)


def get_task(name: str):
    if name not in TASK_MODULES:
        raise ValueError(f"unknown task {name!r}; known tasks: {', '.join(sorted(TASK_MODULES))}")
    return importlib.import_module(TASK_MODULES[name]).TASK
