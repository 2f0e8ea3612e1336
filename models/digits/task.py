"""The Digits task: LeNet-5 on MNIST, or on a user's own class folders of images."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch.utils.data import TensorDataset

from data.digits.augment import DigitAugment
from data.core.class_folders import Budget, LoadedClasses, check_examples, load, unzipped
from data.core.errors import DataError
from data.core.uploads import read_file
from data.digits.images import MAX_IMAGE_BYTES, image_pixels, read_image, to_mnist
from data.digits.mnist import mnist_floats
from models.digits.net import LeNet5
from models.core.predictor import Predictor
from models.core.tasks import Splits, Task, splits_from_examples  # noqa: F401  (re-exported)
from models.core.trainer import TrainConfig

IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
DIGITS = [str(d) for d in range(10)]


class DigitsPredictor(Predictor):
    """Items are PIL images or uint8 arrays (H×W, H×W×3, H×W×4) of any size and polarity."""

    def prepare(self, item) -> torch.Tensor:
        return torch.from_numpy(to_mnist(item)).unsqueeze(0)

    def explain(self, item) -> dict:
        """What the network sees: its 28×28 input, the C1 and C3 feature maps, the
        probabilities, and a saliency map: d(score of the predicted class)/d(pixel),
        computed by backprop through the trained network."""
        x = self.prepare(item).unsqueeze(0).requires_grad_(True)
        with torch.enable_grad():
            feats = self.model.features(x)
            scores = feats["output"][0]
            label = int(scores.argmax())
            # autograd.grad, not backward(): the shared model's .grad fields stay untouched
            (saliency,) = torch.autograd.grad(scores[label], x)
        probs = torch.softmax(scores.detach(), 0)
        return {"input": x.detach()[0, 0].numpy(),
                "c1": feats["c1"].detach()[0].numpy(), "c3": feats["c3"].detach()[0].numpy(),
                "saliency": saliency[0, 0].abs().numpy(),
                "label": self.labels[label], "probs": dict(zip(self.labels, probs.tolist()))}


class DigitsTask(Task):
    name = "digits"
    title = "Digits"
    predictor_class = DigitsPredictor
    probe_item = np.pad(np.full((20, 4), 255, np.uint8), ((4, 4), (12, 12)))     # a "1"

    def build_model(self, labels: Sequence[str] = DIGITS, **arch) -> LeNet5:
        arch = {**arch, "num_classes": len(labels)}
        return LeNet5(**arch)

    def default_config(self) -> TrainConfig:
        # the shipped model's recipe (see models/weights/digits.json for its figures)
        return TrainConfig(epochs=40, batch_size=64, lr=3e-3, optimizer="adam", schedule="onecycle")

    def batch_transform(self, augment: bool = True, splits: Splits | None = None):
        return DigitAugment(elastic=2.0) if augment else None

    def preprocessing(self) -> dict:
        return {"input": "grey 28x28 in [0,1], strokes bright on black",
                "steps": ["find the ink in either polarity", "crop to the strokes",
                          "scale into a 20x20 box keeping the aspect ratio",
                          "centre by centre of mass in 28x28 (as MNIST was made)"],
                "normalisation": "inside the model: (x - 0.1307) / 0.3081"}

    def load_splits(self, root=None, val_fraction: float = 0.1, seed: int = 0) -> Splits:
        """MNIST: the training images (the shared copy has 10k of them), split into
        train and validation, and the official 10k test set."""
        x, ys = mnist_floats("train", root)
        xt, yt = mnist_floats("test", root)
        n_val = int(len(x) * val_fraction)
        order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
        val, tr = order[:n_val], order[n_val:]
        provenance = {"dataset": "MNIST", "source": "data root mnist/MNIST/raw (torchvision datasets.MNIST)",
                      "train": len(tr), "val": len(val), "test": len(xt),
                      "split": f"validation = {val_fraction:.0%} of the training images, seed {seed}"}
        return Splits(TensorDataset(x[tr], ys[tr]), TensorDataset(x[val], ys[val]) if n_val else None,
                      TensorDataset(xt, yt), DIGITS, provenance)


    def read_input(self, path: Path):
        """A file given to the command line -> an item for the predictor."""
        return read_image(read_file(path, MAX_IMAGE_BYTES, "an image of at most 10 MB, as the app takes"))

    def load_custom(self, path: str | Path, val_fraction: float = 0.2, seed: int = 0,
                    mix_with: Splits | None = None) -> tuple[Splits, LoadedClasses]:
        """A folder or .zip of class folders of images -> splits, and what was read or skipped."""
        path = Path(path)
        if path.is_file():
            with unzipped(path) as folder:       # read into memory, then the folder goes
                found = load_image_folders(folder)
        else:
            found = load_image_folders(path)
        return splits_from_examples(found.items, found.targets, found.classes, val_fraction, seed,
                                    source=f"custom images ({len(found.items)} from {len(found.classes)} folders)",
                                    mix_with=mix_with), found


    def examples_to_splits(self, examples: Sequence[tuple[np.ndarray, str]], mix_with: Splits | None = None,
                           seed: int = 0) -> Splits:
        """Examples collected in the app: (28×28 image, label) pairs."""
        labels = [label for _, label in examples]
        classes = check_examples(labels)
        return splits_from_examples([x for x, _ in examples], [classes.index(c) for c in labels], classes,
                                    seed=seed, source=f"{len(examples)} drawings made in the app",
                                    mix_with=mix_with)


def read_digit_file(path: Path) -> np.ndarray:
    return to_mnist(read_image(read_file(path, MAX_IMAGE_BYTES, "images of at most 10 MB")))


# pixels decoded over a whole upload: 1,600 twelve-megapixel photos. Each image is bounded (40 MP), but
# 50,000 PNGs of 10 KB that are each 40 MP of one bit (0.13 s to decode) would have taken 107 minutes.
MAX_TRAINING_PIXELS = 20_000_000_000
TRAINING_BUDGET = Budget(image_pixels, MAX_TRAINING_PIXELS, lambda total: (
    f"These images hold over {total / 1e9:,.0f} billion pixels; one training run decodes at most "
    f"{MAX_TRAINING_PIXELS / 1e9:,.0f} billion. A digit needs no more than a few hundred pixels a side: "
    "shrink the pictures first."))


def load_image_folders(root: str | Path) -> LoadedClasses:
    """A user's class folders of images, each preprocessed as MNIST was made."""
    return load(root, IMAGE_EXTENSIONS, read_digit_file, TRAINING_BUDGET)


TASK = DigitsTask()
