"""Train a task's network from the command line, with the same trainer and
checkpoint format as the apps.

    python -m models.train digits --out runs/digits
    python -m models.train digits --custom my_digits.zip --init shipped --out runs/mine
    torchrun --nproc_per_node=2 -m models.train digits --out runs/ddp     # DistributedDataParallel
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import torch
import torch.distributed as dist

from data.core.errors import DataError
from models.core.checkpoint import CheckpointError, finite, is_shipped, stem
from models import TASK_MODULES, get_task, load_predictor
from models.core.tasks import epochs_for, fine_tuned_from, train_model
from models.core.trainer import ProgressBar, TrainConfig


def config_arguments(p: argparse.ArgumentParser) -> None:
    d = TrainConfig()
    p.add_argument("--epochs", type=int,
                   help="default: the task's, or more for a small data set (at least 60 weight updates)")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--optimizer", choices=["adam", "sgd"])
    p.add_argument("--momentum", type=float)
    p.add_argument("--weight-decay", type=float)
    p.add_argument("--schedule", choices=["constant", "step", "cosine", "onecycle"])
    p.add_argument("--clip-grad-norm", type=float)
    p.add_argument("--early-stopping", type=int, help="patience in epochs on the validation loss")
    p.add_argument("--ema", type=float, help="decay of a moving average of the weights (e.g. 0.999; 0 = off)")
    p.add_argument("--adversarial", type=float, metavar="EPS",
                   help="adversarial training: the loss also at token vectors moved EPS against the model "
                        "(sentiment; e.g. 1.0; 0 = off)")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--device", default=d.device, help="auto, cpu, cuda, cuda:1 ...")
    p.add_argument("--threads", type=int, help="torch.set_num_threads")
    p.add_argument("--max-batches", type=int, help="stop after this many batches (smoke runs)")


def build_config(task, args) -> TrainConfig:
    cfg = task.default_config().to_dict()
    for key in list(cfg):
        value = getattr(args, key, None)
        if value is not None:
            cfg[key] = value
    return TrainConfig.from_dict(cfg)


def setup_distributed(args) -> None:
    """Under torchrun: one process per rank, gloo on CPU, nccl on GPUs."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return
    use_cuda = torch.cuda.is_available() and args.device in ("auto", "cuda")
    if use_cuda:
        local = int(os.environ.get("LOCAL_RANK", 0))
        torch.cuda.set_device(local)
        args.device = f"cuda:{local}"
    else:
        args.device = "cpu"
    dist.init_process_group("nccl" if use_cuda else "gloo")


def out_problem(out: str) -> str:
    """Why the checkpoint cannot be written at `out` ("" if it can): found out before training, where a
    run on /sys once trained in full and then failed on its temporary file."""
    base = stem(out)
    if Path(out).is_dir() or base.is_dir():
        return f"is a folder; name the checkpoint inside it, e.g. {Path(out) / 'run'}"
    for suffix in ("", ".safetensors", ".json", ".train.pt"):
        f = base.with_name(base.name + suffix)
        if f.exists() and not f.is_file():
            return f"{f} exists and is not a regular file (a folder or a device)"
    folder = base.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        return f"its folder cannot be made ({e.strerror or e})"
    try:                         # the way the save writes: a temporary file beside the checkpoint
        tempfile.TemporaryFile(dir=folder).close()
    except OSError as e:
        return f"its folder {folder} cannot be written ({e.strerror or e})"
    return ""


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m models.train", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("task", choices=sorted(TASK_MODULES))
    p.add_argument("--data", help="data root (default: $BACKPROP_DATA)")
    p.add_argument("--custom", help="your own data: a folder or .zip of class folders (digits, speech), a "
                                    "word list or typo pairs (typos), a CSV/TSV of texts and labels (sentiment)")
    p.add_argument("--mix-official", action="store_true",
                   help="with --custom: also train on the official training data for labels both share")
    p.add_argument("--init", default="none",
                   help="'none' (from scratch), 'shipped' (fine-tune the shipped model) or a checkpoint path")
    p.add_argument("--out", required=True, help="checkpoint path, e.g. runs/digits (writes .safetensors + .json)")
    p.add_argument("--resume", help="continue a run from its checkpoint (needs its .train.pt)")
    p.add_argument("--val-fraction", type=float, default=None, help="share of your data held out, 0 to 0.9")
    p.add_argument("--no-augment", action="store_true")
    p.add_argument("--overwrite", action="store_true",
                   help="write --out even when the checkpoint already there has a better validation figure")
    p.add_argument("--replace-shipped", action="store_true",
                   help="allow --out to be a shipped model (models/weights/TASK): rebuilding it on purpose")
    config_arguments(p)
    args = p.parse_args(argv)
    for name, low, high in (("epochs", 1, 10_000), ("batch_size", 1, 65_536), ("max_batches", 1, None),
                            ("threads", 1, 1024), ("early_stopping", 0, 10_000), ("seed", 0, 2**63 - 1)):
        value = getattr(args, name)
        if value is not None and (value < low or (high is not None and value > high)):
            p.error(f"--{name.replace('_', '-')} must be {low} or more" + (f" and at most {high:,}" if high else "")
                    + f", not {value}")
    for name in ("lr", "weight_decay", "momentum", "clip_grad_norm"):
        value = getattr(args, name)
        if value is None:
            continue
        if not 0 <= value < float("inf") or (name == "lr" and value == 0):   # NaN fails the first test too
            p.error(f"--{name.replace('_', '-')} must be a finite number" + (" above 0" if name == "lr" else
                                                                              ", 0 or more") + f", not {value}")
    if args.val_fraction is not None and not 0 <= args.val_fraction <= 0.9:
        p.error(f"--val-fraction must be between 0 and 0.9, not {args.val_fraction}")
    if is_shipped(args.out) and not args.replace_shipped:
        p.error(f"--out {args.out} is the shipped model: write your run elsewhere (e.g. runs/{args.task}), or add "
                "--replace-shipped to rebuild the shipped model on purpose")
    if problem := out_problem(args.out):     # before minutes of training, not after them
        p.error(f"--out {args.out}: {problem}")
    task = get_task(args.task)
    setup_distributed(args)
    rank0 = not dist.is_initialized() or dist.get_rank() == 0
    try:
        cfg = build_config(task, args)
        if args.custom:
            official = task.load_splits(args.data) if args.mix_official else None
            splits, report = task.load_custom(args.custom, 0.2 if args.val_fraction is None else args.val_fraction,
                                              cfg.seed, mix_with=official)
            if rank0:
                print(f"read {len(report.items)} examples of {len(report.classes)} classes "
                      f"{report.counts()}", file=sys.stderr)
                for f, why in report.skipped:
                    print(f"skipped {f}: {why}", file=sys.stderr)
                if splits.val is None or not len(splits.val):
                    # a class gives one example to validation only when it has two or more
                    print("note: no validation examples (too few of each class to hold one out), so early "
                          "stopping is off and every figure is on the training examples", file=sys.stderr)
        else:
            splits = task.load_splits(args.data, 0.1 if args.val_fraction is None else args.val_fraction, cfg.seed)
        init = init_labels = init_name = None
        if args.init != "none":
            pred = load_predictor(args.task, None if args.init == "shipped" else args.init)
            init, init_labels = pred.model, pred.labels
            init_name = fine_tuned_from("the shipped model" if args.init == "shipped" else args.init, pred.card)
        if args.epochs is None and args.resume is None:   # a small data set of your own needs more epochs
            cfg.epochs = epochs_for(len(splits.train), cfg.batch_size, cfg.epochs)
        run = train_model(task, splits, cfg, init=init, init_labels=init_labels, callbacks=[ProgressBar()],
                          out=args.out, resume=args.resume, augment=not args.no_augment, overwrite=args.overwrite,
                          init_name=init_name)
    except (DataError, CheckpointError, FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        code = 2
    except OSError as e:          # a full disk, a folder that cannot be written
        print(f"error: {e.strerror or e}{': ' + str(e.filename) if e.filename else ''}", file=sys.stderr)
        code = 2
    except KeyboardInterrupt:     # Ctrl-C while the data load (during training the trainer stops cleanly)
        print("interrupted before training started: nothing was written", file=sys.stderr)
        code = 130
    else:
        if rank0:
            print(json.dumps(finite({"status": run.result.status, "message": run.result.message, "out": args.out,
                                     "saved": run.saved, "seconds": round(run.result.seconds, 2),
                                     "metrics": run.card["metrics"]}), indent=2, allow_nan=False))
            if run.save_note:
                print(f"{args.out}: {run.save_note}", file=sys.stderr)
        code = 130 if run.result.interrupted else 0 if run.result.ok else 1
    if dist.is_initialized():
        # rank 0 is still writing the checkpoint when the others get here: tearing the group down
        # under it aborted a rank on CI ("terminate called without an active exception")
        dist.barrier()
        dist.destroy_process_group()
    return code


if __name__ == "__main__":
    sys.exit(main())
