"""Speed figures for a task, printed as JSON. Speed is measured here, not in timed tests.

    python -m models.benchmark digits [--threads 2] [--repeats 3]
    python -m models.benchmark sentiment      # sentences/s in batches, latency, distance to 85%
    python -m models.benchmark speech

Speech: latency of one 1-s clip through the predictor (16 kHz, and 8 kHz with resampling),
log-mel spectrogram included; the bare network beside it; training throughput.

Prints training throughput (images/s, augmentation included), the time to reach
98.5% on the official test set from scratch, and single-image prediction latency
(p50, p95) on a 280×280 RGBA canvas image, preprocessing included. Each figure is
the median of --repeats rounds: on a shared machine single rounds wander.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np
import torch
from PIL import Image

from data.core.errors import DataError
from models import load_predictor
from models.core.checkpoint import CheckpointError
from models.core.cli import THREADS, whole
from models.core.tasks import Splits, train_model
from models.core.trainer import Callback, TrainConfig

FAST = TrainConfig(epochs=12, batch_size=128, lr=4e-3, optimizer="adam", schedule="onecycle", seed=0)


class StopAtAccuracy(Callback):
    """Evaluates on the test set after each epoch (off the clock) and stops at the target."""

    def __init__(self, test, target: float):
        self.test, self.target = test, target
        self.train_seconds, self.reached = 0.0, None
        self.t = 0.0

    def on_epoch_start(self, t) -> None:
        self.t = time.perf_counter()

    def on_epoch_end(self, t) -> None:
        self.train_seconds += time.perf_counter() - self.t
        acc = t.evaluate(self.test)["accuracy"]
        t.history.epochs[-1]["test_accuracy"] = acc
        if acc >= self.target and self.reached is None:
            self.reached = (t.epoch, self.train_seconds, acc)
            t.request_stop(f"reached {acc:.4f}")


def say(what: str) -> None:
    """A run takes minutes: each phase is announced on stderr, so stdout stays the JSON alone."""
    print(f"benchmark: {what}…", file=sys.stderr, flush=True)


def canvas_image(x28: np.ndarray) -> np.ndarray:
    """An MNIST digit drawn as the canvas sends it: 280×280 RGBA, white on black."""
    big = np.asarray(Image.fromarray((x28 * 255).astype(np.uint8)).resize((280, 280), Image.BILINEAR))
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., :3] = big[..., None]
    rgba[..., 3] = 255
    return rgba


def latency(fn, items, n: int, repeats: int) -> tuple[float, float]:
    """(p50, p95) in ms: the median of `repeats` rounds of `n` calls."""
    for item in items[:10]:
        fn(item)
    rounds = []
    for _ in range(repeats):
        lat = []
        for i in range(n):
            t0 = time.perf_counter()
            fn(items[i % len(items)])
            lat.append((time.perf_counter() - t0) * 1000)
        rounds.append((np.percentile(lat, 50), np.percentile(lat, 95)))
    return round(statistics.median(r[0] for r in rounds), 3), round(statistics.median(r[1] for r in rounds), 3)


def train_rate(task, splits, batches: int, repeats: int, **overrides) -> int:
    """Training examples/s of the task's own recipe (augmentation included) over `batches`
    batches: the median of `repeats` runs."""
    rates = []
    for r in range(repeats):
        cfg = TrainConfig.from_dict({**task.default_config().to_dict(), "max_batches": batches, "seed": r,
                                     **overrides})
        run = train_model(task, splits, cfg, test_eval=False)
        rates.append(batches * cfg.batch_size / run.result.seconds)
    return round(statistics.median(rates))


def digits(args) -> dict:
    from models.digits.task import TASK
    splits = TASK.load_splits(args.data)
    out: dict = {"threads": torch.get_num_threads(), "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY")}

    # training throughput: a few hundred batches of the shipped recipe (augmentation included)
    say(f"training throughput, {args.repeats} runs of 150 batches")
    out["train_images_per_s"] = train_rate(TASK, splits, 150, args.repeats)

    # time to 98.5% from scratch
    times = []
    say("time to 98.5% test accuracy from scratch")
    for r in range(args.repeats if args.full else 1):
        stop = StopAtAccuracy(splits.test, 0.985)
        cfg = TrainConfig.from_dict({**FAST.to_dict(), "seed": r})
        train_model(TASK, splits, cfg, callbacks=[stop], test_eval=False)
        times.append(stop.reached)
    done = [t for t in times if t]
    out["time_to_98.5_s"] = round(statistics.median(t[1] for t in done), 1) if done else None
    out["time_to_98.5_epochs"] = [t[0] if t else None for t in times]
    out["time_to_98.5_recipe"] = {k: v for k, v in FAST.to_dict().items()
                                  if k in ("epochs", "batch_size", "lr", "optimizer", "schedule")}

    # single-image latency, preprocessing included, on canvas-sized images
    say("latency of one drawing, preprocessing included, and of the bare network")
    pred = load_predictor("digits", args.weights)
    imgs = [canvas_image(splits.test.tensors[0][i, 0].numpy()) for i in range(50)]
    out["latency_ms_p50"], out["latency_ms_p95"] = latency(lambda img: pred.predict([img]), imgs,
                                                           args.latency_n, args.repeats)
    # the peer in the same run: the bare network on a ready 28×28 tensor, no preprocessing
    x = splits.test.tensors[0][:1]
    with torch.inference_mode():
        out["peer_network_only_ms_p50"], _ = latency(lambda _: pred.model(x), [None], args.latency_n, args.repeats)
    return out


def sentiment(args) -> dict:
    """Sentences/s in batches (the SST-2 test set, tokenizing included), one-text latency,
    training sentences/s, and how far the model's SST-2 test accuracy is from 85%."""
    from models.sentiment.task import TASK, official_texts
    from models.sentiment.eval import TARGET, throughput
    pred = load_predictor("sentiment", args.weights)
    texts = official_texts(args.data)["test"].texts
    out: dict = {"threads": torch.get_num_threads(), "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY")}
    say("sentences/s and one text's latency")
    pred.predict(texts[:512])
    out["sentences_per_s"] = round(throughput(pred, texts, args.repeats))
    out["latency_ms_p50"], out["latency_ms_p95"] = latency(lambda t: pred.predict([t]), texts,
                                                           args.latency_n, args.repeats)
    say("training throughput")
    splits = TASK.load_splits(args.data)
    out["train_sentences_per_s"] = train_rate(TASK, splits, 40, args.repeats, early_stopping=0)
    acc = pred.card.get("metrics", {}).get("test_accuracy")
    out["sst2_test_accuracy"] = acc
    out["points_to_85"] = None if acc is None else round(100 * (TARGET - acc), 2)
    return out


def speech(args) -> dict:
    from data.speech.datasets import load_fsdd
    from models.speech.task import TASK, dataset
    fsdd = load_fsdd(args.data)
    pred = load_predictor("speech", args.weights)
    out: dict = {"threads": torch.get_num_threads(), "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY")}
    clips = [fsdd.waves[i].numpy() for i in range(0, len(fsdd), 60)]
    say("latency of one clip, of the bare network and of a 10 s scan")
    out["latency_ms_p50"], out["latency_ms_p95"] = latency(lambda c: pred.predict([(c, 16000)]), clips,
                                                           args.latency_n, args.repeats)
    clips8k = [c[::2].copy() for c in clips]
    out["latency_8khz_input_ms_p50"], _ = latency(lambda c: pred.predict([(c, 8000)]), clips8k,
                                                  args.latency_n, args.repeats)
    x = dataset(fsdd.subset([i < 50 for i in range(len(fsdd))])).tensors[0]
    with torch.inference_mode():
        out["peer_network_only_ms_p50"], _ = latency(lambda i: pred.model(x[i:i + 1]), list(range(50)),
                                                     args.latency_n, args.repeats)
    long = np.concatenate([np.zeros(8000, np.float32), *clips[:8]])
    out["scan_10s_recording_ms_p50"], _ = latency(lambda c: pred.scan(c, 16000), [long], 10, args.repeats)
    # training throughput on FSDD clips, augmentation included
    say("training throughput")
    out["train_clips_per_s"] = train_rate(TASK, Splits(dataset(fsdd), None, None, pred.labels), 100, 1)
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m models.benchmark", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("task", choices=["digits", "sentiment", "speech"])
    p.add_argument("--data", help="data root (default: $BACKPROP_DATA)")
    p.add_argument("--weights", help="checkpoint for the latency figures (default: shipped)")
    p.add_argument("--threads", type=THREADS, default=2)
    p.add_argument("--repeats", type=whole(1, 100), default=3)
    p.add_argument("--full", action="store_true", help="repeat the time-to-accuracy run too (slow)")
    p.add_argument("--latency-n", type=whole(1, 100_000), default=300)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    run = {"digits": digits, "sentiment": sentiment, "speech": speech}[args.task]
    try:
        load_predictor(args.task, args.weights)     # a wrong --weights is said at once, not after minutes
        print(json.dumps(run(args), indent=2))
    except (DataError, CheckpointError, ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
