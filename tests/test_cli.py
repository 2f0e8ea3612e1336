"""The command line: train, evaluate and predict without the UI; DDP under torchrun."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import ROOT, needs_mnist


def run(*args, timeout=300):
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONUNBUFFERED": "1"})


def digit_png(path: Path, kind: str):
    a = np.zeros((120, 120), np.uint8)
    if kind == "bar":
        a[15:105, 50:70] = 255                # a '1'
    else:
        a[20:100, 20:100] = 255               # a filled square: another class
        a[40:80, 40:80] = 0
    Image.fromarray(255 - a).save(path)        # dark on light, like paper


@pytest.fixture
def folders(tmp_path):
    for kind in ("bar", "ring"):
        d = tmp_path / "data" / kind
        d.mkdir(parents=True)
        for i in range(6):
            digit_png(d / f"{i}.png", kind)
    (tmp_path / "data" / "ring" / "bad.png").write_bytes(b"oops")
    return tmp_path / "data"


def test_train_evaluate_predict_on_your_own_folders(tmp_path, folders):
    out = tmp_path / "mine"
    r = run("-m", "models.train", "digits", "--custom", str(folders), "--init", "shipped", "--epochs", "3",
            "--lr", "0.003", "--batch-size", "8", "--out", str(out))
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["status"] == "completed"
    assert "skipped ring/bad.png" in r.stderr and "'bar': 6" in r.stderr and "no validation" not in r.stderr
    assert (tmp_path / "mine.safetensors").exists() and (tmp_path / "mine.train.pt").exists()
    card = json.loads((tmp_path / "mine.json").read_text())
    assert card["labels"] == ["bar", "ring"] and card["task"] == "digits"
    assert card["hyperparameters"]["epochs"] == 3 and card["data"]["classes"] == ["bar", "ring"]

    r = run("-m", "models.evaluate", "digits", "--weights", str(out), "--custom", str(folders))
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["n"] == 12 and result["accuracy"] == 1.0, (summary, result)

    digit_png(tmp_path / "one.png", "bar")
    (tmp_path / "broken.png").write_bytes(b"nope")
    r = run("-m", "models.predict", "digits", str(tmp_path / "one.png"), str(tmp_path / "broken.png"),
            "--weights", str(out))
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    assert r.returncode == 1
    assert lines[0]["label"] == "bar" and "not an image" in lines[1]["error"]


def test_without_epochs_a_small_data_set_gets_enough_updates(tmp_path, folders):
    r = run("-m", "models.train", "digits", "--custom", str(folders), "--init", "shipped", "--out", str(tmp_path / "m"))
    assert r.returncode == 0, r.stderr
    card = json.loads((tmp_path / "m.json").read_text())
    assert card["hyperparameters"]["epochs"] == 60      # 10 images, one batch an epoch: 60 updates
    assert card["metrics"]["val_accuracy"] == 1.0


def test_one_example_a_class_trains_and_says_nothing_was_held_out(tmp_path):
    for kind in ("bar", "ring"):
        (tmp_path / "two" / kind).mkdir(parents=True)
        digit_png(tmp_path / "two" / kind / "0.png", kind)
    r = run("-m", "models.train", "digits", "--custom", str(tmp_path / "two"), "--epochs", "1",
            "--out", str(tmp_path / "m"))
    assert r.returncode == 0, r.stderr
    assert "no validation examples (too few of each class to hold one out)" in r.stderr
    r = run("-m", "models.train", "digits", "--custom", str(tmp_path / "two"), "--epochs", "1", "--out",
            str(tmp_path / "m2"), "--val-fraction", "0.5")
    assert "no validation examples" in r.stderr


def test_cli_errors_are_messages_not_tracebacks(tmp_path, folders):
    (folders / "ring").rename(tmp_path / "elsewhere")
    r = run("-m", "models.train", "digits", "--custom", str(folders), "--out", str(tmp_path / "x"))
    assert r.returncode == 2 and "error: Need at least two class folders" in r.stderr
    assert "Traceback" not in r.stderr
    r = run("-m", "models.evaluate", "digits", "--weights", str(tmp_path / "missing"))
    assert r.returncode == 2 and "error: No weights" in r.stderr and "Traceback" not in r.stderr
    env_root = tmp_path / "empty-root"
    r = run("-m", "models.evaluate", "digits", "--data", str(env_root))
    assert r.returncode == 2 and "MNIST is missing" in r.stderr and "Traceback" not in r.stderr


@needs_mnist
def test_train_on_mnist_a_few_batches(tmp_path):
    r = run("-m", "models.train", "digits", "--max-batches", "5", "--out", str(tmp_path / "m"))
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["status"] == "batch_limit"


def torchrun(*args):
    return run("-m", "torch.distributed.run", "--nproc_per_node=2", "--master_port=0", "--rdzv_backend=c10d",
               "--rdzv_endpoint=127.0.0.1:0", *args)


def test_ddp_two_processes_end_with_identical_weights(tmp_path):
    r = torchrun(str(ROOT / "tests" / "ddp_worker.py"), str(tmp_path))
    assert r.returncode == 0, r.stderr[-3000:]
    a, b = (torch.load(tmp_path / f"rank{i}.pt", weights_only=True) for i in (0, 1))
    for k in a["state"]:
        assert torch.equal(a["state"][k], b["state"][k]), k
    # each rank trained on its half of the data: 256 / 2 / 16 = 8 batches an epoch, 3 epochs
    assert a["batches"] == b["batches"] == 24
    val = {k: v for k, v in a["val"].items() if k.startswith("val_")}
    assert val == {k: v for k, v in b["val"].items() if k.startswith("val_")}   # all-reduced across ranks
    assert a["val"]["val_accuracy"] > 0.9


def test_one_ranks_nan_stops_every_rank_together(tmp_path):
    """Rank 1 alone meets a NaN loss: both ranks end "diverged" at the same step, with the same
    restored weights, instead of rank 0 waiting forever for rank 1's gradients."""
    r = torchrun(str(ROOT / "tests" / "ddp_worker.py"), str(tmp_path), "nan")
    assert r.returncode == 0, r.stderr[-3000:]
    a, b = (torch.load(tmp_path / f"rank{i}.pt", weights_only=True) for i in (0, 1))
    assert a["status"] == b["status"] == "diverged"
    assert a["batches"] == b["batches"] == 4            # the four good steps before the bad one
    for k in a["state"]:
        assert torch.equal(a["state"][k], b["state"][k]), k
        assert torch.isfinite(a["state"][k]).all(), k


@needs_mnist
def test_the_training_command_runs_under_torchrun(tmp_path):
    r = torchrun("-m", "models.train", "digits", "--max-batches", "3", "--out", str(tmp_path / "ddp"))
    assert r.returncode == 0, r.stderr[-3000:]
    assert json.loads(r.stdout)["status"] == "batch_limit"       # printed once, by rank 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ddp.json", "ddp.safetensors", "ddp.train.pt"]


# ---- a good model is never lost -----------------------------------------------------------
def fingerprint(paths) -> dict:
    import hashlib
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths if p.exists()}


def test_the_shipped_model_is_never_a_training_output_by_accident(tmp_path):
    shipped = list((ROOT / "models" / "weights").glob("digits.*"))
    before = fingerprint(shipped)
    r = run("-m", "models.train", "digits", "--max-batches", "3", "--out", "models/weights/digits")
    assert r.returncode == 2 and "is the shipped model" in r.stderr and "--replace-shipped" in r.stderr
    assert "Traceback" not in r.stderr and fingerprint(shipped) == before


@pytest.mark.parametrize("args, message", [
    (["--epochs", "0"], "--epochs must be 1 or more"), (["--val-fraction", "1.5"], "--val-fraction must be"),
    (["--batch-size", "0"], "--batch-size must be 1 or more"), (["--lr", "nan"], "--lr must be a finite"),
])
def test_training_on_nothing_is_refused_before_it_starts(args, message, tmp_path):
    r = run("-m", "models.train", "digits", "--out", str(tmp_path / "m"), *args)
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr
    assert not list(tmp_path.iterdir())


def test_a_diverged_or_worse_run_never_replaces_a_better_checkpoint(tmp_path, folders):
    out = tmp_path / "mine"
    common = ["-m", "models.train", "digits", "--custom", str(folders), "--batch-size", "8", "--out", str(out)]
    r = run(*common, "--init", "shipped", "--epochs", "3", "--lr", "0.003")
    assert r.returncode == 0 and json.loads(r.stdout)["saved"], r.stderr
    good = fingerprint(tmp_path.glob("mine.*"))
    # a learning rate that blows up: reported, and nothing written
    r = run(*common, "--lr", "1e6", "--epochs", "3", "--optimizer", "sgd")
    assert r.returncode == 1 and json.loads(r.stdout)["status"] == "diverged"
    assert "not saved: the run diverged" in r.stderr and fingerprint(tmp_path.glob("mine.*")) == good
    # two batches from scratch: a worse validation figure than the checkpoint there
    r = run(*common, "--max-batches", "1", "--lr", "1e-5")
    summary = json.loads(r.stdout)
    assert r.returncode == 0 and not summary["saved"] and "is worse than the checkpoint already" in r.stderr
    assert fingerprint(tmp_path.glob("mine.*")) == good
    r = run(*common, "--max-batches", "1", "--lr", "1e-5", "--overwrite")
    assert json.loads(r.stdout)["saved"] and fingerprint(tmp_path.glob("mine.*")) != good


def test_a_checkpoint_set_from_two_saves_is_refused(tmp_path, monkeypatch):
    """The card is written last and names its files' hashes: a save cut off after the weights (a
    full disk) leaves a set that loading and resuming refuse, instead of mixing two runs."""
    import torch.nn as nn
    from models.core import checkpoint as ck
    model = nn.Linear(2, 2)
    ck.save_checkpoint(tmp_path / "m", model, {"task": "t"}, {"step": 1})
    ck.load_checkpoint(tmp_path / "m")
    assert ck.load_trainer_state(tmp_path / "m") == {"step": 1}
    real = ck._atomic_write

    def full_disk(path, data):
        if path.suffix == ".json":
            raise OSError(28, "No space left on device")
        real(path, data)

    monkeypatch.setattr(ck, "_atomic_write", full_disk)
    with torch.no_grad():
        model.weight += 1
    with pytest.raises(OSError):
        ck.save_checkpoint(tmp_path / "m", model, {"task": "t"}, {"step": 2})
    with pytest.raises(ck.CheckpointError, match="not the file its model card was saved with"):
        ck.load_checkpoint(tmp_path / "m")
    with pytest.raises(ck.CheckpointError, match="not the file its model card was saved with"):
        ck.load_trainer_state(tmp_path / "m")
