"""What *other words as `_unknown_`* buys a model taught a few words, as the Speech app's
teaching tab makes it:

    python -m models.speech.teach_eval --data ../shared/datasets

Teaches the shipped model "hello" and "banana" from synthetic voices (fine-tuning, as the
app's panel does), with 0, ½, 1, 2 and 3 times as many clips of other words as `_unknown_`,
then asks each model about speech that is none of its words (FSDD's 300 test-split digits,
real people) and about held-out synthetic voices saying the taught words. The app adds three
times as many: the most other speech it rejects while it still names most of its own words
(97% rejected and 96% named, for the model shipped on 2026-12-01).
"""
from __future__ import annotations

import argparse
import json
import sys

from data.core.errors import DataError
from data.speech.audio import SAMPLE_RATE
from data.speech.datasets import FSDD_TEST_TAKES, load_fsdd
from data.speech.synth import other_words, synthesise_clips
from models import load_predictor
from models.speech.task import TASK, UNKNOWN
from models.core.tasks import train_model
from models.core.trainer import TrainConfig

TAUGHT, PER_WORD = ("hello", "banana"), 12


def measure(root=None, ratios=(0.0, 0.5, 1.0, 2.0, 3.0), log=None) -> list[dict]:
    voices = {w: synthesise_clips([w], 2 * PER_WORD) for w in TAUGHT}      # 12 to teach, 12 held out
    taught = [(clip, w) for w in TAUGHT for clip in voices[w][:PER_WORD]]
    held = [(clip, w) for w in TAUGHT for clip in voices[w][PER_WORD:]]
    fsdd = load_fsdd(root)
    others = [(x.numpy(), SAMPLE_RATE) for x, t in zip(fsdd.waves, fsdd.takes) if t in FSDD_TEST_TAKES]
    shipped = load_predictor("speech")
    cfg = TrainConfig.from_dict({**TASK.default_config().to_dict(), "epochs": 10})   # the panel's default
    rows = []
    for ratio in ratios:
        n = int(ratio * len(taught)) // 3 * 3
        unknown = [(c, UNKNOWN) for c in synthesise_clips(other_words(TAUGHT, n // 3), 3)] if n else []
        run = train_model(TASK, TASK.examples_to_splits(taught + unknown), cfg, init=shipped.model,
                          init_labels=shipped.labels, test_eval=False)
        model = TASK.predictor_class(run.model, run.card)
        rejected = sum(o["label"] == UNKNOWN for o in model.predict(others)) / len(others)
        named = sum(o["label"] == w for o, (_, w) in zip(model.predict([c for c, _ in held]), held)) / len(held)
        rows.append({"other_words_clips": n, "ratio": ratio, "real_other_speech_called_unknown": rejected,
                     "held_out_taught_voices_named_right": named})
        if log:
            log(f"{n:3d} clips of other words ({ratio:g}x): {rejected:.0%} of {len(others)} real digits called "
                f"{UNKNOWN}, {named:.0%} of {len(held)} held-out hello/banana voices named right")
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m models.speech.teach_eval", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", help="data root with fsdd/ (default: $BACKPROP_DATA)")
    args = p.parse_args(argv)
    try:
        rows = measure(args.data, log=lambda m: print(m, file=sys.stderr, flush=True))
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
