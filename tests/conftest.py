import os
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "datasets"

# Tests read real data from ../shared/datasets unless BACKPROP_DATA says otherwise,
# and unpack into a cache of their own so they never write to a user's.
os.environ.setdefault("BACKPROP_DATA", str(SHARED))
os.environ.setdefault("BACKPROP_CACHE", str(ROOT / ".cache"))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
torch.set_num_threads(min(2, os.cpu_count() or 1))


def have_mnist() -> bool:
    raw = Path(os.environ["BACKPROP_DATA"]) / "mnist" / "MNIST" / "raw"
    return (raw / "t10k-images-idx3-ubyte.gz").exists() or (raw / "t10k-images-idx3-ubyte").exists()


needs_mnist = pytest.mark.skipif(not have_mnist(), reason="MNIST not under BACKPROP_DATA")


@pytest.fixture(scope="session")
def digit_splits():
    from models.digits import TASK
    return TASK.load_splits()
