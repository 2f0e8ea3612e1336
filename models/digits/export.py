"""What an ONNX copy of LeNet-5 takes, and what its caller must do first (models/core/export.py)."""
from __future__ import annotations

import torch

from models.core.export import ExportSpec
from models.digits.net import MNIST_MEAN, MNIST_STD


def export_spec(model, card: dict) -> ExportSpec:
    g = torch.Generator().manual_seed(0)
    # the command checks the file on these; tests/test_export.py adds real MNIST test digits
    samples = [(torch.rand(4, 1, 28, 28, generator=g),), (torch.zeros(1, 1, 28, 28),),
               ((torch.rand(3, 1, 28, 28, generator=g) > 0.8).float(),)]
    return ExportSpec(
        module=model, names=["image"], example=(torch.rand(2, 1, 28, 28, generator=g),),
        dynamic={"image": {0: "batch"}}, samples=samples,
        meaning={"image": "float32 (batch, 1, 28, 28): grey pixels in [0, 1], the digit white (1) on black (0)"},
        output=f"one score per label ({len(card['labels'])}); softmax over them gives the probabilities",
        caller_must={
            "summary": "a 28x28 grey image in [0, 1], white digit on black, scaled and centred as MNIST was",
            "steps": ["grey = 0.299 R + 0.587 G + 0.114 B, in [0, 1] (pixel / 255)",
                      "if the background (the median of the border pixels) is light, invert: grey = 1 - grey; "
                      "then subtract the background and divide by (1 - background), clipping below 0",
                      "divide by the brightest pixel; crop to the pixels above 0.2",
                      "resize (Lanczos) so that the longer side is 20 pixels, keeping the aspect ratio",
                      "paste into a black 28x28 field so that its centre of mass sits at (13.5, 13.5)"],
            "scaling": "pixel / 255, so ink is 1.0 and background 0.0",
            "normalisation": f"none by the caller: the network computes (x - {MNIST_MEAN}) / {MNIST_STD} itself",
            "reference": "data.digits.images.to_mnist in this project does exactly this"})
