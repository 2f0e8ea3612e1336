"""Where datasets are found, and where unpacked copies are cached.

The data root is, in order: the `--data` option (passed in as `override`), the
BACKPROP_DATA environment variable, or ~/.cache/backprop-showcase/datasets.
Tests and CI point it at ../shared/datasets, which is read-only: anything that
must be unpacked goes to the cache directory instead (BACKPROP_CACHE).
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
