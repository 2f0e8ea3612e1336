"""Where datasets are found, and where unpacked copies are cached.

The data root is, in order: the `--data` option (passed in as `override`), the
BACKPROP_DATA environment variable, or ~/.cache/backprop-showcase/datasets.
Tests and CI point it at ../shared/datasets, which is read-only: anything that
must be unpacked goes to the cache directory instead (BACKPROP_CACHE), and so do
downloads (data.core.download), into the default data root, where loaders look
next (`find`).
"""
from __future__ import annotations

import os
from pathlib import Path

ENV_DATA = "BACKPROP_DATA"
ENV_CACHE = "BACKPROP_CACHE"


def cache_dir(*parts: str) -> Path:
    base = Path(os.environ.get(ENV_CACHE) or Path.home() / ".cache" / "backprop-showcase")
    p = base.joinpath(*parts)
    p.mkdir(parents=True, exist_ok=True)
    return p


def data_root(override: str | os.PathLike | None = None) -> Path:
    if override:
        return Path(override).expanduser()
    env = os.environ.get(ENV_DATA)
    if env:
        return Path(env).expanduser()
    return cache_dir("datasets")


def downloads_root() -> Path:
    """Where downloads go when the data root cannot be written: the default data root."""
    return cache_dir("datasets")


def roots(override: str | os.PathLike | None = None) -> list[Path]:
    """Where loaders look for a dataset: the data root, then the downloads folder."""
    first, second = data_root(override), downloads_root()
    return [first] if first.resolve() == second.resolve() else [first, second]


def find(override: str | os.PathLike | None, *parts: str) -> Path:
    """<root>/parts in the first root that has it, else under the data root (for the message)."""
    for base in roots(override):
        if base.joinpath(*parts).exists():
            return base.joinpath(*parts)
    return data_root(override).joinpath(*parts)
