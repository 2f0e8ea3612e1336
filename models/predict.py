"""Predict from the command line: one JSON line per input file.

    python -m models.predict digits my_seven.png photo_of_a_three.jpg [--weights runs/mine]
    python -m models.predict speech yes.wav sentence.flac     # a longer recording: its keywords, with times
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from data.core.errors import DataError
from models.core.checkpoint import CheckpointError
from models import TASK_MODULES, get_task, load_predictor


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m models.predict", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("task", choices=sorted(TASK_MODULES))
    p.add_argument("inputs", nargs="+", help="files to classify")
    p.add_argument("--weights", help="checkpoint path (default: the shipped model)")
    p.add_argument("--top", type=int, default=3)
    args = p.parse_args(argv)
    try:
        pred = load_predictor(args.task, args.weights)
    except (CheckpointError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    task, failed = get_task(args.task), 0
    for name in args.inputs:
        try:
            item = task.read_input(Path(name))
            if hasattr(pred, "correct_text"):            # Typos: a file is a text, corrected word by word
                fixed = pred.correct_text(item)
                out = {"text": fixed["text"], "changes": fixed["changes"]}
            elif hasattr(pred, "hear"):                  # Speech: one answer, a longer recording's keywords
                out = pred.hear(*item, k=args.top)
                out.pop("windows", None)
            else:
                out = pred.predict([item], k=args.top)[0]
            print(json.dumps({"input": name, **out}, allow_nan=False))   # standard JSON: never NaN
        except (DataError, OSError, ValueError) as e:     # ValueError: a non-finite answer, never printed
            failed += 1
            print(json.dumps({"input": name, "error": str(e)}))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
