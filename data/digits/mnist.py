"""MNIST through torchvision's datasets.MNIST.

The data root holds the original gzipped IDX files under mnist/MNIST/raw/ (the
layout torchvision downloads into). torchvision wants them unzipped, and the
data root may be read-only, so they are gunzipped into the cache. With no copy
the official files are downloaded when online; offline the error names the
missing files and where to put them.
"""
from __future__ import annotations

import gzip
import hashlib
import shutil
from pathlib import Path

import torch

from data.core.errors import DatasetMissing
from data.core.root import cache_dir, data_root

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
    raw = data_root(root) / "mnist" / "MNIST" / "raw"
    # keyed by the data root, so that two roots never share an unpacked copy
    cache = cache_dir("mnist", hashlib.sha1(str(raw.resolve()).encode()).hexdigest()[:10])
    if not _unpack(raw, cache / "MNIST" / "raw"):
        if not download:
            raise DatasetMissing(_missing_message(raw))
        try:
            datasets.MNIST(str(cache), train=split == "train", download=True)
        except Exception as e:
            raise DatasetMissing(_missing_message(raw) + f" Downloading failed too ({type(e).__name__}: {e}).") from e
    ds = datasets.MNIST(str(cache), train=split == "train", download=False)
    return ds.data, ds.targets


def _missing_message(raw: Path) -> str:
    names = ", ".join(n + ".gz" for n in FILES)
    return (f"MNIST is missing: expected {names} in {raw}. Point the data root at a folder that has "
            "mnist/MNIST/raw/ (the --data option or the BACKPROP_DATA variable), or go online once so the "
            "official files can be downloaded (https://yann.lecun.com/exdb/mnist/ and its mirrors).")
