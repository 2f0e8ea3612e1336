"""Evaluate a task's model (the shipped one, or a checkpoint) and print the metrics as JSON.

    python -m models.evaluate digits                      # shipped model, official test set
    python -m models.evaluate digits --weights runs/mine  # a retrained checkpoint
    python -m models.evaluate digits --custom my_digits/  # on your own class folders
    python -m models.evaluate speech                      # held-out speakers (per keyword) and FSDD's test split
    python -m models.evaluate speech --record             # ... and write those figures into the model card
    python -m models.evaluate speech --folds 6            # also leave one FSDD speaker out (trains 6 models)
"""
from __future__ import annotations

import argparse
import json
import sys

from data.core.errors import DataError
from models.core.checkpoint import CheckpointError
from models import TASK_MODULES, get_task, load_predictor
from models.core.evaluation import evaluate_model
from models.core.cli import THREADS, whole


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m models.evaluate", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("task", choices=sorted(TASK_MODULES))
    p.add_argument("--weights", help="checkpoint path (default: the shipped model)")
    p.add_argument("--data", help="data root (default: $BACKPROP_DATA)")
    p.add_argument("--custom", help="evaluate on your own folder or .zip of class folders")
    p.add_argument("--split", default="test", choices=["test", "val"])
    p.add_argument("--mistakes", type=whole(0), default=10, help="how many of the worst mistakes to list")
    p.add_argument("--folds", type=whole(0, 100), default=0,
                   help="speech: also train and test N leave-one-FSDD-speaker-out folds (default 0: none)")
    p.add_argument("--record", action="store_true",
                   help="speech: write the held-out figures into the model card (the app shows them)")
    p.add_argument("--threads", type=THREADS, help="torch.set_num_threads")
    args = p.parse_args(argv)
    task = get_task(args.task)
    if args.threads:
        import torch
        torch.set_num_threads(args.threads)
    try:
        pred = load_predictor(args.task, args.weights)
        if args.custom:
            splits, _ = task.load_custom(args.custom, val_fraction=0.0)
            data, labels = splits.train, splits.labels
            if labels != pred.labels:
                unknown = sorted(set(labels) - set(pred.labels))
                if unknown:
                    raise DataError(f"the model does not know the label(s) {', '.join(unknown)}; "
                                    f"it knows {', '.join(pred.labels)}")
                # re-index the folders' labels to the model's output order
                mapping = [pred.labels.index(c) for c in labels]
                *x, y = data.tensors
                data = type(data)(*x, y.new_tensor(mapping)[y])
        elif args.split == "test" and hasattr(task, "load_test"):
            official(task, pred, task.official_labels)
            data = task.load_test(args.data, pred.labels)    # the test split alone, without the training data
        else:
            splits = task.load_splits(args.data)
            official(task, pred, splits.labels)
            data = splits.test if args.split == "test" else splits.val
        result = evaluate_model(pred.model, data, pred.labels, collate_fn=task.collate_fn)
    except (DataError, CheckpointError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    result["mistakes"] = result["mistakes"][: args.mistakes]
    result["weights"] = args.weights or "shipped"
    if args.task == "speech":
        try:
            speech_report(result, pred, args)
        except DataError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
    print(json.dumps(result, indent=1))
    return 0


def official(task, pred, labels) -> None:
    """A model retrained on labels of its own is not measured on the official set: read against it, a
    1-5 stars model scored SST-2's negative/positive as "1"/"2" (4%), and a taught speech model crashed."""
    if list(pred.labels) != list(labels):
        raise DataError(f"this model says {', '.join(pred.labels[:8])}{', ...' if len(pred.labels) > 8 else ''}, "
                        f"not the official {task.name} labels ({', '.join(labels[:8])}"
                        f"{', ...' if len(labels) > 8 else ''}): evaluate it on your own data with --custom PATH.")


def speech_report(result: dict, pred, args) -> None:
    """Voices never heard: the held-out speakers per keyword, their confusion matrix as a table,
    FSDD's test split; then, if asked, leave one FSDD speaker out (trains one model per fold)."""
    from models.core.checkpoint import record_evaluation, shipped_path
    from models.speech import heldout
    from models.speech.loso import confusion_table, leave_one_speaker_out
    labels = pred.labels
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    log(f"FSDD test split ({result['n']} clips): {result['accuracy']:.2%}")
    log(confusion_table(result["confusion"], labels))
    if not args.custom:
        held = heldout.report(pred, args.data, log=log)
        log(f"held-out speakers: commands {held['commands']:.2%}, digits {held['digits']:.2%}, "
            f"other words called {heldout.UNKNOWN} {held['unknown_rejection']:.2%}, "
            f"background noise called {heldout.SILENCE} {held['silence']:.2%}")
        log(confusion_table(held["confusion"], labels))
        result["held_out"] = held
        if args.record:
            record_evaluation(args.weights or shipped_path("speech"), "held_out", held, heldout.headline(held))
    if args.folds and not args.custom and args.split == "test":
        loso = leave_one_speaker_out(args.data, args.folds, log=log)
        log(f"leave one speaker out, average of {len(loso['folds'])} folds: {loso['average']:.2%}")
        log(confusion_table(loso["confusion"], labels))
        result["leave_one_speaker_out"] = loso


if __name__ == "__main__":
    sys.exit(main())
