"""How much data backprop needs: LeNet-5 trained on 100 to 9,000 MNIST images, tested
on the official 10,000-image test set (a learning curve).

The larger sizes take minutes on a CPU, so they are computed once by this command
and shipped as a small JSON file the Lab reads; the small ones train live.

    python -m models.lab.learning_curve --data ../shared/datasets
    python -m models.lab.learning_curve --sizes 100 300 --seeds 0 --out /tmp/curve.json

The recipe is the same for every size, so that only the amount of data differs:
batch 32, Adam at 1e-3 decayed to 0 by a cosine (so that the last weights are
settled, not caught mid-step), no augmentation, and max(400 weight updates,
10 epochs). The 400-update floor keeps the small sets from being undertrained (100
images get 100 epochs); the 10 epochs give the large ones enough passes. A seed
picks both the training images (the first n of a seeded shuffle of the training
pool, so that for one seed each set contains the smaller ones) and the starting
weights. Train accuracy is measured at the end, in evaluation mode, on the
images trained on; the gap is train minus test accuracy.
"""
from __future__ import annotations

import argparse
import datetime
import json
import math
import sys
import time
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch.utils.data import TensorDataset

from data.core.errors import DataError
from data.core.root import data_root
from data.digits.mnist import mnist_floats
from models.core.callbacks import Callback
from models.core.trainer import TrainConfig, Trainer
from models.digits.net import LeNet5

SHIPPED = Path(__file__).with_name("learning_curve.json")
SIZES = (100, 300, 1000, 3000, 9000)
SEEDS = (0, 1, 2)
BATCH, LR, MIN_UPDATES, MIN_EPOCHS = 32, 1e-3, 400, 10
RECIPE = (f"LeNet-5 (models/digits/net.py), batch {BATCH}, Adam lr {LR:g} with cosine decay, no augmentation, "
          f"max({MIN_UPDATES} weight updates, {MIN_EPOCHS} epochs) for every size; the first n images of a "
          "seeded shuffle of the training pool; tested on the official 10,000-image MNIST test set")


def mnist(root: str | None = None) -> tuple[TensorDataset, TensorDataset]:
    """(training pool, official test set) as [0, 1] floats N×1×28×28. Never downloads:
    a missing copy raises DatasetMissing with a message saying where it should be."""
    return _mnist(str(data_root(root)))


@lru_cache(maxsize=2)     # keyed by the resolved root: BACKPROP_DATA may change between calls
def _mnist(root: str) -> tuple[TensorDataset, TensorDataset]:
    return (TensorDataset(*mnist_floats("train", root, download=False)),
            TensorDataset(*mnist_floats("test", root, download=False)))


def subset(pool: TensorDataset, n: int, seed: int) -> TensorDataset:
    x, y = pool.tensors
    if not 1 <= n <= len(y):
        raise DataError(f"a training set of {n} images: the pool has {len(y)}")
    idx = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))[:n]
    return TensorDataset(x[idx], y[idx])


def epochs_for(n: int) -> int:
    per_epoch = math.ceil(n / BATCH)
    return max(MIN_EPOCHS, math.ceil(MIN_UPDATES / per_epoch))


def train_point(n: int, seed: int = 0, root: str | None = None, callbacks: Sequence[Callback] = (),
                test_size: int | None = None) -> dict:
    """One point of the curve: LeNet-5 trained on n images. test_size: only the first
    test_size test images (the tests' shortcut); None, the whole official test set."""
    pool, test = mnist(root)
    train = subset(pool, n, seed)
    if test_size:
        test = TensorDataset(*(t[:test_size] for t in test.tensors))
    torch.manual_seed(seed)
    model = LeNet5()
    cfg = TrainConfig(epochs=epochs_for(n), batch_size=BATCH, lr=LR, optimizer="adam", schedule="cosine",
                      seed=seed, device="cpu", track_grad_norms=False, sync_every=50)
    trainer = Trainer(model, config=cfg, callbacks=list(callbacks))
    result = trainer.fit(train)
    tr, te = trainer.evaluate(train), trainer.evaluate(test)
    return {"size": n, "seed": seed, "status": str(result.status), "updates": trainer.step,
            "epochs": result.epochs_done, "seconds": round(result.seconds, 2),
            "train_accuracy": tr["accuracy"], "test_accuracy": te["accuracy"],
            "train_loss": tr["loss"], "test_loss": te["loss"], "test_images": len(test)}


def summarise(points: list[dict]) -> list[dict]:
    """Mean and spread over seeds, one row per size, smallest first."""
    rows = []
    for n in sorted({p["size"] for p in points}):
        ps = [p for p in points if p["size"] == n]
        tr, te = np.array([p["train_accuracy"] for p in ps]), np.array([p["test_accuracy"] for p in ps])
        rows.append({"size": n, "seeds": len(ps), "train_accuracy": float(tr.mean()),
                     "test_accuracy": float(te.mean()), "test_accuracy_std": float(te.std()),
                     "gap": float((tr - te).mean())})
    return rows


def load_shipped(path: Path = SHIPPED) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m models.lab.learning_curve", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", help="data root holding mnist/MNIST/raw (default: BACKPROP_DATA)")
    p.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    p.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    p.add_argument("--out", type=Path, default=SHIPPED)
    p.add_argument("--threads", type=int, help="torch.set_num_threads")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    from tqdm.auto import tqdm
    t0, points = time.perf_counter(), []
    try:
        mnist(args.data)
        jobs = [(n, s) for n in sorted(args.sizes) for s in args.seeds]
        for n, seed in (bar := tqdm(jobs, unit="run", file=sys.stderr)):
            bar.set_description(f"{n} images, seed {seed}")
            points.append(train_point(n, seed, args.data))
            bar.set_postfix(test=f"{points[-1]['test_accuracy']:.3f}")
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    out = {"recipe": RECIPE, "batch_size": BATCH, "lr": LR, "min_updates": MIN_UPDATES, "min_epochs": MIN_EPOCHS,
           "sizes": sorted(args.sizes), "seeds": list(args.seeds), "summary": summarise(points), "points": points,
           "date": datetime.date.today().isoformat(), "torch": torch.__version__,
           "threads": torch.get_num_threads(), "seconds": round(time.perf_counter() - t0, 1)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    for r in out["summary"]:
        print(f"{r['size']:>6} images: train {r['train_accuracy']:.3f}  test {r['test_accuracy']:.3f}"
              f" ± {r['test_accuracy_std']:.3f}  gap {r['gap']:.3f}")
    print(f"wrote {args.out} in {out['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
