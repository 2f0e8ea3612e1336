"""Training-time augmentation of log-mel batches (B, 1, mels, frames, in dB below
each clip's peak, floored at -80), done on whole batches because the clips' log-mels
are computed once and the network trains on those.

Every perturbation has its spectrogram-domain equivalent:
- time shift and speed: a shift and a stretch of the time axis;
- pitch: a shift along the mel axis (mel is close to log-frequency, where a
  pitch change is a translation);
- volume and added noise: the clip is scaled and mixed in the power domain with
  white, pink or brown noise, real background noise (Speech Commands' recordings of
  dishes, a running tap, an exercise bike... where the training data has them), or
  another clip of the batch (background speech), at a random signal-to-noise ratio;
- SpecAugment (Park et al. 2019): frequency and time masks.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from data.speech.audio import CLIP_SAMPLES, TOP_DB, LogMel, noise, normalise_db


def noise_bank(per_kind: int = 16, seed: int = 0) -> torch.Tensor:
    """Log-mels (unnormalised dB) of white, pink and brown noise at full scale."""
    g = torch.Generator().manual_seed(seed)
    waves = torch.stack([noise(k, CLIP_SAMPLES, g) for k in ("white", "pink", "brown") for _ in range(per_kind)])
    with torch.no_grad():
        return LogMel().power(waves)


class SpeechAugment:
    def __init__(self, shift: int = 8, speed: float = 0.12, pitch: float = 1.5, noise_p: float = 0.6,
                 snr_db: tuple[float, float] = (10.0, 40.0), mix_p: float = 0.2, freq_masks: int = 1,
                 freq_width: int = 5, time_masks: int = 1, time_width: int = 4,
                 background: torch.Tensor | None = None):
        self.shift, self.speed, self.pitch = shift, speed, pitch
        self.noise_p, self.snr_db, self.mix_p = noise_p, snr_db, mix_p
        self.freq_masks, self.freq_width = freq_masks, freq_width
        self.time_masks, self.time_width = time_masks, time_width
        self.noises = noise_bank()
        if background is not None and len(background):      # (N, 16000) real noise, 1 s each
            with torch.no_grad():
                self.noises = torch.cat([self.noises, LogMel().power(background)])

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        x = self.warp(x)
        x = self.add_noise(x)
        return self.mask(x)

    def warp(self, x: torch.Tensor) -> torch.Tensor:
        n, _, m, t = x.shape
        u = lambda a: torch.empty(n, device=x.device).uniform_(-a, a)  # noqa: E731
        theta = torch.zeros(n, 2, 3, device=x.device)
        theta[:, 0, 0] = 1 + u(self.speed)                 # time stretch (grid x = frames)
        theta[:, 0, 2] = u(self.shift) * 2 / t              # time shift, in frames
        theta[:, 1, 1] = 1.0
        theta[:, 1, 2] = u(self.pitch) * 2 / m              # pitch, in mel bands
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        # shifted in from outside is the floor (-80 dB), not 0 dB: sample x + 80, pad with zeros
        return F.grid_sample(x + TOP_DB, grid, align_corners=False, padding_mode="zeros") - TOP_DB

    def add_noise(self, x: torch.Tensor) -> torch.Tensor:
        n = len(x)
        power = 10 ** (x / 10)
        pick = torch.randint(len(self.noises), (n,))
        bg = 10 ** (normalise_db(self.noises[pick].to(x.device)) / 10)
        if n > 1:
            # another clip of the batch as background speech
            other = power.roll(1, 0)
            use_other = (torch.rand(n, 1, 1, 1, device=x.device) < self.mix_p).float()
            bg = use_other * other + (1 - use_other) * bg
        snr = torch.empty(n, 1, 1, 1, device=x.device).uniform_(*self.snr_db)
        # SNR between the loudest cells; the noise is loud relative to the clip as the volume drops
        gain = 10 ** (-snr / 10) * (torch.rand(n, 1, 1, 1, device=x.device) < self.noise_p).float()
        return normalise_db(10 * torch.log10(power + gain * bg + 1e-10))

    def mask(self, x: torch.Tensor) -> torch.Tensor:
        n, _, m, t = x.shape
        # masked cells take the clip's mean level, as in SpecAugment: a band at the -80 dB floor
        # never occurs in real audio and would itself become a feature
        fill = x.mean(dim=(2, 3), keepdim=True)
        for size, width, count in ((m, self.freq_width, self.freq_masks), (t, self.time_width, self.time_masks)):
            for _ in range(count):
                w = torch.randint(0, width + 1, (n,))
                start = (torch.rand(n) * (size - w)).long()
                pos = torch.arange(size)
                hit = ((pos[None] >= start[:, None]) & (pos[None] < (start + w)[:, None])).to(x.device)
                shape = (n, 1, size, 1) if size == m else (n, 1, 1, size)
                x = torch.where(hit.view(shape), fill, x)
        return x
