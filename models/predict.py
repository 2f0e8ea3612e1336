"""Predict from the command line: one JSON line per input file, or per --text.

    python -m models.predict digits my_seven.png photo_of_a_three.jpg [--weights runs/mine]
    python -m models.predict speech yes.wav sentence.flac     # a longer recording: its keywords, with times
    python -m models.predict sentiment review.txt --text "great screen, but the battery dies by noon"
    python -m models.predict typos --text "the sesert was wrold famous"
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from data.core.errors import DataError
from models.core.checkpoint import CheckpointError
from models import TASK_MODULES, get_task, load_predictor
from models.core.cli import whole


TEXT_TASKS = ("sentiment", "typos")


def shown(text: str, width: int = 80) -> str:
    """A --text as its line's "input": the start of it, as a file is named by its path."""
    return text if len(text) <= width else text[:width - 1] + "…"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m models.predict", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("task", choices=sorted(TASK_MODULES))
    p.add_argument("inputs", nargs="*", help="files to classify")
    p.add_argument("--text", action="append", default=[], metavar="TEXT",
                   help="a text to read itself, not a file (sentiment, typos); repeat for more")
    p.add_argument("--weights", help="checkpoint path (default: the shipped model)")
    p.add_argument("--top", type=whole(1), default=3)
    args = p.parse_args(argv)
    if args.text and args.task not in TEXT_TASKS:
        p.error(f"--text is for {' and '.join(TEXT_TASKS)}: {args.task} reads files")
    if not args.inputs and not args.text:
        p.error("give files to classify" + (" or --text" if args.task in TEXT_TASKS else ""))
    try:
        pred = load_predictor(args.task, args.weights)
    except (CheckpointError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    task, failed = get_task(args.task), 0
    inputs = [(name, None) for name in args.inputs] + [(shown(text), text) for text in args.text]
    for name, text in inputs:
        try:
            item = task.read_input(Path(name)) if text is None else text
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
