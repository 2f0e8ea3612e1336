"""TypoNet: a character-level network that scores candidate corrections.

For a typed word and each of its candidates:

    chars(typo), chars(candidate)   a small convolutional encoder of each word's letters
    ops(typo -> candidate)          a bag of learnt embeddings of the edit operations
                                    (which slips people make, and where)
    numeric                         how common the candidate is, the edit distance, …
    score = MLP([t ⊙ c, |t − c|, ops, numeric])

and a softmax over the candidates gives P(intended word | what was typed): the
network learns both halves of the classic noisy channel, how people err and
which words they mean, from pairs made by the noise model.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from data.typos.features import N_CHARS, N_NUMERIC, OP_BUCKETS


def unique_rows(ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(distinct rows, index of each row among them) of an N×L tensor of character
    ids: torch.unique(dim=0) exactly, without its slow row-wise sort. Ids are below
    64, so ten characters pack into one int64 key and the rows sort as key tuples."""
    assert N_CHARS <= 64
    N, L = ids.shape
    # ten 6-bit ids fill bits 0-59 (a first shift of 60 pushed its top bits out of the int64:
    # "believe" and "relieve" were one row)
    shifts = torch.arange(54, -1, -6, device=ids.device)
    keys = [(ids[:, i:i + 10] << shifts[:ids[:, i:i + 10].shape[1]]).sum(1) for i in range(0, L, 10)]
    order = torch.arange(N, device=ids.device)
    for k in reversed(keys):                        # least significant first: a stable lexsort
        order = order[torch.sort(k[order], stable=True).indices]
    sorted_keys = torch.stack([k[order] for k in keys], 1)
    new = torch.ones(N, dtype=torch.bool, device=ids.device)
    new[1:] = (sorted_keys[1:] != sorted_keys[:-1]).any(1)
    group = new.cumsum(0) - 1
    where = torch.empty_like(group)
    where[order] = group
    return ids[order[new]], where


class CharEncoder(nn.Module):
    def __init__(self, dim: int = 64, emb: int = 32):
        super().__init__()
        self.embed = nn.Embedding(N_CHARS, emb, padding_idx=0)
        self.conv1 = nn.Conv1d(emb, dim, kernel_size=3, padding=1)
        self.conv2 = nn.Conv1d(dim, dim, kernel_size=3, padding=1)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:       # N×L -> N×dim
        # Columns that are padding in every row change nothing (padding embeds as zeros, as the
        # convolutions pad): cut them, all but one, which conv2 reads beside the last letter.
        # Words are 8 letters long on average, padded to 20: this halves the encoder's work.
        width = int((ids != 0).sum(1).max()) + 1
        ids = ids[:, :width]
        pad = (ids == 0).unsqueeze(1)
        x = self.embed(ids).transpose(1, 2)
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        return x.masked_fill(pad, -1e4).amax(dim=2).clamp(min=0)


class TypoNet(nn.Module):
    def __init__(self, dim: int = 64, op_dim: int = 32, hidden: int = 96):
        super().__init__()
        self.config = {"dim": dim, "op_dim": op_dim, "hidden": hidden}
        self.chars = CharEncoder(dim)
        self.ops = nn.EmbeddingBag(OP_BUCKETS, op_dim, mode="sum", padding_idx=0)
        self.hidden = nn.Linear(2 * dim + op_dim + N_NUMERIC, hidden)
        self.output = nn.Linear(hidden, 1)

    def forward(self, typo, cand, ops, numeric, mask) -> torch.Tensor:   # -> B×K scores
        B, K, L = cand.shape
        t = self.chars(typo).unsqueeze(1)                              # B×1×D
        # many candidates recur within a batch (and padding rows are all alike): encode each once
        rows, where = unique_rows(cand.reshape(B * K, L))
        c = self.chars(rows)[where].view(B, K, -1)                      # B×K×D
        o = self.ops(ops.reshape(B * K, -1)).view(B, K, -1)             # B×K×op_dim
        x = torch.cat([t * c, (t - c).abs(), o, numeric], dim=2)
        score = self.output(F.relu(self.hidden(x))).squeeze(2)
        return score.masked_fill(~mask, -1e4)
