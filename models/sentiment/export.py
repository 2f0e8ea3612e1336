"""What an ONNX copy of SentiNet takes, and what its caller must do first (models/core/export.py).

SentiNet reads packed sequences, which no exporter follows. ExportableSentiNet computes the same
outputs from the padded batch: the forward direction runs over the padding too (its states
there are masked out of the pooling, as pad_packed_sequence's zeros were), and the backward
direction reads each text reversed within its own length, so it starts at the text's last
token, as the packed sequence did.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from data.sentiment.text import BUCKETS, MAX_TOKENS, PIECES, Vocabulary, encode, lexicon
from models.core.export import ExportSpec
from models.sentiment.net import CELLS

SAMPLE_TEXTS = ["A gorgeous, witty, seductive movie.", "The plot is thin and the jokes fall flat.",
                "not bad at all", "I wouldn't watch it again, even for free!! 😡", "ok",
                "An uneven film whose best moments can't quite save a script that drags on and on."]


class ExportableSentiNet(nn.Module):
    def __init__(self, net):
        super().__init__()
        cfg = net.config
        self.net, self.dirs = net, 2 if cfg["bidirectional"] else 1
        extra = {"nonlinearity": "tanh"} if cfg["cell"] == "rnn" else {}
        # one single-layer, one-way copy of the recurrent layer per layer and direction
        self.cells = nn.ModuleList()
        for layer in range(cfg["layers"]):
            for d in range(self.dirs):
                rnn = net.rnn
                cell = CELLS[cfg["cell"]](rnn.input_size if layer == 0 else rnn.hidden_size * self.dirs,
                                          rnn.hidden_size, batch_first=True, **extra)
                suffix = f"_l{layer}" + ("_reverse" if d else "")
                with torch.no_grad():
                    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                        getattr(cell, name + "_l0").copy_(getattr(rnn, name + suffix))
                self.cells.append(cell.eval())

    def forward(self, ids, pieces, lex, lengths):
        net = self.net
        x = net.embed(ids, pieces, lex)
        T = x.shape[1]
        steps = torch.arange(T, device=x.device)[None, :]
        valid = steps < lengths[:, None]
        # position t of the reversed text is token len-1-t; the padding stays where it is
        back = torch.where(valid, lengths[:, None] - 1 - steps, steps).unsqueeze(-1)
        last = (lengths - 1).clamp(min=0)[:, None, None]
        final = []
        for layer in range(len(self.cells) // self.dirs):
            fwd = self.cells[layer * self.dirs](x)[0]
            outs, final = [fwd], [fwd.gather(1, last.expand(-1, 1, fwd.shape[2]))[:, 0]]
            if self.dirs == 2:
                rev = x.gather(1, back.expand(-1, -1, x.shape[2]))
                bwd = self.cells[layer * 2 + 1](rev)[0].gather(1, back.expand(-1, -1, fwd.shape[2]))
                outs.append(bwd)
                final.append(bwd[:, 0])          # the backward direction ends at the first token
            x = torch.cat(outs, dim=-1)
        if net.config["pool"] == "last":
            h = torch.cat(final, dim=-1)
        else:
            mask = valid.unsqueeze(-1)
            mean = (x * mask).sum(1) / mask.sum(1)
            top = x.masked_fill(~mask, -1e4).max(1).values
            h = torch.cat([top, mean], dim=-1)
        return net.output(torch.relu(net.hidden(h)))


def padded(inputs: tuple, more: int) -> tuple:
    """The same texts with `more` padding tokens beyond the longest: the file reads them as the model does."""
    ids, pieces, lex, lengths = inputs
    pad = lambda t: torch.nn.functional.pad(t, (0, 0, 0, more) if t.ndim == 3 else (0, more))  # noqa: E731
    return pad(ids), pad(pieces), pad(lex), lengths


def export_spec(model, card: dict) -> ExportSpec:
    vocab = Vocabulary(card["arch"]["vocabulary"])
    samples = [encode(SAMPLE_TEXTS, vocab).tensors(), encode(SAMPLE_TEXTS[:1], vocab).tensors(),
               padded(encode(SAMPLE_TEXTS[2:5], vocab).tensors(), 9)]
    tokens = {0: "batch", 1: "tokens"}
    return ExportSpec(
        module=ExportableSentiNet(model), names=["ids", "pieces", "lex", "lengths"], example=samples[0],
        dynamic={"ids": tokens, "pieces": tokens, "lex": tokens, "lengths": {0: "batch"}}, samples=samples,
        meaning={"ids": "int64 (batch, tokens): each token's row in arch.vocabulary (1 = not in it), 0-padded",
                 "pieces": f"int64 (batch, tokens, {PIECES}): hashed sub-word pieces of each token, 0-padded",
                 "lex": "float32 (batch, tokens): each token's valence in onnx.lexicon (0 where it has none)",
                 "lengths": "int64 (batch,): how many tokens each text has (at least 1); the tokens axis may "
                            "be longer, as the longest text of the batch"},
        output=f"one score per label ({', '.join(card['labels'])}); softmax over them gives the probabilities",
        caller_must={
            "summary": "tokenise as data.sentiment.text.tokenize does, then look each token up three ways",
            "steps": ["normalise: Unicode NFKC, \u2019 and ` -> ', lower-case; URLs -> <url>, @names -> <user>; "
                      "\"n't\" and 's 're 'm 've 'll 'd split off as SST-2 does (\"don't\" -> do n't, "
                      "\"can't\" -> ca n't, \"cannot\" -> can not); a letter repeated 3+ times -> twice",
                      "tokens: <url>, <user>, n't, the clitics, runs of letters and digits (hyphenated runs "
                      "stay whole), and every other non-space character alone (punctuation, emoji); "
                      "combining marks and joiners alone are dropped",
                      f"keep the first {MAX_TOKENS} tokens; an empty text is the one token <unk>",
                      "ids: the token's index in the card's arch.vocabulary, 1 (<unk>) if absent, 0 pads",
                      f"pieces: for w = '<' + token + '>': w itself, its prefixes of 4, 5, 6 characters and "
                      f"suffixes of 4, 5, 6 characters (each only where len(w) > n + 1), each as "
                      f"1 + zlib.crc32(piece.encode('utf-8')) % {BUCKETS - 1}; up to {PIECES}, 0-padded",
                      "lex: onnx.lexicon[token], 0.0 if absent (VADER's valence / 4; emoji: the mean of the "
                      "words of their names)",
                      "lengths: tokens per text; pad every row to the batch's longest with zeros"],
            "reference": "data.sentiment.text.encode(texts, Vocabulary(card['arch']['vocabulary'])).tensors() "
                         "in this project builds the four inputs"},
        extra={"lexicon": {w: v for w, v in lexicon().items() if v}},
        # torch.export unrolls the LSTM's shape function and fixes the tokens axis to the example's:
        # the TorchScript exporter keeps it free (ONNX's LSTM op reads any length)
        dynamo=False)
