"""MNIST through torchvision's datasets.MNIST.

The data root holds the original gzipped IDX files under mnist/MNIST/raw/ (the
layout torchvision downloads into). torchvision wants them unzipped, and the
data root may be read-only, so they are gunzipped into the cache. With no copy
the official files are downloaded when online (data.core.download); offline the
error names the missing files and where they were looked for.
"""
from __future__ import annotations

import gzip
import hashlib
import shutil
from pathlib import Path

import torch

from data.core.errors import DatasetMissing
from data.core.root import cache_dir, find

FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte",
         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]


def _unpack(raw: Path, dest: Path) -> bool:
    """Gunzip (or copy) the four IDX files from raw/ into dest/. False if any is missing."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        target = dest / name
        if target.exists() and target.stat().st_size > 0:
            continue
        if (raw / name).exists():
            shutil.copyfile(raw / name, target)
        elif (raw / (name + ".gz")).exists():
            tmp = target.with_suffix(".tmp")
            with gzip.open(raw / (name + ".gz"), "rb") as f, open(tmp, "wb") as out:
                shutil.copyfileobj(f, out)
            tmp.replace(target)
        else:
            return False
    return True


def load_mnist(split: str = "train", root: str | Path | None = None,
               download: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """(images uint8 N×28×28, labels int64 N) for split "train" or "test"."""
    from torchvision import datasets

    if split not in ("train", "test"):
        raise ValueError("split must be 'train' or 'test'")
    raw = find(root, "mnist", "MNIST", "raw")
    if not _unpack(raw, _cache(raw)):
        missing = DatasetMissing(_missing_message(raw), what="MNIST", where=raw, dataset="mnist")
        if not download:
            raise missing
        from data.core.download import DownloadFailed, fetch
        try:
            fetch("mnist", root)
        except DownloadFailed as e:
            raise missing.and_download_failed(e.reason) from None
        raw = find(root, "mnist", "MNIST", "raw")
        _unpack(raw, _cache(raw))
    cache = _cache(raw).parent.parent
    ds = datasets.MNIST(str(cache), train=split == "train", download=False)
    return ds.data, ds.targets


def mnist_floats(split: str = "train", root: str | Path | None = None,
                 download: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """(images as float N×1×28×28 in [0, 1], labels): what LeNet-5 and the Lab train on."""
    x, y = load_mnist(split, root, download)
    return x.float().div(255).unsqueeze(1), y


def _cache(raw: Path) -> Path:
    # keyed by the data root, so that two roots never share an unpacked copy
    return cache_dir("mnist", hashlib.sha1(str(raw.resolve()).encode()).hexdigest()[:10]) / "MNIST" / "raw"


def _missing_message(raw: Path) -> str:
    return f"MNIST is missing: expected {', '.join(n + '.gz' for n in FILES)} in {raw}."
