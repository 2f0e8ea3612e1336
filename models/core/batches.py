"""Batches for the trainer: in-memory tensors are sliced (far faster than DataLoader's
per-item collate on two CPU cores), anything else goes through a DataLoader, and under
torchrun each rank gets its share through a DistributedSampler."""
from __future__ import annotations

import math
from typing import Any, Callable, Iterable

import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, Dataset, TensorDataset
from torch.utils.data.distributed import DistributedSampler


def to_device(x: Any, device: torch.device) -> Any:
    if isinstance(x, torch.Tensor):
        return x.to(device, non_blocking=True)
    if isinstance(x, (list, tuple)):
        return type(x)(to_device(v, device) for v in x)
    if isinstance(x, dict):
        return {k: to_device(v, device) for k, v in x.items()}
    return x


class TensorBatches:
    """Batches of a TensorDataset by slicing: far faster than DataLoader's
    per-item collate for the small in-memory tensors the suite trains on."""

    def __init__(self, ds: TensorDataset, batch_size: int, shuffle: bool, seed: int,
                 sampler: DistributedSampler | None = None):
        self.tensors, self.batch_size, self.shuffle = ds.tensors, batch_size, shuffle
        self.seed, self.sampler, self.epoch = seed, sampler, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        if self.sampler is not None:
            self.sampler.set_epoch(epoch)

    def __len__(self) -> int:
        n = len(self.sampler) if self.sampler is not None else len(self.tensors[0])
        return math.ceil(n / self.batch_size)

    def __iter__(self):
        if self.sampler is not None:
            order = torch.tensor(list(iter(self.sampler)))
        elif self.shuffle:
            g = torch.Generator().manual_seed(self.seed + self.epoch)
            order = torch.randperm(len(self.tensors[0]), generator=g)
        else:
            order = torch.arange(len(self.tensors[0]))
        for i in range(0, len(order), self.batch_size):
            idx = order[i:i + self.batch_size]
            parts = [t[idx] for t in self.tensors]
            # the last tensor is the target; several inputs travel as one tuple: model(*inputs)
            yield (parts[0] if len(parts) == 2 else tuple(parts[:-1])), parts[-1]


def make_batches(ds: Dataset | DataLoader, batch_size: int, shuffle: bool, seed: int,
                 collate_fn: Callable | None = None) -> Iterable:
    if isinstance(ds, DataLoader):
        return ds
    sampler = None
    if dist.is_available() and dist.is_initialized():
        sampler = DistributedSampler(ds, shuffle=shuffle, seed=seed)
    if isinstance(ds, TensorDataset) and collate_fn is None:
        return TensorBatches(ds, batch_size, shuffle, seed, sampler)
    g = torch.Generator().manual_seed(seed)
    return DataLoader(ds, batch_size=batch_size, shuffle=shuffle and sampler is None,
                      sampler=sampler, generator=g, collate_fn=collate_fn)
