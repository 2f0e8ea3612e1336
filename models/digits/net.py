"""LeNet-5 (LeCun, Bottou, Bengio & Haffner, 1998), small and readable.

    input 1×28×28 (padded by 2, as the paper's 32×32 field)
    C1  convolution 6@5×5      -> 6×28×28
    S2  subsampling 2×2        -> 6×14×14
    C3  convolution 16@5×5     -> 16×10×10
    S4  subsampling 2×2        -> 16×5×5
    C5  fully connected 120
    F6  fully connected 84
    output                     -> one score per class

Two modern defaults differ from the paper, both switchable: ReLU instead of the
scaled tanh (trains faster), and max instead of average subsampling. C3 connects
to all six S2 maps (the paper's sparse table saved 1998's compute, not accuracy).
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


class LeNet5(nn.Module):
    def __init__(self, num_classes: int = 10, activation: str = "relu", pool: str = "max"):
        super().__init__()
        self.config = {"num_classes": num_classes, "activation": activation, "pool": pool}
        self.act = {"relu": F.relu, "tanh": torch.tanh}[activation]
        self.pool = {"max": F.max_pool2d, "avg": F.avg_pool2d}[pool]
        self.c1 = nn.Conv2d(1, 6, kernel_size=5, padding=2)
        self.c3 = nn.Conv2d(6, 16, kernel_size=5)
        self.c5 = nn.Linear(16 * 5 * 5, 120)
        self.f6 = nn.Linear(120, 84)
        self.output = nn.Linear(84, num_classes)

    def features(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """The activations of each stage, for showing what the network sees."""
        x = (x - MNIST_MEAN) / MNIST_STD          # inputs arrive in [0, 1], ink bright
        c1 = self.act(self.c1(x))
        s2 = self.pool(c1, 2)
        c3 = self.act(self.c3(s2))
        s4 = self.pool(c3, 2)
        c5 = self.act(self.c5(s4.flatten(1)))
        f6 = self.act(self.f6(c5))
        return {"c1": c1, "s2": s2, "c3": c3, "s4": s4, "c5": c5, "f6": f6, "output": self.output(f6)}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = (x - MNIST_MEAN) / MNIST_STD
        x = self.pool(self.act(self.c1(x)), 2)
        x = self.pool(self.act(self.c3(x)), 2)
        x = self.act(self.c5(x.flatten(1)))
        x = self.act(self.f6(x))
        return self.output(x)
