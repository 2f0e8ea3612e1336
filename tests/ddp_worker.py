"""Run by torchrun in tests/test_cli.py: each rank trains through the common
trainer under DistributedDataParallel and writes its own weights for comparison.

    ddp_worker.py OUT            a plain run
    ddp_worker.py OUT nan        rank 1 alone meets a NaN loss at step 5
"""
import sys

import torch
import torch.distributed as dist
import torch.nn as nn
from torch.utils.data import TensorDataset

from models.core.trainer import Callback, TrainConfig, Trainer

dist.init_process_group("gloo")
rank = dist.get_rank()
g = torch.Generator().manual_seed(0)
x = torch.randn(256, 4, generator=g)
y = (x.sum(1) > 0).long()
torch.manual_seed(0)                      # the same initial weights on every rank


class PoisonRank1(Callback):
    def on_after_loss(self, t):
        if rank == 1 and t.step == 4:
            t.loss = t.loss * float("nan")


callbacks = [PoisonRank1()] if sys.argv[2:] == ["nan"] else []
model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
trainer = Trainer(model, config=TrainConfig(epochs=3, batch_size=16, lr=0.05, optimizer="sgd", seed=1),
                  callbacks=callbacks)
result = trainer.fit(TensorDataset(x, y), TensorDataset(x, y))
batches_seen = len(result.history.batches)
torch.save({"state": model.state_dict(), "batches": batches_seen, "status": str(result.status),
            "val": result.history.epochs[-1] if result.history.epochs else {}},
           f"{sys.argv[1]}/rank{rank}.pt")
dist.barrier()                            # both ranks done before the group goes, as models/train.py does
dist.destroy_process_group()
