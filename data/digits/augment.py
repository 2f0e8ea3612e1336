"""Training-time augmentation for digit batches, done on whole batches at once
(affine_grid + grid_sample) because per-image PIL transforms would dominate the
training time on two CPU cores.

Small rotations, scalings, shears and shifts, and stroke thickness changes, so
that the network meets drawings that are off-centre, thin or fat: not only
MNIST's own pixels.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F


class DigitAugment:
    def __init__(self, rotate: float = 12.0, scale: float = 0.12, shear: float = 0.15,
                 shift: float = 2.0, thicken: float = 0.2, thin: float = 0.1, elastic: float = 0.0):
        self.rotate, self.scale, self.shear, self.shift = rotate, scale, shear, shift
        self.thicken, self.thin, self.elastic = thicken, thin, elastic

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        dev = x.device
        u = lambda lo, hi: torch.empty(n, device=dev).uniform_(lo, hi)  # noqa: E731
        angle = u(-self.rotate, self.rotate) * math.pi / 180
        s = 1 + u(-self.scale, self.scale)
        sh = u(-self.shear, self.shear)
        cos, sin = torch.cos(angle), torch.sin(angle)
        theta = torch.zeros(n, 2, 3, device=dev)
        # inverse map (output -> input coordinates), so dividing by the scale enlarges
        theta[:, 0, 0] = cos / s
        theta[:, 0, 1] = (-sin + sh) / s
        theta[:, 1, 0] = sin / s
        theta[:, 1, 1] = cos / s
        theta[:, 0, 2] = u(-self.shift, self.shift) * 2 / w
        theta[:, 1, 2] = u(-self.shift, self.shift) * 2 / h
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        if self.elastic:
            # elastic distortion (Simard et al. 2003): a smooth random displacement field,
            # made by upsampling coarse noise, of up to `elastic` pixels
            field = torch.empty(n, 2, 4, 4, device=dev).uniform_(-1, 1)
            field = F.interpolate(field, size=(h, w), mode="bicubic", align_corners=False)
            grid = grid + field.permute(0, 2, 3, 1) * (2 * self.elastic / w)
        x = F.grid_sample(x, grid, align_corners=False, padding_mode="zeros")
        r = torch.rand(n, 1, 1, 1, device=dev)
        thick = F.max_pool2d(x, 3, stride=1, padding=1)
        thin = 0.5 * x + 0.5 * -F.max_pool2d(-x, 3, stride=1, padding=1)
        x = torch.where(r < self.thicken, thick, torch.where(r < self.thicken + self.thin, thin, x))
        return x.clamp_(0, 1)
