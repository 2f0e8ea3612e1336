"""SentiNet: embeddings -> a recurrent layer read by backprop through time -> pooling -> classifier.

Each token enters as three things side by side: its word vector (GloVe's, with
WordLlama's columns beside them if asked; frozen or fine-tuned; the words the training data never
had keep their pretrained meaning), the sum of its hashed sub-word pieces (learnt: covers
unseen words, names, slang, emoji), and its lexicon valence (one number). The recurrent
layer is a plain RNN, an LSTM or a GRU, one- or two-way, one or more layers, over packed
variable-length sequences.
"""
from __future__ import annotations

import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from data.sentiment.text import BUCKETS

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class TokenEmbedding(nn.Module):
    def __init__(self, vocab_size: int, word_dim: int, piece_dim: int, freeze_words: bool):
        super().__init__()
        self.words = nn.Embedding(vocab_size, word_dim, padding_idx=0)
        self.words.weight.requires_grad_(not freeze_words)
        self.pieces = nn.Embedding(BUCKETS, piece_dim, padding_idx=0)
        nn.init.normal_(self.pieces.weight, std=0.1)
        with torch.no_grad():
            self.pieces.weight[0].zero_()
        self.dim = word_dim + piece_dim + 1

    def forward(self, ids, pieces, lex):
        n = (pieces > 0).sum(-1, keepdim=True).clamp(min=1)
        sub = self.pieces(pieces).sum(-2) / n.sqrt()
        return torch.cat([self.words(ids), sub, lex.unsqueeze(-1)], dim=-1)


class SentiNet(nn.Module):
    def __init__(self, vocab_size: int, num_classes: int = 2, word_dim: int = 50, piece_dim: int = 50,
                 cell: str = "lstm", hidden: int = 128, layers: int = 1, bidirectional: bool = True,
                 pool: str = "maxmean", dropout: float = 0.3, freeze_words: bool = True):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"unknown cell {cell!r}: use rnn, lstm or gru")
        if pool not in ("last", "maxmean"):
            raise ValueError(f"unknown pool {str(pool)[:20]!r}: use last or maxmean")
        self.config = dict(vocab_size=vocab_size, num_classes=num_classes, word_dim=word_dim, piece_dim=piece_dim,
                           cell=cell, hidden=hidden, layers=layers, bidirectional=bidirectional, pool=pool,
                           dropout=dropout, freeze_words=freeze_words)
        self.embed = TokenEmbedding(vocab_size, word_dim, piece_dim, freeze_words)
        self.drop = nn.Dropout(dropout)
        extra = {"nonlinearity": "tanh"} if cell == "rnn" else {}
        self.rnn = CELLS[cell](self.embed.dim, hidden, num_layers=layers, batch_first=True,
                               bidirectional=bidirectional, dropout=dropout if layers > 1 else 0.0, **extra)
        width = hidden * (2 if bidirectional else 1) * (2 if pool == "maxmean" else 1)
        self.hidden = nn.Linear(width, hidden)
        self.output = nn.Linear(hidden, num_classes)

    def forward(self, ids, pieces, lex, lengths):
        ids, pieces, lex = ids[:, :int(lengths.max())], pieces[:, :int(lengths.max())], lex[:, :int(lengths.max())]
        return self.classify(self.embed(ids, pieces, lex), lengths)

    def classify(self, x, lengths):
        """From the token vectors (B, T, D) on: what backprop through time flows back into."""
        states, final = self.read(self.drop(x), lengths)
        if self.config["pool"] == "last":
            h = final
        else:
            mask = (torch.arange(states.shape[1], device=x.device)[None, :] < lengths[:, None].to(x.device))
            mask = mask.unsqueeze(-1)
            mean = (states * mask).sum(1) / mask.sum(1)
            top = states.masked_fill(~mask, -1e4).max(1).values
            h = torch.cat([top, mean], dim=-1)
        return self.output(self.drop(torch.relu(self.hidden(self.drop(h)))))

    def read(self, x, lengths):
        """The recurrent layer over a padded batch: states (B, T, H·dirs) and the final state."""
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, h = self.rnn(packed)
        states, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
        h = h[0] if isinstance(h, tuple) else h          # an LSTM also returns its cell state
        dirs = 2 if self.config["bidirectional"] else 1
        final = torch.cat([h[-d] for d in range(dirs, 0, -1)], dim=-1)   # last layer, both directions
        return states, final
